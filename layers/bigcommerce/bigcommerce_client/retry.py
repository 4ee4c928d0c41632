"""When and how long to wait before trying a BigCommerce request again (tenacity)."""

from __future__ import annotations

import random

from tenacity import RetryCallState
from tenacity.wait import wait_base, wait_random_exponential

from .errors import BigCommerceError, RetryLaterError

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})


class wait_for_bigcommerce(wait_base):  # noqa: N801 - tenacity's naming for wait strategies
    """Honour the store's reset time on a 429 that says it; otherwise exponential full jitter."""

    def __init__(self, *, initial: float = 0.5, maximum: float = 8.0, reset_jitter: float = 0.25) -> None:
        self._backoff = wait_random_exponential(multiplier=initial, max=maximum)
        self._reset_jitter = reset_jitter

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, float | int):
            # Jitter after the reset, so concurrent callers do not land on the same millisecond.
            return float(retry_after) + random.uniform(0, self._reset_jitter)
        return float(self._backoff(retry_state))


def should_retry(method: str, error: BaseException, max_wait_seconds: float) -> bool:
    """A POST is never retried here: BigCommerce may have acted on it, and only the caller
    (with its intent record and marker) can tell. Budget waits beyond `max_wait_seconds` go
    back to the caller as `RetryLaterError`, for a checkpoint instead of a long sleep."""
    if method.upper() not in IDEMPOTENT_METHODS:
        return False
    if not isinstance(error, BigCommerceError) or not error.retryable:
        return False
    retry_after = getattr(error, "retry_after", None)
    return not (isinstance(error, RetryLaterError) and retry_after is not None and retry_after > max_wait_seconds)
