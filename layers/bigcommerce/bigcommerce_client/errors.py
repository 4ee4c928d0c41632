"""Typed errors, each with a message a store owner can act on.

No message, repr or attribute of these ever carries the access token: they are built from
the store hash, the method and the API path only.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any


class BigCommerceError(Exception):
    """Base of every error the client raises."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        store_hash: str,
        method: str = "",
        path: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.store_hash = store_hash
        self.method = method
        self.path = path
        self.status = status

    def __str__(self) -> str:
        where = f" [{self.method} {self.path}]" if self.method else ""
        return f"{self.message}{where}"


class AuthenticationError(BigCommerceError):
    """401: the token is wrong, revoked, or belongs to another store."""


class MissingScopeError(BigCommerceError):
    """403: the API account lacks a scope; `scope` names it when the endpoint is known."""

    def __init__(self, message: str, *, scope: str | None, **where: Any) -> None:
        super().__init__(message, **where)
        self.scope = scope


class NotFoundError(BigCommerceError):
    """404: the resource (or, for the store probe, the store) does not exist."""


class UnknownStoreError(NotFoundError):
    """No store answers to this store hash."""


class UnprocessableError(BigCommerceError):
    """422: BigCommerce refused the request body; `errors` maps field or item to its reason.

    (Named for the status, so it never shadows pydantic's `ValidationError` where both are imported.)"""

    def __init__(
        self,
        message: str,
        *,
        errors: dict[str, str] | None = None,
        item_indexes: tuple[int, ...] = (),
        **where: Any,
    ) -> None:
        super().__init__(message, **where)
        self.errors = errors or {}
        self.item_indexes = item_indexes


# The earlier name, kept for callers outside this repository until they move to UnprocessableError.
ValidationError = UnprocessableError


class RequestRejectedError(BigCommerceError):
    """Any other 4xx: the request itself is wrong (a bug on our side, not a store problem)."""


class RetryLaterError(BigCommerceError):
    """The store's API budget is spent; `retry_at` (epoch seconds) is when it returns.

    A job catches this, saves its checkpoint and re-queues itself for `retry_at`.
    """

    def __init__(self, message: str, *, retry_at: float | None, **where: Any) -> None:
        super().__init__(message, **where)
        self.retry_at = retry_at

    def retry_at_text(self) -> str:
        if self.retry_at is None:
            return "after a back-off"
        return datetime.fromtimestamp(self.retry_at, tz=UTC).isoformat(timespec="seconds")


class RateLimitedError(RetryLaterError):
    """429 from BigCommerce (the store's quota, or platform load when there are no headers).

    `retry_after` is the store's `X-Rate-Limit-Time-Reset-Ms` in seconds, or None without headers.
    """

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None, retry_at: float | None, **where: Any) -> None:
        super().__init__(message, retry_at=retry_at, **where)
        self.retry_after = retry_after


class BudgetExhaustedError(RetryLaterError):
    """Our governor refused to go below the reserve left for the store's other apps."""


class ServerError(BigCommerceError):
    """5xx from BigCommerce."""

    retryable = True


class NetworkError(BigCommerceError):
    """Timeout or dropped connection: the request may or may not have been acted on."""

    retryable = True


class MalformedResponseError(BigCommerceError):
    """A body that is not JSON, or JSON cut short, or not the shape the endpoint returns."""

    retryable = True


# "[Item with variant_id 106 is tracked by product, please update stock by product id]"
_NAMED_ITEM = re.compile(r"\b(variant_id|product_id|sku|order_product_id|order_address_id) ([\w.-]+)")


def parse_validation_body(body: Any) -> tuple[str, dict[str, str], tuple[int, ...]]:
    """BigCommerce's 422 bodies: v3 `{title, errors: {field: reason}}`, v2 `[{status, message}]`.

    Returns the message, the per-field errors and the indexes of request items they name
    (`items.3.variant_id` or `3.variant_id` → 3), so a caller can drop those and resend the rest.
    """
    message = "BigCommerce refused the request"
    errors: dict[str, str] = {}
    if isinstance(body, list):
        texts = [str(entry.get("message", "")) for entry in body if isinstance(entry, dict)]
        message = "; ".join(text for text in texts if text) or message
    elif isinstance(body, dict):
        # The payment actions' refusals come as `{data: [{status, title}]}` (orders.v3.yml, "Create a Refund").
        first = body["data"][0] if isinstance(body.get("data"), list) and body["data"] else {}
        message = str(body.get("title") or body.get("detail") or (first.get("title") if isinstance(first, dict) else "")
                      or message)  # fmt: skip
        raw = body.get("errors")
        if isinstance(raw, dict):
            errors = {str(key): str(value) for key, value in raw.items()}
        elif isinstance(raw, list):
            errors = {str(index): str(value) for index, value in enumerate(raw)}
    for match in _NAMED_ITEM.finditer(message):
        errors.setdefault(match.group(1), match.group(2))
    indexes: set[int] = set()
    for key in errors:
        for part in key.split(".")[:2]:
            if part.isdigit():
                indexes.add(int(part))
                break
    return message, errors, tuple(sorted(indexes))
