"""Webhooks: BigCommerce says something changed; we mark the store's job due, once per window.

A delivery never fetches the resource it names. An order or product change opens a debounce
window on the store's job (`JobState.mark_due`) and queues one job message due at the window's
end; every change inside the window is covered by that one list query. A product deletion
carries the id a delta query cannot see, so it queues an archive of that product at once.

Duplicates (BigCommerce delivers again what it thinks failed, for about two days) are dropped only
where one would do harm, since a Powertools idempotency record costs two writes on every delivery:

- Order, product and SKU changes, shipments, a source store's stock: no record. A duplicate is a
  delivery like any other: inside an open window it coalesces at no write (a read-back one notes its
  news again, one write); later, it opens a window whose run finds nothing new (for read back, the
  noted order's shipments listed once more, no event). However many copies come, the debounce makes
  them at most one run per window, as genuine changes would.
- `store/product/deleted`: a record (`DUPLICATE_WINDOW_SECONDS`). A deletion is not debounced: each copy
  would queue an archive and start a product sync run of its own, without bound, where the record makes
  every copy after the first cost one write and nothing else. Deletions are few; so are their records.

Every genuine delivery gets a 2xx, duplicates included (a non-2xx makes BigCommerce retry and,
in the end, deactivate the hook). 401, 400 and 413 go only to requests that are not genuine:
no or wrong secret (or, for a store that installed the app, no signature, a wrong one, or one too
old: `bcsync.webhooks.signature`), a body that is not a BigCommerce delivery, one larger than any.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bcsync.backbone.idempotency import flag_duplicate
from bcsync.backbone.messages import JobMessage, JobQueue, queue_when_due
from bcsync.errors import CredentialsError
from bcsync.store import keys
from bcsync.store.jobs import JobState
from bcsync.store.settings import JobName
from bcsync.webhooks.signature import SignatureRefusal, SignedDeliveries
from bigcommerce_client import Clock, validate_store_hash

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from bcsync.store.credentials import CredentialStore


# BigCommerce echoes the custom headers a hook was registered with on every delivery.
SECRET_HEADER = "X-Bcsync-Webhook-Secret"  # noqa: S105 - a header's name
# BigCommerce's payloads carry ids only (a few hundred bytes); anything near this is not one of them.
MAX_BODY_BYTES = 16_384
DEFAULT_DEBOUNCE_SECONDS = 15.0  # as RuntimeConfig.webhook_debounce_seconds, the stack's setting
# BigCommerce retries a failed delivery for up to about two days: remember what we took that long.
DUPLICATE_WINDOW_SECONDS = 2 * 86_400

PRODUCT_DELETED = "store/product/deleted"
# The scopes the jobs need, and which job each one makes due. No inventory scopes: our own
# absolute pushes would fire them.
HOOK_SCOPES: dict[str, JobName] = {
    "store/order/created": "order_import",
    "store/order/updated": "order_import",
    "store/order/statusUpdated": "order_import",
    "store/product/created": "product_sync",
    "store/product/updated": "product_sync",
    PRODUCT_DELETED: "product_sync",
    "store/sku/created": "product_sync",
    "store/sku/updated": "product_sync",
    "store/sku/deleted": "product_sync",
}

# --- read back: shipments made in BigCommerce (every store), a source store's stock --------------------------
# A shipment delivery names its order (`data.orderId`), an inventory one its variant or product: the receiver
# notes it as news for the store's read back (`news`), then marks the job due like any other.
SHIPMENT_SCOPES = ("store/shipment/created", "store/shipment/updated", "store/shipment/deleted")
# One hook for the three (BigCommerce's documented wildcard): a store's connect costs one call more, not three.
SHIPMENT_HOOK = "store/shipment/*"
HOOK_SCOPES[SHIPMENT_HOOK] = "readback"
# Registered only for a store that is a source (`ensure_hooks(source=True)`): on a sales channel they would
# fire on every push bcsync makes. Read back tells its own pushes apart by what the push last sent.
SOURCE_HOOK_SCOPES: dict[str, JobName] = dict.fromkeys(
    (
        "store/product/inventory/updated",
        "store/product/inventory/order/updated",
        "store/sku/inventory/updated",
        "store/sku/inventory/order/updated",
    ),
    "readback",
)
NoteNews = Callable[[str, str, float], None]  # (store hash, subject, when)


def readback_subject(scope: str, data: DeliveryData) -> str | None:
    """The news a read-back delivery brings (`NEWS#ORDER#251`, `NEWS#STOCK#v509`), None when it names none."""
    extra = data.model_extra or {}
    if scope in SHIPMENT_SCOPES:
        order_id = extra.get("orderId")
        return f"{keys.NEWS_ORDER_PREFIX}{order_id}" if isinstance(order_id, int) and order_id > 0 else None
    inventory = extra.get("inventory")
    if scope in SOURCE_HOOK_SCOPES and isinstance(inventory, dict):
        variant_id, product_id = inventory.get("variant_id"), inventory.get("product_id")
        if isinstance(variant_id, int) and variant_id > 0:
            return f"{keys.NEWS_STOCK_PREFIX}v{variant_id}"
        if isinstance(product_id, int) and product_id > 0:
            return f"{keys.NEWS_STOCK_PREFIX}p{product_id}"
    return None


Outcome = Literal["accepted", "duplicate", "ignored", "rejected"]
RejectReason = Literal[
    "too_large", "unknown_store", "missing_secret", "wrong_secret", "malformed", "wrong_store", SignatureRefusal
]


class DeliveryData(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = Field(min_length=1, max_length=64)
    id: int = Field(ge=0)


class Delivery(BaseModel):
    """A BigCommerce webhook payload (docs/webhooks/callbacks in the API specs)."""

    model_config = ConfigDict(extra="ignore")

    scope: str = Field(pattern=r"^store/[A-Za-z/_*]{1,100}$")
    store_id: str = Field(max_length=32)
    data: DeliveryData
    hash: str = Field(min_length=1, max_length=128)
    created_at: int = Field(ge=0)
    producer: str = Field(max_length=64)


@dataclass(frozen=True)
class Verdict:
    status: int
    outcome: Outcome
    reason: RejectReason | None = None
    action: str = ""  # queued | coalesced | archive | ignored

    def body(self) -> dict[str, str]:
        # Rejections say only what an honest sender needs to fix; nothing about the store or its secret.
        # Every 401 reads the same, so a stranger cannot tell a connected store from any other hash
        # (the log line and the metric keep the exact reason).
        reason = "unauthorized" if self.status == 401 else self.reason
        return {"outcome": self.outcome, **({"reason": reason} if reason else {})}


def _reject(status: int, reason: RejectReason) -> Verdict:
    return Verdict(status=status, outcome="rejected", reason=reason)


class WebhookReceiver:
    def __init__(
        self,
        *,
        credentials: CredentialStore,
        job_state: JobState,
        queues: Mapping[JobName, JobQueue],
        clock: Clock,
        persistence: BasePersistenceLayer,
        debounce_seconds: float = DEFAULT_DEBOUNCE_SECONDS,
        app_signing: Callable[[], SignedDeliveries | None] = lambda: None,
        news: NoteNews | None = None,
    ) -> None:
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

        missing = sorted(set(HOOK_SCOPES.values()) - set(queues))
        if missing:
            raise ValueError(f"the webhook receiver needs the job queues of {', '.join(missing)}")
        self._credentials = credentials
        self._job_state = job_state
        self._queues = queues
        self._clock = clock
        self._debounce = debounce_seconds
        self._app_signing = app_signing
        self._news = news
        # A retried delivery repeats scope, hash and created_at; two real changes of one order may
        # share a hash (it covers `data` only) but not created_at as well.
        self._idempotency = IdempotencyConfig(
            event_key_jmespath="[store_hash, scope, hash, created_at]",
            expires_after_seconds=DUPLICATE_WINDOW_SECONDS,
            response_hook=flag_duplicate,
        )
        # Only deletions keep a record (the module's docstring says why).
        self._archive_once: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="delivery", persistence_store=persistence, config=self._idempotency
        )(self._archive)

    def receive(
        self, *, store_hash: str, headers: Mapping[str, str], body: str, context: LambdaContext | None = None
    ) -> Verdict:
        if len(body.encode()) > MAX_BODY_BYTES:
            return _reject(413, "too_large")
        try:
            validate_store_hash(store_hash)
            credentials = self._credentials.get(store_hash)
        except (ValueError, CredentialsError):
            return _reject(401, "unknown_store")
        signing = self._app_signing()
        if signing is not None and credentials.client_id == signing.client_id:
            # A store that installed the app: BigCommerce signs its deliveries (Standard Webhooks), and a
            # delivery must be signed lately with the app's client secret.
            refused = signing.check(headers, body, now=self._clock.now())
            if refused is not None:
                return _reject(401, refused)
        else:
            # A store connected with a store-level API account: the secret its hooks were registered with.
            expected = credentials.webhook_secret.get_secret_value()
            given = next((value for name, value in headers.items() if name.lower() == SECRET_HEADER.lower()), None)
            if not given:
                return _reject(401, "missing_secret")
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return _reject(401, "wrong_secret")
        try:
            delivery = Delivery.model_validate(json.loads(body))
        except (ValueError, ValidationError):
            return _reject(400, "malformed")
        if delivery.producer != f"stores/{store_hash}":
            # A delivery naming store A, sent to store B's endpoint with B's secret, is never B's.
            return _reject(400, "wrong_store")
        fields = {
            "store_hash": store_hash,
            "scope": delivery.scope,
            "hash": delivery.hash,
            "created_at": delivery.created_at,
            "resource_id": delivery.data.id,
            "news": readback_subject(delivery.scope, delivery.data),
        }
        if delivery.scope == PRODUCT_DELETED:
            if context is not None:
                self._idempotency.register_lambda_context(context)
            answer = self._archive_once(delivery=fields)
        else:
            answer = self._route(fields)
        if answer.get("duplicate"):
            return Verdict(status=200, outcome="duplicate", action=str(answer.get("action", "")))
        outcome: Outcome = "ignored" if answer["action"] == "ignored" else "accepted"
        return Verdict(status=200, outcome=outcome, action=str(answer["action"]))

    def _route(self, delivery: dict[str, Any]) -> dict[str, Any]:
        store_hash, scope = str(delivery["store_hash"]), str(delivery["scope"])
        job = (
            HOOK_SCOPES.get(scope)
            or SOURCE_HOOK_SCOPES.get(scope)
            or ("readback" if scope in SHIPMENT_SCOPES else None)
        )
        if job is None:
            return {"action": "ignored"}
        if job == "readback":
            if not delivery.get("news") or self._news is None:
                return {"action": "ignored"}
            # Noted before the window opens: the run the window queues reads it, whichever delivery opened it.
            self._news(store_hash, str(delivery["news"]), self._clock.now())
        message = JobMessage(job=job, store_hash=store_hash, trigger="webhook")
        if not queue_when_due(
            self._job_state, self._queues[job], message, now=self._clock.now(), debounce_seconds=self._debounce
        ):
            return {"action": "coalesced"}
        return {"action": "queued"}

    def _archive(self, delivery: dict[str, Any]) -> dict[str, Any]:
        """A product deletion: a delta query cannot see it, so its id goes to product sync at once."""
        store_hash = str(delivery["store_hash"])
        message = JobMessage(
            job=HOOK_SCOPES[PRODUCT_DELETED],
            store_hash=store_hash,
            trigger="webhook",
            options={"deleted_product_ids": [int(delivery["resource_id"])]},
        )
        self._queues[message.job].send(message)
        return {"action": "archive"}
