"""Publishing to the bcsync event bus (docs/design.md, "Event bus"), at least once with a stable key.

Each event passes through the outbox: pending before PutEvents, published after. A crash in
between leaves it pending, and the job that produced it produces it again on its next run with
the same idempotency key, so the warehouse sees a duplicate it can drop, never a loss. A key
already published is not sent again. Entries over about 200 KB go to S3 (claim check) and the
event carries `data_ref` instead of `data`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from bcsync import __version__
from bcsync.aws import AwsClients
from bcsync.backbone import cutpoints
from bcsync.errors import PublishError
from bcsync.settings import RuntimeConfig
from bcsync.store.outbox import Outbox

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client


logger = logging.getLogger("bcsync.warehouse.events")

SOURCE = "bcsync"
# fmt: off
DetailType = Literal[
    "Order Ready", "Order Updated", "Order On Hold", "Order Cancelled", "Product Upserted", "Product Archived",
    "Return Recorded", "Refund Issued",
    # fulfillment requests: the answer about an order created in a source store
    "Fulfillment Request Accepted", "Fulfillment Request Refused",
]
# fmt: on
# `detail.schema_version`, per detail-type: what a consumer can expect of `data` (docs/warehouse-contract.md).
# Order events: 2 brought `hold` and `Order On Hold`; 3 adds, all optional, prices and declared value, customs
# data and options on the lines, shipping cost, state codes, form fields, pickup details, payment status and
# channel. Product Archived: 2 adds `reason` (hidden, deleted or sku_changed). The others are at 1.
SCHEMA_VERSIONS: dict[DetailType, int] = {
    "Order Ready": 3,
    "Order Updated": 3,
    "Order On Hold": 3,
    "Order Cancelled": 3,
    "Product Upserted": 1,
    "Product Archived": 2,
    "Return Recorded": 1,  # bcsync.returns
    "Refund Issued": 1,
    "Fulfillment Request Accepted": 1,  # bcsync.fulfilment
    "Fulfillment Request Refused": 1,
}
CLAIM_CHECK_BYTES = 200_000  # EventBridge takes 256 KB per entry, envelope included
PUT_EVENTS_BATCH = 10  # entries per PutEvents request, at most
# The entries of one PutEvents request together, by AWS's size formula (`entry_size`), at most.
PUT_EVENTS_MAX_BYTES = 256 * 1024
PUT_EVENTS_ATTEMPTS = 4

# --- read back: shipments made in BigCommerce by others, a source store's stock ---------------------------
# Detail types of their own (a Literal cannot be extended in place): `OutboundEvent.detail_type` takes them
# too, and each is at schema version 1.
ReadbackDetailType = Literal["Shipment Created", "Shipment Updated", "Shipment Deleted", "Stock Level Changed"]
SCHEMA_VERSIONS.update(
    {"Shipment Created": 1, "Shipment Updated": 1, "Shipment Deleted": 1, "Stock Level Changed": 1}  # type: ignore[dict-item]
)


def shipment_key(store_hash: str, shipment_id: int, revision: int | str) -> str:
    """`shipment:<store>:<BigCommerce shipment id>:r<n>` (r1: created), or `:deleted`."""
    return f"shipment:{store_hash}:{shipment_id}:{revision if isinstance(revision, str) else f'r{revision}'}"


def stock_key(store_hash: str, item_key: str, generation: int) -> str:
    """`stock:<store>:<v<variant>|p<product>@location>:g<n>`: the n-th level published for that item."""
    return f"stock:{store_hash}:{item_key}:g{generation}"


def order_key(store_hash: str, order_id: int, version: int) -> str:
    return f"order:{store_hash}:{order_id}:v{version}"


def product_key(store_hash: str, sku: str, content_hash: str) -> str:
    return f"product:{store_hash}:{sku}:{content_hash}"


@dataclass(frozen=True)
class OutboundEvent:
    detail_type: DetailType | ReadbackDetailType
    store_hash: str
    idempotency_key: str
    data: dict[str, Any]
    occurred_at: datetime = field(default_factory=lambda: datetime.now(tz=UTC))


@dataclass
class PublishResult:
    published: list[str] = field(default_factory=list)
    already_published: list[str] = field(default_factory=list)
    claim_checked: list[str] = field(default_factory=list)


def entry_size(entry: Mapping[str, Any]) -> int:
    """A PutEvents entry's size as EventBridge counts it ("Calculating PutEvents event entry size"): 14
    bytes for a Time, the UTF-8 bytes of Source, DetailType, Detail and of each Resources entry."""
    size = 14 if entry.get("Time") is not None else 0
    for name in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(name) or "").encode())
    return size + sum(len(str(resource).encode()) for resource in entry.get("Resources") or [])


def put_events_requests[T](entries: Sequence[tuple[T, dict[str, Any]]]) -> list[list[tuple[T, dict[str, Any]]]]:
    """The entries in PutEvents requests EventBridge accepts: at most ten each, and at most 256 KB together.
    Ten orders of 90 lines each are four requests, not one refused ten times over."""
    requests: list[list[tuple[T, dict[str, Any]]]] = []
    size = 0
    for item in entries:
        item_size = entry_size(item[1])
        if not requests or len(requests[-1]) == PUT_EVENTS_BATCH or size + item_size > PUT_EVENTS_MAX_BYTES:
            requests.append([])
            size = 0
        requests[-1].append(item)
        size += item_size
    return requests


class EventPublisher:
    def __init__(
        self,
        *,
        events: EventBridgeClient | Any,
        s3: S3Client | Any,
        outbox: Outbox,
        bus_name: str,
        bucket: str,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._events = events
        self._s3 = s3
        self._outbox = outbox
        self._bus = bus_name
        self._bucket = bucket
        self._sleep = sleep

    @classmethod
    def for_stack(cls, config: RuntimeConfig, aws: AwsClients | None = None) -> EventPublisher:
        """The publisher of a deployed (or local) stack, from its configuration."""
        aws = aws or AwsClients()
        return cls(
            events=aws.client("events"),
            s3=aws.client_when_used("s3"),
            # A key is remembered as published at least as long as the order record that can offer it again
            # (an unchanged order touched after a month is offered under the same key): no raw duplicate.
            outbox=Outbox(aws.table(config.state_table), retention_days=config.order_retention_days + 1),
            bus_name=config.event_bus,
            bucket=config.payload_bucket,
        )

    def publish(self, batch: Sequence[OutboundEvent], *, resend: bool = False) -> PublishResult:
        """`resend`: send again keys already published (an operator's resend: the warehouse lost them)."""
        result = PublishResult()
        to_send: list[tuple[OutboundEvent, dict[str, Any]]] = []
        # Skipping what the outbox says is published is only a saving: the conditional write below is
        # what keeps a key from going out twice.
        published = set() if resend else self._outbox.published_among([event.idempotency_key for event in batch])
        for event in batch:
            if event.idempotency_key in published or not self._outbox.mark_pending(
                event.idempotency_key, event.detail_type, force=resend
            ):
                result.already_published.append(event.idempotency_key)
                continue
            entry, claim_checked = self._entry(event)
            if claim_checked:
                result.claim_checked.append(event.idempotency_key)
            to_send.append((event, entry))
        cutpoints.reached(cutpoints.AFTER_OUTBOX_PENDING)
        refused: list[str] = []
        for chunk in put_events_requests(to_send):
            failed = {event.idempotency_key for event, _ in self._put_with_retries(chunk)}
            cutpoints.reached(cutpoints.AFTER_PUBLISH)  # sent, not yet marked: a crash here republishes
            refused.extend(sorted(failed))
            for event, _ in chunk:
                if event.idempotency_key not in failed:
                    self._outbox.mark_published(event.idempotency_key)
                    result.published.append(event.idempotency_key)
        if refused:
            raise PublishError(
                f"EventBridge refused {len(refused)} event(s) after {PUT_EVENTS_ATTEMPTS} attempts; they stay pending",
                failed_keys=refused,
            )
        return result

    def _entry(self, event: OutboundEvent) -> tuple[dict[str, Any], bool]:
        detail: dict[str, Any] = {
            "schema_version": SCHEMA_VERSIONS[event.detail_type],  # type: ignore[index]
            "store_hash": event.store_hash,
            "idempotency_key": event.idempotency_key,
            "occurred_at": event.occurred_at.isoformat(timespec="seconds"),
            "data": event.data,
        }
        # --- the release that published it (bcsync.__version__): a warehouse can tell an upgrade's events apart
        detail["bcsync_version"] = __version__
        body = json.dumps(detail, separators=(",", ":"), default=str)
        claim_checked = len(body.encode()) > CLAIM_CHECK_BYTES
        if claim_checked:
            object_key = f"events/{event.store_hash}/{event.idempotency_key.replace(':', '/')}.json"
            self._s3.put_object(
                Bucket=self._bucket,
                Key=object_key,
                Body=json.dumps(event.data, default=str).encode(),
                ContentType="application/json",
            )
            del detail["data"]
            detail["data_ref"] = {"bucket": self._bucket, "key": object_key}
            body = json.dumps(detail, separators=(",", ":"))
        entry: dict[str, Any] = {
            "Source": SOURCE,
            "DetailType": event.detail_type,
            "Detail": body,
            "EventBusName": self._bus,
        }
        return entry, claim_checked

    def _put_with_retries(
        self, chunk: list[tuple[OutboundEvent, dict[str, Any]]]
    ) -> list[tuple[OutboundEvent, dict[str, Any]]]:
        """PutEvents answers per entry: only the failed entries are sent again. Returns those still failing."""
        remaining = chunk
        for attempt in range(PUT_EVENTS_ATTEMPTS):
            entries: list[Any] = [entry for _, entry in remaining]
            response = self._events.put_events(Entries=entries)
            if not response.get("FailedEntryCount"):
                return []
            failed = [
                pair for pair, outcome in zip(remaining, response["Entries"], strict=True) if outcome.get("ErrorCode")
            ]
            logger.warning("EventBridge refused entries", extra={"failed": len(failed), "attempt": attempt + 1})
            remaining = failed
            if attempt + 1 < PUT_EVENTS_ATTEMPTS:
                self._sleep(min(0.2 * 2**attempt, 2.0))
        return remaining
