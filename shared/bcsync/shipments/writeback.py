"""Tracking writeback: each warehouse shipment becomes exactly one BigCommerce shipment.

Exactly once, in two layers:
- Powertools idempotency (in `shipments.consumer`), keyed by store + warehouse shipment id: a duplicate
  delivery returns the stored result with no BigCommerce call, and two invocations holding one shipment
  never run at once (the second is retried after the first's in-progress lease).
- A shipment record written *before* the POST ("posting") and marked done after. A run that finds
  "posting" - a crash, a timeout or a connection dropped after BigCommerce acted, in whichever
  process - lists the order's shipments and looks for our marker in `comments` before posting again.
Steady state: two BigCommerce calls per shipment, the order read (never to a closed order) and the
POST (three when the store completes orders). The shipment's units are on the order record before the
POST, so a scan meanwhile never takes them for units shipped by hand.

A status move (Completed, Awaiting Shipment, Awaiting Pickup) is recorded as owed before its `PUT` and
as made only once BigCommerce answered it: a `PUT` that fails through the client's retries fails the
message, and its redelivery - a shipment already done, a warehouse status already recorded - makes
the move it finds owed, never posting the shipment again. A move that still fails on the message's last
receive is dead-lettered with its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bcsync.backbone import cutpoints
from bcsync.errors import BcsyncError, NeverValid
from bcsync.orders.in_flight import InFlightOrders
from bcsync.orders.state import OrderRecord, OrderState
from bcsync.shipments.decide import (
    COMPLETED,
    SHIPPED,
    StatusRules,
    WarehouseStatus,
    may_post_shipment,
    move_failure,
    move_on_pickup,
    move_on_shipment,
    move_on_status,
)
from bcsync.shipments.state import ShipmentLog, StatusMoves, marker
from bcsync.store.problems import ProblemLog
from bcsync.store.settings import StoreSettings
from bcsync.warehouse.inbound import (
    OrderAcknowledged,
    OrderBackordered,
    OrderRejected,
    ShipmentConfirmed,
    ShipmentsInboundMessage,
)
from bigcommerce_client import BigCommerceClient, BigCommerceError, Clock, NotFoundError, UnprocessableError
from bigcommerce_client.carriers import map_carrier
from bigcommerce_client.models import ShipmentCreate, ShipmentItem

logger = logging.getLogger("bcsync.shipments.writeback")


class StatusMoveError(BcsyncError):
    """A status `PUT` failed through the client's retries: the move stays owed and the message is
    retried; on its last receive it is dead-lettered with this message."""

    def __init__(self, message: str, *, order_id: int) -> None:
        super().__init__(message)
        self.order_id = order_id


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
    moves: StatusMoves

    @property
    def store_hash(self) -> str:
        return self.settings.store_hash

    @property
    def rules(self) -> StatusRules:
        return StatusRules.of(self.settings)

    def _move(self, order_id: int, status: int | None, *, cause: str, current: int | None = None) -> None:
        """Owe the move, then make it (`_make`)."""
        if status is None:
            return
        self.moves.owe(order_id, status, cause)
        self._make(order_id, status, current=current)

    def _make(self, order_id: int, status: int, *, current: int | None = None) -> None:
        """Move the order to `status` if that is forward from what BigCommerce says now: read first (one
        GET: the order may have been cancelled, shipped by hand or completed since the warehouse's message
        was sent), unless the caller knows it (`current`: the status BigCommerce has just set itself).
        The owed move is settled only after BigCommerce answered (or the move was declined)."""
        try:
            if current is None:
                current = self.client.get_order(order_id).status_id
            if self.rules.moves_forward(current, status):
                self.client.update_order_status(order_id, status)
                self.count("status_moves_made")
            else:
                self.count("status_moves_declined")
                logger.info(
                    "status not moved backwards",
                    extra={"store_hash": self.store_hash, "order_id": order_id, "status_id": current, "to": status},
                )
        except BigCommerceError as error:
            if move_failure(error) == "never":
                self.moves.made(order_id, status)  # final: owed no longer, or every later message meets it
                raise NeverValid(f"BigCommerce refused to move order {order_id} to status {status}: {error}") from None
            self.count("status_moves_failed")
            raise StatusMoveError(
                f"order {order_id}: moving it to status {status} failed ({error}); the move is still owed - "
                "redrive this message once BigCommerce answers again",
                order_id=order_id,
            ) from error
        self.moves.made(order_id, status)

    def _make_owed(self, order_id: int) -> bool:
        """A redelivered message's part: the move an earlier delivery owed and did not make. Whether one was."""
        owed = self.moves.owed(order_id)
        if owed is None:
            return False
        self._make(order_id, owed.to)
        return True

    def handle(self, message: ShipmentsInboundMessage) -> dict[str, Any]:
        if isinstance(message, ShipmentConfirmed):
            return self.confirm(message)
        return self.record_status(message)

    # --- Shipment Confirmed ----------------------------------------------------------------------

    def confirm(self, message: ShipmentConfirmed) -> dict[str, Any]:
        record = self._order(message.order_id)
        if record.state == "cancelled":
            closed = "cancelled at the warehouse (BigCommerce cancelled or refunded it, or left nothing to ship)"
            raise self._after_cancel(message, closed)
        if message.pickup:
            return self._pickup(message)
        if not message.tracking_number.strip():
            raise NeverValid(f"shipment {message.warehouse_shipment_id}: no tracking number")
        state = self.log.state(message.warehouse_shipment_id)
        if state == "done":
            if self._make_owed(message.order_id):  # posted, but its status move failed: make it now
                return {"action": "status_moved"}
            self.count("duplicates_suppressed")
            return {"action": "duplicate"}
        address_id, items = self._items(message, record)
        quantities = {item.order_product_id: item.quantity for item in items}
        if state == "posting":  # an earlier attempt may have created it before it died
            found = self._find_ours(message)
            if found is not None:
                self._record_shipment(message, record, quantities)
                owed = self._owe_completion(message)
                self.log.done(message.warehouse_shipment_id, found)
                self.count("duplicates_suppressed")
                if owed is not None:  # BigCommerce's status may have moved since: read it
                    self._make(message.order_id, owed)
                else:  # the first attempt may have owed one (a Completed order put back)
                    self._make_owed(message.order_id)
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
        current = self._refuse_if_closed(message)
        self.log.posting(message.warehouse_shipment_id, message.order_id)
        # On the order before the POST: a scan between a POST whose answer was lost and its redelivery would
        # otherwise count these units as shipped by hand and tell the warehouse they are not its to ship.
        self.orders.record_shipment(message.order_id, message.warehouse_shipment_id, quantities)
        if current == COMPLETED:  # owed now, so a redelivery after a lost answer still puts it back
            self.moves.owe(message.order_id, COMPLETED, f"shipment {message.warehouse_shipment_id}")
        cutpoints.reached(cutpoints.BEFORE_SHIPMENT_POST)
        try:
            shipment = self.client.create_shipment(message.order_id, body)
        except (UnprocessableError, NotFoundError) as refused:
            self.orders.forget_shipment(message.order_id, message.warehouse_shipment_id)
            self.moves.made(message.order_id, COMPLETED)  # nothing was posted: nothing to put back
            if isinstance(refused, NotFoundError):
                raise self._gone(message) from None
            raise NeverValid(f"BigCommerce refused shipment {message.warehouse_shipment_id}: {refused}") from None
        cutpoints.reached(cutpoints.AFTER_SHIPMENT_POST)
        self._record_shipment(message, record, quantities, on_order=False)  # on the order since before the POST
        owed = self._owe_completion(message, completed_before=current == COMPLETED)
        self.log.done(message.warehouse_shipment_id, shipment.id)
        self.count("shipments_written")
        if owed is not None:
            # The shipment just written back covers the order's last lines: BigCommerce has it Shipped.
            self._make(message.order_id, owed, current=SHIPPED)
        return {"action": "written", "bigcommerce_shipment_id": shipment.id, "carrier": carrier or ""}

    def _refuse_if_closed(self, message: ShipmentConfirmed) -> int:
        """Read the order before writing a shipment to it (one GET): bcsync's record may not know yet that
        the customer cancelled, and a shipment posted to a cancelled order revives it as Shipped. Its
        status now, when the shipment may be written."""
        try:
            current = self.client.get_order(message.order_id).status_id
        except NotFoundError:
            raise self._gone(message) from None
        if current in self.settings.on_hold_statuses and current not in self.settings.release_statuses:
            # Written back (the parcel left), but the staff who put it on hold must know.
            self.problems.add(
                "shipped_while_on_hold",
                str(message.order_id),
                f"shipment {message.warehouse_shipment_id} left the warehouse while order {message.order_id} was "
                f"on hold in BigCommerce (status {current}); it is written back. To do: check the order",
            )
            self.count("shipments_while_on_hold")
        if may_post_shipment(current):
            return current
        raise self._after_cancel(message, f"cancelled, refunded or declined in BigCommerce (status {current})")

    def _after_cancel(self, message: ShipmentConfirmed, how: str) -> NeverValid:
        """A parcel that left after its order closed: not written back (it would revive the order), and the
        operator told."""
        text = (
            f"shipment {message.warehouse_shipment_id} left the warehouse after order {message.order_id} was "
            f"{how}: it is not written back. To do: stop or recover the parcel, or charge the customer again"
        )
        self.problems.add("shipped_after_cancel", str(message.order_id), text)
        self.count("shipments_after_cancel")
        return NeverValid(text)

    @staticmethod
    def _gone(message: ShipmentConfirmed) -> NeverValid:
        # Archived (or deleted) in BigCommerce since the warehouse got it: no retry brings it back, and
        # SQS's own redrive would dead-letter the message without saying why.
        return NeverValid(
            f"order {message.order_id} is no longer in BigCommerce (archived or deleted): shipment "
            f"{message.warehouse_shipment_id} is not written back; restore the order, then redrive this message"
        )

    def _owe_completion(self, message: ShipmentConfirmed, *, completed_before: bool = False) -> int | None:
        """The move this shipment asks for, owed before the shipment is marked done: a failure after that
        leaves it for the redelivery to make. An order staff had completed goes back to Completed, whatever
        the store's setting: BigCommerce's own move to Shipped on a new shipment would undo theirs."""
        if completed_before:
            status: int | None = COMPLETED
        elif not self.rules.complete_orders:
            return None
        else:
            status = move_on_shipment(self._order(message.order_id), self.rules)
        if status is not None:
            self.moves.owe(message.order_id, status, f"shipment {message.warehouse_shipment_id}")
        return status

    def _record_shipment(
        self, message: ShipmentConfirmed, record: OrderRecord, quantities: dict[int, int], *, on_order: bool = True
    ) -> None:
        """On the order (what is left to ship; `on_order=False` when written before the POST already) and on
        its stock in flight (the warehouse's next snapshot counts what left the building)."""
        if on_order:
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
        try:
            shipments = self.client.list_shipments(message.order_id)
        except NotFoundError:
            raise self._gone(message) from None
        return next((s.id for s in shipments if tag in s.comments), None)

    def _pickup(self, message: ShipmentConfirmed) -> dict[str, Any]:
        status = move_on_pickup(self.rules)
        if status is None:
            raise NeverValid(f"shipment {message.warehouse_shipment_id} is a pickup, and the store takes none")
        self._move(message.order_id, status, cause=f"pickup {message.warehouse_shipment_id}")
        self.count("pickups_ready")
        return {"action": "awaiting_pickup"}

    # --- Order Acknowledged / Rejected / Backordered ---------------------------------------------

    def record_status(self, message: OrderAcknowledged | OrderRejected | OrderBackordered) -> dict[str, Any]:
        record = self._order(message.order_id)
        status: WarehouseStatus
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
        move = move_on_status(status, record, self.rules)
        if move is not None:  # owed before the status is recorded: a redelivery no longer asks for it
            self.moves.owe(message.order_id, move, status)
        if not self.orders.set_warehouse_status(message.order_id, status, reason):
            raise NeverValid(f"order {message.order_id}: its record expired before the warehouse's {status} arrived")
        if move is not None:
            self._make(message.order_id, move)
        elif record.warehouse_status == status:  # a redelivery: what its first delivery owed and did not make
            self._make_owed(message.order_id)
        return {"action": status}
