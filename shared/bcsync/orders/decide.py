"""Order import's rules: what one order seen by a scan means for the warehouse. Pure: no AWS, no HTTP.

`decide` takes what BigCommerce says of the order now, what bcsync recorded of it, the warehouse order
built from it (or why none is), the store's rules and the time, and returns one `Action`. The job
(`bcsync.orders.job`) applies it: writes the record, publishes, moves the order's stock in flight.
docs/architecture.md ("The order lifecycle") has the same rules as a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bcsync.orders.mapping import Skip, WarehouseOrder
from bcsync.orders.state import OrderRecord
from bcsync.store.settings import BusinessHours, StoreSettings
from bigcommerce_client.models import Order

ActionKind = Literal[
    "release",  # a first version: `Order Ready`
    "update",  # a changed version of a released order: `Order Updated` (also: off hold, it may ship again)
    "stop",  # released, now in an on-hold status (7, 12, 13 by default): `Order On Hold`, do not ship it now
    "cancel",  # a released order now cancelled, refunded or declined: `Order Cancelled`
    "unchanged",  # released and the same: its current version offered again (a no-op once published)
    "hold",  # paid, but the hold window or business hours keep it back: recorded as held, not sent yet
    "skip",  # never sent: a rule (digital only) or a problem the operator must see
    "withdraw",  # held, and it left the release statuses before its release: the hold is dropped
    "not_ours",  # not in a release status (or before the start date): nothing for the warehouse
]
DETAIL_TYPES = {
    "release": "Order Ready",
    "update": "Order Updated",
    "stop": "Order On Hold",
    "cancel": "Order Cancelled",
}


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    version: int = 0  # the version to publish (release, update, cancel) or offer again (unchanged)
    reason: str = ""  # why an order is skipped or withdrawn
    problem: bool = False  # a skip the operator must see
    record_skip: bool = False  # the skip is news: its record is written (not when the same reason is stored)
    release_at: datetime | None = None  # hold: when it goes out
    stock_taken: bool = False  # BigCommerce took this order's stock and the warehouse does not have it

    @property
    def detail_type(self) -> str:
        return DETAIL_TYPES.get(self.kind, "")


@dataclass(frozen=True)
class OrderRules:
    """What a store's settings say about which orders are released, and when."""

    release_statuses: frozenset[int]
    stock_committed_statuses: frozenset[int]
    start_date: datetime | None = None
    hold_minutes: int = 0
    business_hours: BusinessHours | None = None

    @classmethod
    def of(cls, settings: StoreSettings) -> OrderRules:
        return cls(
            release_statuses=frozenset(settings.release_statuses),
            stock_committed_statuses=frozenset(settings.stock_committed_statuses),
            start_date=settings.order_start_date,
            hold_minutes=settings.hold_minutes,
            business_hours=settings.business_hours,
        )

    def from_start_date(self, order: Order) -> bool:
        return not (
            self.start_date is not None and order.date_created is not None and order.date_created < self.start_date
        )

    def eligible(self, order: Order) -> bool:
        """In a release status and created from the store's start date on."""
        return order.status_id in self.release_statuses and self.from_start_date(order)

    def stock_taken_unreleased(self, order: Order) -> bool:
        """BigCommerce has taken this order's stock, and bcsync does not release it in this status: the
        inventory push must not sell that stock again."""
        return (
            order.status_id in self.stock_committed_statuses
            and order.status_id not in self.release_statuses
            and self.from_start_date(order)
        )

    def needs_build(self, order: Order, record: OrderRecord | None) -> bool:
        """Whether `decide` needs the warehouse order built (the job builds a page's in one pass)."""
        return released(record) or self.eligible(order) or self.stock_taken_unreleased(order)

    def release_at(self, created: datetime | None, now: datetime) -> datetime:
        due = max((created or now) + timedelta(minutes=self.hold_minutes), now)
        return self.business_hours.next_open(due) if self.business_hours else due

    def holds(self) -> bool:
        return bool(self.hold_minutes) or self.business_hours is not None


def released(record: OrderRecord | None) -> bool:
    return record is not None and record.version > 0


def decide(
    order: Order,
    record: OrderRecord | None,
    built: WarehouseOrder | Skip | None,
    rules: OrderRules,
    now: datetime,
) -> Action:
    """What this order means now. `built` is the warehouse order (or the reason there is none) whenever
    `rules.needs_build` says so; None otherwise."""
    stock_taken = isinstance(built, WarehouseOrder)
    if not released(record) and not rules.eligible(order):
        if record is not None and record.state == "held":
            reason = f"status {order.status_id} before its release"
            return Action("withdraw", reason=reason, record_skip=record.reason != reason, stock_taken=stock_taken)
        return Action("not_ours", stock_taken=stock_taken)
    if built is None:
        raise ValueError(f"order {order.id}: decide needs its warehouse order (rules.needs_build)")
    if isinstance(built, Skip):
        news = not (record is not None and record.reason == built.reason) and not released(record)
        return Action("skip", reason=built.reason, problem=built.problem, record_skip=news)
    if record is not None and released(record):
        if record.content_hash == built.content_hash():
            return Action("unchanged", version=record.version)  # on hold and still on hold: nothing new either
        # A cancellation wins over a hold (the mapping sets no hold on a cancelled order); any version of an
        # order on hold says so, and the first without its hold tells the warehouse it may ship again.
        kind: ActionKind = "cancel" if built.cancelled else "stop" if built.hold is not None else "update"
        return Action(kind, version=record.version + 1)
    if rules.holds():
        release_at = rules.release_at(order.date_created, now)
        if release_at > now:
            return Action("hold", release_at=release_at, stock_taken=True)
    return Action("release", version=1)
