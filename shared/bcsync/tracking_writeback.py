"""Tracking writeback: each warehouse shipment becomes exactly one BigCommerce shipment.

Exactly once, in two layers:
- Powertools idempotency, keyed by store + warehouse shipment id: a duplicate delivery returns the
  stored result with no BigCommerce call, and two invocations holding one shipment never run at once
  (the second is retried after the first's in-progress lease).
- A shipment record written *before* the POST ("posting") and marked done after. A run that finds
  "posting" - a crash, a timeout or a connection dropped after BigCommerce acted, in whichever
  process - lists the order's shipments and looks for our marker in `comments` before posting again.
Steady state: one BigCommerce call per shipment (two when the store completes orders).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from botocore.exceptions import ClientError
from pydantic import ValidationError

from bigcommerce_client import BigCommerceClient, CallCounter, Clock
from bigcommerce_client import ValidationError as BigCommerceRefused
from bigcommerce_client.models import ShipmentCreate, ShipmentItem

from . import cutpoints
from .aws import AwsClients
from .carriers import map_carrier
from .consumer import (
    NeverValid,
    StoreClients,
    batch_processor,
    client_factory_for,
    dead_letter_never_valid,
    flag_duplicate,
    invalid_fields,
)
from .credentials import CredentialStore
from .inbound import (
    SHIPMENTS_INBOUND,
    OrderAcknowledged,
    OrderBackordered,
    OrderRejected,
    ShipmentConfirmed,
    ShipmentsInboundMessage,
)
from .order_state import OrderRecord, OrderState
from .settings import ConfigurationError, RuntimeConfig, StoreSettings
from .state import ProblemLog, StoreRegistry, now_iso
from .stock_state import InFlightOrders

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb.service_resource import Table

logger = logging.getLogger("bcsync.tracking_writeback")
AWAITING_PICKUP, AWAITING_SHIPMENT, COMPLETED = 8, 9, 10
SHIPMENT_RECORD_DAYS = 90


def marker(warehouse_shipment_id: str) -> str:
    """Written into the shipment's `comments`: how any later run recognises a shipment as ours."""
    return f"[bcsync shipment {warehouse_shipment_id}]"


def parse_message(body: str) -> ShipmentsInboundMessage:
    try:
        return SHIPMENTS_INBOUND.validate_json(body)
    except ValidationError as error:
        raise NeverValid(f"not a shipments message (invalid: {invalid_fields(error)})") from None


class ShipmentLog:
    """Per warehouse shipment: posting → done, with BigCommerce's shipment id."""

    def __init__(self, table: Table, store_hash: str) -> None:
        self._table = table
        self._store_hash = store_hash

    def _key(self, warehouse_shipment_id: str) -> dict[str, str]:
        return {"pk": f"STORE#{self._store_hash}#SHIPMENT#{warehouse_shipment_id}", "sk": "SHIPMENT"}

    def state(self, warehouse_shipment_id: str) -> str | None:
        item = self._table.get_item(Key=self._key(warehouse_shipment_id), ConsistentRead=True).get("Item")
        return str(item["state"]) if item else None

    def posting(self, warehouse_shipment_id: str, order_id: int) -> None:
        self._table.put_item(
            Item={
                **self._key(warehouse_shipment_id),
                "state": "posting",
                "order_id": order_id,
                "updated_at": now_iso(),
                "expires_at": int(time.time()) + SHIPMENT_RECORD_DAYS * 86_400,
            }
        )

    def done(self, warehouse_shipment_id: str, bigcommerce_shipment_id: int) -> None:
        self._table.update_item(
            Key=self._key(warehouse_shipment_id),
            UpdateExpression="SET #state = :done, bigcommerce_shipment_id = :id, updated_at = :now",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":done": "done", ":id": bigcommerce_shipment_id, ":now": now_iso()},
        )


@dataclass
class Writeback:
    """One store's writeback, for one batch: built per store by the consumer."""

    settings: StoreSettings
    client: BigCommerceClient
    orders: OrderState
    log: ShipmentLog
    problems: ProblemLog
    count: Callable[[str], None]
    in_flight: InFlightOrders
    clock: Clock

    @property
    def store_hash(self) -> str:
        return self.settings.store_hash

    def handle(self, message: ShipmentsInboundMessage) -> dict[str, Any]:
        if isinstance(message, ShipmentConfirmed):
            return self.confirm(message)
        return self.record_status(message)

    # --- Shipment Confirmed ----------------------------------------------------------------------

    def confirm(self, message: ShipmentConfirmed) -> dict[str, Any]:
        record = self._order(message.order_id)
        if record.state == "cancelled":
            raise NeverValid(f"order {message.order_id} was cancelled; its shipment is not written back")
        if message.pickup:
            return self._pickup(message)
        if not message.tracking_number.strip():
            raise NeverValid(f"shipment {message.warehouse_shipment_id}: no tracking number")
        state = self.log.state(message.warehouse_shipment_id)
        if state == "done":
            self.count("duplicates_suppressed")
            return {"action": "duplicate"}
        address_id, items = self._items(message, record)
        quantities = {item.order_product_id: item.quantity for item in items}
        if state == "posting":  # an earlier attempt may have created it before it died
            found = self._find_ours(message)
            if found is not None:
                self._record_shipment(message, record, quantities)
                self.log.done(message.warehouse_shipment_id, found)
                self.count("duplicates_suppressed")
                return {"action": "found", "bigcommerce_shipment_id": found}
        carrier = map_carrier(message.carrier, self.settings.carrier_map)
        if carrier is None and message.carrier.strip():
            self.count("carriers_unmapped")
            logger.warning("carrier not mapped", extra={"store_hash": self.store_hash, "carrier": message.carrier})
        body = ShipmentCreate(
            order_address_id=address_id,
            items=items,
            tracking_number=message.tracking_number.strip(),
            tracking_carrier=carrier or "",
            tracking_link=message.tracking_link or "",
            shipping_method=message.service,
            comments=marker(message.warehouse_shipment_id),
        )
        self.log.posting(message.warehouse_shipment_id, message.order_id)
        cutpoints.reached(cutpoints.BEFORE_SHIPMENT_POST)
        try:
            shipment = self.client.create_shipment(message.order_id, body)
        except BigCommerceRefused as refused:
            raise NeverValid(f"BigCommerce refused shipment {message.warehouse_shipment_id}: {refused}") from None
        cutpoints.reached(cutpoints.AFTER_SHIPMENT_POST)
        self._record_shipment(message, record, quantities)
        self.log.done(message.warehouse_shipment_id, shipment.id)
        self.count("shipments_written")
        if self.settings.complete_orders and self._fully_shipped(message.order_id):
            self.client.update_order_status(message.order_id, COMPLETED)
        return {"action": "written", "bigcommerce_shipment_id": shipment.id, "carrier": carrier or ""}

    def _record_shipment(self, message: ShipmentConfirmed, record: OrderRecord, quantities: dict[int, int]) -> None:
        """On the order (what is left to ship) and on its stock in flight (the warehouse's next snapshot
        counts what left the building)."""
        self.orders.record_shipment(message.order_id, message.warehouse_shipment_id, quantities)
        skus: dict[str, int] = {}
        for order_product_id, quantity in quantities.items():
            line = record.line(order_product_id)
            if line is not None:
                skus[str(line["sku"])] = skus.get(str(line["sku"]), 0) + quantity
        self.in_flight.record_shipment(message.order_id, message.warehouse_shipment_id, skus, at=self.clock.now())

    def _order(self, order_id: int) -> OrderRecord:
        record = self.orders.get(order_id)
        if record is None or record.version == 0:
            raise NeverValid(f"order {order_id} is not one bcsync sent to the warehouse for store {self.store_hash}")
        return record

    def _items(self, message: ShipmentConfirmed, record: OrderRecord) -> tuple[int, list[ShipmentItem]]:
        """BigCommerce's line ids and address for the warehouse's lines; every doubt is a refusal."""
        quantities: dict[int, int] = {}
        for line in message.lines:
            if line.order_product_id is not None:
                known = record.line(line.order_product_id)
                if known is None:
                    raise NeverValid(f"line {line.order_product_id} is not on order {message.order_id}")
                order_product_id = line.order_product_id
            else:
                matches = [known for known in record.lines if known["sku"] == line.sku]
                if len(matches) != 1:
                    problem = "not on" if not matches else "on more than one line of"
                    raise NeverValid(f"SKU {line.sku} is {problem} order {message.order_id}; send order_product_id")
                order_product_id = int(matches[0]["order_product_id"])
            quantities[order_product_id] = quantities.get(order_product_id, 0) + line.quantity
        for order_product_id, quantity in quantities.items():
            left = record.unshipped(order_product_id, besides=message.warehouse_shipment_id)
            if quantity > left:
                raise NeverValid(
                    f"line {order_product_id} of order {message.order_id}: {quantity} shipped, {left} left to ship"
                )
        addresses = {record.line(opid)["order_address_id"] for opid in quantities}  # type: ignore[index]
        if message.order_address_id is not None:
            addresses.add(message.order_address_id)
        if len(addresses) != 1 or None in addresses:
            raise NeverValid(f"shipment {message.warehouse_shipment_id}: its lines are not on one shipping address")
        items = [ShipmentItem(order_product_id=opid, quantity=quantity) for opid, quantity in quantities.items()]
        return int(addresses.pop()), items

    def _find_ours(self, message: ShipmentConfirmed) -> int | None:
        tag = marker(message.warehouse_shipment_id)
        return next((s.id for s in self.client.list_shipments(message.order_id) if tag in s.comments), None)

    def _fully_shipped(self, order_id: int) -> bool:
        record = self.orders.get(order_id)
        return record is not None and all(record.unshipped(int(line["order_product_id"])) <= 0 for line in record.lines)

    def _pickup(self, message: ShipmentConfirmed) -> dict[str, Any]:
        if not self.settings.pickup_to_awaiting_pickup:
            raise NeverValid(f"shipment {message.warehouse_shipment_id} is a pickup, and the store takes none")
        self.client.update_order_status(message.order_id, AWAITING_PICKUP)
        self.count("pickups_ready")
        return {"action": "awaiting_pickup"}

    # --- Order Acknowledged / Rejected / Backordered ---------------------------------------------

    def record_status(self, message: OrderAcknowledged | OrderRejected | OrderBackordered) -> dict[str, Any]:
        record = self._order(message.order_id)
        if isinstance(message, OrderRejected):
            status, reason = "rejected", message.reason
            self.count("warehouse_rejections")
            self.problems.add("warehouse_rejection", str(record.order_id), message.reason)
            logger.warning(
                "warehouse rejected an order", extra={"store_hash": self.store_hash, "order_id": record.order_id}
            )
        elif isinstance(message, OrderBackordered):
            status, reason = "backordered", ", ".join(message.skus)
        else:
            status, reason = "acknowledged", ""
        try:
            self.orders.set_warehouse_status(message.order_id, status, reason)
        except ClientError as error:  # the record expired between the read and the write
            raise NeverValid(f"order {message.order_id}: {error.response['Error']['Code']}") from None
        if status == "acknowledged" and self.settings.awaiting_shipment_on_ack and record.warehouse_status != status:
            self.client.update_order_status(message.order_id, AWAITING_SHIPMENT)
        return {"action": status}


@dataclass
class ShipmentsConsumer:
    """The `ShipmentsInbound` queue: Powertools BatchProcessor, one record's failure its own."""

    stores: StoreClients
    table: Table
    sqs: Any
    dlq_url: str
    persistence: BasePersistenceLayer
    clock: Clock
    retention_days: int = 90
    on_figures: Callable[[dict[str, int]], None] | None = None
    calls: CallCounter = field(default_factory=CallCounter)

    def __post_init__(self) -> None:
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

        self._processor = batch_processor()
        self._idempotency = IdempotencyConfig(
            event_key_jmespath="[store_hash, warehouse_shipment_id]",
            expires_after_seconds=SHIPMENT_RECORD_DAYS * 86_400,
            response_hook=flag_duplicate,
        )
        self._confirm_once: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="shipment", persistence_store=self.persistence, config=self._idempotency
        )(self._confirm)
        self.figures: dict[str, int] = {}

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        self.figures = {"shipments_written": 0}
        calls_before, limited_before = self.calls.total(), self.calls.rate_limited()
        self._idempotency.register_lambda_context(context)
        try:
            return process_partial_response(  # type: ignore[return-value]  # a TypedDict of that dict
                event=event, record_handler=self._record, processor=self._processor, context=context
            )
        finally:  # a batch whose every record failed is reported too
            self.figures["bigcommerce_calls"] = self.calls.total() - calls_before
            self.figures["bigcommerce_429s"] = self.calls.rate_limited() - limited_before
            if self.on_figures is not None:
                self.on_figures(dict(self.figures))

    def count(self, figure: str, amount: int = 1) -> None:
        self.figures[figure] = self.figures.get(figure, 0) + amount

    def _record(self, record: SQSRecord) -> None:
        try:
            message = parse_message(record.body)
            opened = self.stores.open(message.store_hash)
            if opened is None:
                return  # a disabled store: dropped, already logged
            settings, client = opened
            writeback = Writeback(
                settings=settings,
                client=client,
                orders=OrderState(self.table, settings.store_hash, retention_days=self.retention_days),
                log=ShipmentLog(self.table, settings.store_hash),
                problems=ProblemLog(self.table, settings.store_hash),
                count=self.count,
                in_flight=InFlightOrders(self.table, settings.store_hash, retention_days=self.retention_days),
                clock=self.clock,
            )
            if isinstance(message, ShipmentConfirmed):
                result = self._confirm_once(shipment=message.model_dump(mode="json"), writeback=writeback)
                if result.get("duplicate"):
                    self.count("duplicates_suppressed")
            else:
                writeback.record_status(message)
        except NeverValid as verdict:
            self.count("dead_lettered")
            dead_letter_never_valid(self.sqs, self.dlq_url, record, verdict)
            return
        sent = int(record.attributes.sent_timestamp or 0) / 1000
        if sent:
            lag = max(int(self.clock.now() - sent), 0)
            self.figures["writeback_lag_max_seconds"] = max(self.figures.get("writeback_lag_max_seconds", 0), lag)

    @staticmethod
    def _confirm(shipment: dict[str, Any], writeback: Writeback) -> dict[str, Any]:
        return writeback.confirm(ShipmentConfirmed.model_validate(shipment))


def build_shipments_consumer(
    *,
    config: RuntimeConfig,
    clock: Clock,
    aws: AwsClients | None = None,
    on_figures: Callable[[dict[str, int]], None] | None = None,
) -> ShipmentsConsumer:
    """The consumer the tracking writeback function creates at cold start, from its environment."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    if not config.shipments_dlq_url:
        raise ConfigurationError("bcsync is not configured: BCSYNC_SHIPMENTS_DLQ_URL is needed")
    aws = aws or AwsClients()
    table = aws.table(config.state_table)
    calls = CallCounter()
    return ShipmentsConsumer(
        stores=StoreClients(
            registry=StoreRegistry(table),
            credentials=CredentialStore(client=aws.client("secretsmanager")),
            client_factory=client_factory_for(config, clock=clock, counter=calls),
        ),
        table=table,
        sqs=aws.client("sqs"),
        dlq_url=config.shipments_dlq_url,
        persistence=DynamoDBPersistenceLayer(table_name=config.idempotency_table, boto3_client=aws.client("dynamodb")),
        clock=clock,
        retention_days=config.order_retention_days,
        on_figures=on_figures,
        calls=calls,
    )
