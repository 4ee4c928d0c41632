"""A reference warehouse-side consumer of bcsync (docs/warehouse.md), with boto3 alone.

It long-polls the WarehouseOutbound queue, reads each event's EventBridge envelope, fetches `data` from the
payload bucket when the event carries `data_ref` instead, drops an event whose idempotency key it has already
handled, hands the rest to your callback and deletes a message only once the callback returned. A callback
that raises leaves its message on the queue: SQS delivers it again after the visibility timeout, and after 5
receives moves it to WarehouseOutboundDLQ. It also sends your answers - Shipment Confirmed, Stock Level - to
the inbound queues.

    consumer = WmsConsumer.for_stack("bcsync-prod", handle=my_callback)
    while True:
        consumer.poll()

Copy it and adapt it: keep `seen` in your own database (the in-memory set forgets on restart, and a restart
is exactly when a duplicate arrives), and make the callback idempotent all the same.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, MutableSet
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3

logger = logging.getLogger("wms_consumer")

LONG_POLL_SECONDS = 20  # SQS's longest wait: an empty queue costs one request per 20 s, not a busy loop
BATCH = 10  # SQS's most messages per receive


@dataclass(frozen=True)
class Event:
    """One bcsync event as the callback receives it: the envelope read, `data` resolved."""

    detail_type: str  # Order Ready, Order Updated, Order On Hold, Order Cancelled, Product Upserted, ...
    schema_version: int
    store_hash: str
    idempotency_key: str
    occurred_at: str
    data: dict[str, Any]
    receive_count: int  # how often SQS has delivered this message (1 the first time)


@dataclass
class PollReport:
    handled: list[str] = field(default_factory=list)  # idempotency keys the callback took
    duplicates: list[str] = field(default_factory=list)  # keys already handled: deleted, not handed over
    failed: list[str] = field(default_factory=list)  # message ids left on the queue (the callback raised)


class WmsConsumer:
    def __init__(
        self,
        *,
        handle: Callable[[Event], None],
        outbound_url: str,
        shipments_url: str,
        stock_url: str,
        sqs: Any,
        s3: Any,
        seen: MutableSet[str] | None = None,
        wait_seconds: int = LONG_POLL_SECONDS,
        visibility_timeout: int | None = None,
    ) -> None:
        self.handle = handle
        self.outbound_url, self.shipments_url, self.stock_url = outbound_url, shipments_url, stock_url
        self.sqs, self.s3 = sqs, s3
        self.seen: MutableSet[str] = set() if seen is None else seen
        self.wait_seconds = wait_seconds
        self.visibility_timeout = visibility_timeout  # None: the queue's own (120 s)

    @classmethod
    def for_stack(
        cls, stack_name: str, *, handle: Callable[[Event], None], session: Any = None, **options: Any
    ) -> WmsConsumer:
        """The queues of a deployed bcsync stack, from its outputs."""
        session = session or boto3.session.Session()
        stack = session.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
        outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
        return cls(
            handle=handle,
            outbound_url=outputs["WarehouseOutboundQueueUrl"],
            shipments_url=outputs["ShipmentsInboundQueueUrl"],
            stock_url=outputs["StockInboundQueueUrl"],
            sqs=session.client("sqs"),
            s3=session.client("s3"),
            **options,
        )

    # --- bcsync -> warehouse -----------------------------------------------------------------------

    def poll(self) -> PollReport:
        """One long poll of WarehouseOutbound: up to 10 messages, each handled then deleted, or left."""
        request: dict[str, Any] = {
            "QueueUrl": self.outbound_url,
            "MaxNumberOfMessages": BATCH,
            "WaitTimeSeconds": self.wait_seconds,
            "MessageSystemAttributeNames": ["ApproximateReceiveCount"],
        }
        if self.visibility_timeout is not None:
            request["VisibilityTimeout"] = self.visibility_timeout
        report = PollReport()
        for message in self.sqs.receive_message(**request).get("Messages", []):
            try:
                event = self.event_of(message)
            except (ValueError, KeyError) as error:
                # Not a bcsync event: never valid, so leave it - after 5 receives SQS moves it to the DLQ.
                logger.error("not a bcsync event, left for the DLQ: %s", error)
                report.failed.append(message["MessageId"])
                continue
            if event.idempotency_key in self.seen:
                report.duplicates.append(event.idempotency_key)  # the same event again: drop it
            else:
                try:
                    self.handle(event)
                except Exception:  # the callback's failure: SQS redelivers after the visibility timeout
                    logger.exception("callback failed; %s stays on the queue", event.idempotency_key)
                    report.failed.append(message["MessageId"])
                    continue
                self.seen.add(event.idempotency_key)
                report.handled.append(event.idempotency_key)
            self.sqs.delete_message(QueueUrl=self.outbound_url, ReceiptHandle=message["ReceiptHandle"])
        return report

    def event_of(self, message: dict[str, Any]) -> Event:
        """The SQS body is EventBridge's envelope; bcsync's fields are in its `detail`."""
        envelope = json.loads(message["Body"])
        if envelope.get("source") != "bcsync":
            raise ValueError(f"source {envelope.get('source')!r}")
        detail = envelope["detail"]
        return Event(
            detail_type=envelope["detail-type"],
            schema_version=int(detail["schema_version"]),
            store_hash=detail["store_hash"],
            idempotency_key=detail["idempotency_key"],
            occurred_at=detail["occurred_at"],
            data=detail["data"] if "data" in detail else self.claim_check(detail["data_ref"]),
            receive_count=int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
        )

    def claim_check(self, ref: dict[str, str]) -> dict[str, Any]:
        """An event over about 200 KB: its data is an S3 object (kept 30 days)."""
        body = self.s3.get_object(Bucket=ref["bucket"], Key=ref["key"])["Body"].read()
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError(f"s3://{ref['bucket']}/{ref['key']} is not an object")
        return data

    # --- warehouse -> bcsync -----------------------------------------------------------------------

    def confirm_shipment(
        self,
        store_hash: str,
        order_id: int,
        *,
        warehouse_shipment_id: str,
        lines: Iterable[tuple[int, int]],
        tracking_number: str,
        carrier: str,
        order_address_id: int | None = None,
        service: str = "",
        tracking_link: str | None = None,
    ) -> str:
        """One package has left: `lines` are (order_product_id, quantity) as the order event had them."""
        message: dict[str, Any] = {
            "type": "Shipment Confirmed",
            "schema_version": 1,
            "store_hash": store_hash,
            "order_id": order_id,
            "warehouse_shipment_id": warehouse_shipment_id,
            "tracking_number": tracking_number,
            "carrier": carrier,
            "service": service,
            "lines": [{"order_product_id": line_id, "quantity": quantity} for line_id, quantity in lines],
        }
        if order_address_id is not None:
            message["order_address_id"] = order_address_id
        if tracking_link:
            message["tracking_link"] = tracking_link
        return self._send(self.shipments_url, message)

    def send_stock_levels(
        self,
        store_hash: str,
        levels: Iterable[tuple[str, str, int]],
        *,
        mode: str = "delta",
        as_of: datetime | None = None,
    ) -> str:
        """What you hold: (sku, location, fulfillable) each; `as_of` is when you counted (now by default)."""
        message = {
            "type": "Stock Level",
            "schema_version": 1,
            "store_hash": store_hash,
            "as_of": (as_of or datetime.now(tz=UTC)).isoformat(),
            "mode": mode,
            "items": [{"sku": sku, "location": location, "fulfillable": count} for sku, location, count in levels],
        }
        return self._send(self.stock_url, message)

    def _send(self, url: str, message: dict[str, Any]) -> str:
        return str(self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))["MessageId"])
