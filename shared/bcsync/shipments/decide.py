"""The writeback's status moves: which BigCommerce status a warehouse message moves an order to, if any.
Pure: no AWS, no HTTP. The writeback (`bcsync.shipments.writeback`) makes the move."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bcsync.orders.mapping import CANCELLED_STATUSES
from bcsync.orders.state import OrderRecord
from bcsync.store.settings import StoreSettings
from bigcommerce_client import BigCommerceError, NotFoundError, UnprocessableError

AWAITING_PICKUP, AWAITING_SHIPMENT, COMPLETED = 8, 9, 10
WarehouseStatus = Literal["acknowledged", "rejected", "backordered"]


SHIPPED, PARTIALLY_SHIPPED = 2, 3


@dataclass(frozen=True)
class StatusRules:
    awaiting_shipment_on_ack: bool = False
    complete_orders: bool = False
    pickup_to_awaiting_pickup: bool = True
    release_statuses: frozenset[int] = frozenset({11})

    @classmethod
    def of(cls, settings: StoreSettings) -> StatusRules:
        return cls(
            awaiting_shipment_on_ack=settings.awaiting_shipment_on_ack,
            complete_orders=settings.complete_orders,
            pickup_to_awaiting_pickup=settings.pickup_to_awaiting_pickup,
            release_statuses=frozenset(settings.release_statuses),
        )

    def moves_forward(self, current: int, to: int) -> bool:
        """Whether moving an order BigCommerce has in `current` to `to` is a step forward. bcsync never
        moves a status back: a late acknowledgement must not un-cancel, un-ship or un-complete an order, so
        each move starts only from the statuses the order passes through on its way there."""
        before_shipping = self.release_statuses | {AWAITING_SHIPMENT}
        allowed_from = {
            AWAITING_SHIPMENT: self.release_statuses,
            AWAITING_PICKUP: before_shipping,
            COMPLETED: before_shipping | {SHIPPED, PARTIALLY_SHIPPED},
        }
        return current in allowed_from.get(to, frozenset()) and current != to


def move_on_status(status: WarehouseStatus, record: OrderRecord, rules: StatusRules) -> int | None:
    """An acknowledgement moves the order to Awaiting Shipment once, when the store asks for it; a
    rejection or a backorder moves nothing (they are shown to the operator)."""
    if status == "acknowledged" and rules.awaiting_shipment_on_ack and record.warehouse_status != status:
        return AWAITING_SHIPMENT
    return None


def move_on_shipment(record: OrderRecord, rules: StatusRules) -> int | None:
    """After a shipment is written back: Completed when the store completes orders and bcsync has now
    written back every line (BigCommerce itself moves it to Shipped or Partially Shipped)."""
    if (
        rules.complete_orders
        and record.lines
        and all(record.unshipped(int(line["order_product_id"])) <= 0 for line in record.lines)
    ):
        return COMPLETED
    return None


def move_on_pickup(rules: StatusRules) -> int | None:
    """A pickup is no carrier shipment: the order waits for its customer (None: the store takes none)."""
    return AWAITING_PICKUP if rules.pickup_to_awaiting_pickup else None


# ShipmentsInbound's maxReceiveCount (template.yaml): on that receive a failed move is dead-lettered by
# the writeback itself, with its reason, instead of silently by SQS's redrive on the next.
MAX_RECEIVES = 5
MoveFailure = Literal["retry", "never"]


def move_failure(error: BigCommerceError) -> MoveFailure:
    """What a failed status `PUT` means for its message: BigCommerce refusing the status (422) or no longer
    having the order (404) is final; anything else (a 5xx, a dropped connection, a 429, a token being
    rotated) is retried with the message, the move still owed."""
    return "never" if isinstance(error, UnprocessableError | NotFoundError) else "retry"


def gives_up(receive_count: int, max_receives: int = MAX_RECEIVES) -> bool:
    """Whether this receive of a message is its last before SQS would dead-letter it without a word."""
    return receive_count >= max_receives


def may_post_shipment(current: int) -> bool:
    """Whether a shipment may be written back to an order BigCommerce has in `current`. Never to a
    cancelled, refunded or declined order: BigCommerce would move it to Shipped (a cancelled order
    revived, the customer e-mailed a tracking number for what they cancelled). The parcel left anyway:
    that is the operator's to sort out, told by the dead letter and the store's problems."""
    return current not in CANCELLED_STATUSES
