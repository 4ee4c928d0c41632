"""Order import: every paid order reaches the warehouse, once per version.

One scan sees everything: keyset paging over `/v2/orders` by `date_modified` with consignments
and their lines embedded, filtered in code by status, so new paid orders and cancellations come
in the same calls. A store's first run asks instead for the orders in each release status (the
open backlog), and sets the cursor; later runs scan from the cursor minus an overlap.
The cursor moves only when every order up to it was released, skipped or judged not ours.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import batched
from typing import Any, cast

from pydantic import AwareDatetime, BaseModel

from bcsync.backbone.messages import OrderImportOptions
from bcsync.backbone.runner import Continue, JobContext, JobStep
from bcsync.catalog.state import CatalogState
from bcsync.orders.decide import Action, OrderRules, decide, released
from bcsync.orders.in_flight import InFlightOrders
from bcsync.orders.manual import run_manual
from bcsync.orders.mapping import CatalogLine, Skip, WarehouseOrder, build_warehouse_order
from bcsync.orders.state import HeldOrders, OrderRecord, OrderState, record_of
from bcsync.store.settings import StoreSettings
from bcsync.warehouse.events import DetailType, EventPublisher, OutboundEvent, order_key
from bigcommerce_client import BigCommerceClient, Clock
from bigcommerce_client.models import Order, OrderProduct

logger = logging.getLogger("bcsync.orders.job")
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Page:
    """What bcsync knows of one page of orders before it decides: their records, their warehouse orders
    (built where `decide` needs one, flagged against the catalog) and which hold stock in flight."""

    records: dict[int, OrderRecord]
    builds: dict[int, WarehouseOrder | Skip]
    in_flight: set[int]


class ScanCheckpoint(BaseModel):
    """Where a scan left off: orders modified from `since` to `until` (the run's start) are still to be
    read; `backlog`, on a store's first run, the release statuses whose open orders are still to be read;
    `read_at_since`, the orders modified at `since` already read (a scan paused for the store's API budget
    resumes after them, not with them again)."""

    since: AwareDatetime
    until: AwareDatetime
    backlog: list[int] | None = None
    read_at_since: list[int] = []


@dataclass
class OrderImport:
    settings: StoreSettings
    client: BigCommerceClient
    state: OrderState
    publisher: EventPublisher
    clock: Clock
    page_size: int
    overlap: timedelta
    held: HeldOrders
    catalog: CatalogState
    in_flight: InFlightOrders

    @property
    def store_hash(self) -> str:
        return self.settings.store_hash

    @property
    def rules(self) -> OrderRules:
        return OrderRules.of(self.settings)

    def step(self, context: JobContext) -> Continue | None:
        options = context.message.options_as(OrderImportOptions)
        if options.manual:
            context.leaves_checkpoint = True  # an operator's fetch runs beside the scan, not instead of it
            run_manual(self, options, context)
            return None
        fresh = not context.checkpoint
        checkpoint = ScanCheckpoint.model_validate(context.checkpoint) if context.checkpoint else self._start(context)
        listed = False
        # Each page's checkpoint is saved when the next page arrives, not after its own: a run whose last page
        # is its only one (most runs) saves none, and its cursor records the progress. A cut between a page
        # and the next one's arrival re-reads that page, which the outbox publishes nothing of again.
        done: dict[str, Any] | None = None
        while True:
            backlog = checkpoint.backlog
            orders = self.client.iter_orders(
                modified_since=checkpoint.since,
                until=checkpoint.until,
                limit=self.page_size,
                status_id=backlog[0] if backlog else None,
                on_unreadable=lambda row, error: self._unreadable(row, error, context),
            )
            # The API's `min_date_modified` is inclusive: a resumed scan reads `since` again, and skips what it
            # read there before it paused (the client does the same within one scan).
            resumed_at, read = checkpoint.since, set(checkpoint.read_at_since)
            read_before = frozenset(read)
            for batch in map(list, batched(orders, self.page_size, strict=False)):
                listed = True
                batch = [o for o in batch if o.date_modified != resumed_at or o.id not in read_before]
                if not batch:
                    continue
                if done is not None:
                    context.save_checkpoint(done)
                self.process_page(batch, context)
                last = batch[-1].date_modified
                if last is not None:
                    at_last = {order.id for order in batch if order.date_modified == last}
                    read = read | at_last if last == checkpoint.since else at_last
                    checkpoint.since, checkpoint.read_at_since = last, sorted(read)
                done = checkpoint.model_dump(mode="json")
                context.keep_checkpoint(done)
                if context.time_is_short():
                    return Continue(checkpoint=done)
            if not backlog or len(backlog) == 1:
                break
            checkpoint = checkpoint.model_copy(
                update={"backlog": backlog[1:], "since": self._start_date(), "read_at_since": []}
            )
            done = checkpoint.model_dump(mode="json")
        # A scan from the cursor that listed no order at all leaves the cursor where it is (a write saved on
        # every quiet run): the next scan's window, from the same cursor less the overlap, holds this one's,
        # so an order BigCommerce lists late is still read. The first order listed moves the cursor on.
        quiet = fresh and checkpoint.backlog is None and not listed and not context.figures.get("orders_unreadable")
        if not quiet:
            self.state.set_cursor(checkpoint.until)
        return None

    def _start(self, context: JobContext) -> ScanCheckpoint:
        """A new run: held orders whose time has come go out first; then the scan from the cursor (less
        the overlap), or on a store's first run the open backlog, one release status at a time."""
        self._release_due(context)
        cursor = self.state.cursor()
        return ScanCheckpoint(
            since=cursor - self.overlap if cursor else self._start_date(),
            until=datetime.fromtimestamp(self.clock.now(), tz=UTC),
            backlog=None if cursor else list(self.settings.release_statuses),
        )

    def _start_date(self) -> datetime:
        return self.settings.order_start_date or EPOCH

    # --- one page ----------------------------------------------------------------------------------

    def process_page(self, batch: list[Order], context: JobContext) -> None:
        """One page, in four steps: read what bcsync knows of its orders (one BatchGetItem each for records,
        stock in flight and the catalog), decide each order (`decide`, pure), apply the decisions (the
        writes), and publish what they release."""
        page = self._read(batch)
        now = datetime.fromtimestamp(self.clock.now(), tz=UTC)
        decisions = [
            (order, decide(order, page.records.get(order.id), page.builds.get(order.id), self.rules, now))
            for order in batch
        ]
        events: list[OutboundEvent] = []
        unchanged: set[str] = set()
        for order, action in decisions:
            context.count("orders_seen")
            event = self._apply(order, action, page, context)
            if event is not None:
                events.append(event)
                if action.kind == "unchanged":
                    unchanged.add(event.idempotency_key)
        if events:
            result = self.publisher.publish(events)
            context.count("orders_republished", len(unchanged.intersection(result.published)))

    def _read(self, batch: list[Order]) -> Page:
        records = self.state.get_many([order.id for order in batch])
        builds = {
            order.id: build_warehouse_order(
                order,
                store_hash=self.store_hash,
                settings=self.settings,
                shipping_lines=self.complete_lines(order),
                released=released(records.get(order.id)),
                shipped_by_bcsync=record.shipped_by_bcsync() if (record := records.get(order.id)) else None,
            )
            for order in batch
            if self.rules.needs_build(order, records.get(order.id))
        }
        # One catalog read per page: which line SKUs product sync has sent the warehouse, with the customs data
        # it read for them (neither is part of a version).
        line_skus = {line.sku for built in builds.values() if not isinstance(built, Skip) for line in built.lines()}
        known_skus = self.catalog_of(line_skus)
        return Page(
            records=records,
            builds={
                order_id: built if isinstance(built, Skip) else built.with_catalog(known_skus)
                for order_id, built in builds.items()
            },
            in_flight=self.in_flight.existing([order.id for order in batch]),
        )

    def catalog_of(self, skus: set[str]) -> dict[str, CatalogLine]:
        """The SKUs product sync holds among these, with their customs data: one BatchGetItem per 100."""
        return {
            sku: CatalogLine(hs_code=hs_code or None, country_of_origin=origin or None)
            for sku, (hs_code, origin) in (self.catalog.sku_catalog(skus) if skus else {}).items()
        }

    def _apply(self, order: Order, action: Action, page: Page, context: JobContext) -> OutboundEvent | None:
        """The writes one decision makes; the event to publish, if it has one."""
        built, record = page.builds.get(order.id), page.records.get(order.id)
        if action.kind in ("not_ours", "withdraw", "skip"):
            if action.kind == "withdraw":
                self.held.withdraw(order.id)
            if action.kind != "not_ours":
                self._skip(order, action, context)
            if action.stock_taken and isinstance(built, WarehouseOrder):  # BigCommerce took its stock
                self.in_flight.hold(order.id, built.skus())
            elif order.id in page.in_flight:
                self.in_flight.forget(order.id)
            return None
        assert isinstance(built, WarehouseOrder)  # decide releases, updates, stops, cancels and holds only these
        if action.kind == "hold":
            assert action.release_at is not None
            self._hold(built, action.release_at, context)
            return None
        detail_type = cast("DetailType", action.detail_type or (record.detail_type if record else ""))
        if action.kind == "unchanged":
            # Its current version offered again: the outbox makes that a no-op once published, and a
            # republish (same key) if a crash left it pending.
            return self.event(built, action.version, detail_type)
        if not self.state.put(
            record_of(built, action.version, detail_type), replaces_version=record.version if record else None
        ):
            context.count("orders_taken_by_another_run")  # it publishes this version, not us
            return None
        self._count_release(built, detail_type, context)
        if built.cancelled:
            self.in_flight.forget(order.id)
        else:
            # An order on hold too: BigCommerce still holds its stock and the warehouse keeps it set aside
            # (the contract), so its first release time stays and the push sells none of it again.
            self.in_flight.release(order.id, built.skus(), at=self.clock.now())
        return self.event(built, action.version, detail_type)

    def _hold(self, built: WarehouseOrder, release_at: datetime, context: JobContext) -> None:
        """Recorded as held, with a snapshot to release from; the cursor moves on."""
        held = OrderRecord(
            order_id=built.order_id, version=0, state="held", reason=f"held until {release_at.isoformat()}"
        )
        if self.state.put(held, replaces_version=0):
            self.held.hold(built.order_id, release_at, built.model_dump_json())
            self.in_flight.hold(built.order_id, built.skus())
            context.count("orders_held")

    def _release_due(self, context: JobContext) -> None:
        """Held orders whose time has come go out from their snapshot: no BigCommerce call."""
        now = datetime.fromtimestamp(self.clock.now(), tz=UTC)
        events: list[OutboundEvent] = []
        for held in self.held.all():
            if held.release_at > now:
                continue
            built = WarehouseOrder.model_validate_json(held.snapshot).with_ship_options(self.settings)
            if self.state.put(record_of(built, 1, "Order Ready"), replaces_version=0):
                events.append(self.event(built, 1, "Order Ready"))
                self._count_release(built, "Order Ready", context)
                self.in_flight.release(built.order_id, built.skus(), at=self.clock.now())
            self.held.withdraw(held.order_id)
        if events:
            self.publisher.publish(events)

    def _unreadable(self, row: Any, error: Exception, context: JobContext) -> None:
        """An order BigCommerce sent that bcsync cannot read (an unparseable date, a missing field): its
        reason is recorded and shown; the scan goes on. It is read again when it changes."""
        order_id = row.get("id") if isinstance(row, dict) else None
        context.count("orders_unreadable")
        context.problems.append(f"order {order_id}: unreadable: {error}")
        if isinstance(order_id, int) and order_id > 0 and self.state.get(order_id) is None:
            record = OrderRecord(order_id=order_id, version=0, state="skipped", reason=f"unreadable: {error}"[:500])
            self.state.put(record, replaces_version=0)

    def complete_lines(self, order: Order) -> dict[int, list[OrderProduct]] | None:
        """BigCommerce embeds 50 lines per consignment at most; the rest come from the order's lines."""
        consignments = order.embedded_consignments
        if consignments is None or not any(c.line_items_truncated for c in consignments.shipping):
            return None
        by_address: dict[int, list[OrderProduct]] = {}
        for line in self.client.iter_order_products(order.id):
            by_address.setdefault(line.order_address_id, []).append(line)
        return by_address

    def _skip(self, order: Order, action: Action, context: JobContext) -> None:
        context.count("orders_skipped")
        if action.problem:
            context.problems.append(f"order {order.id}: {action.reason}")
        if action.record_skip:
            self.state.put(
                OrderRecord(order_id=order.id, version=0, state="skipped", reason=action.reason), replaces_version=0
            )
        logger.info(
            "order skipped", extra={"store_hash": self.store_hash, "order_id": order.id, "reason": action.reason}
        )

    def event(self, built: WarehouseOrder, version: int, detail_type: DetailType) -> OutboundEvent:
        data = built.model_copy(update={"version": version}).model_dump(mode="json")
        return OutboundEvent(
            detail_type=detail_type,
            store_hash=self.store_hash,
            idempotency_key=order_key(self.store_hash, built.order_id, version),
            data=data,
        )

    def _count_release(self, built: WarehouseOrder, detail_type: DetailType, context: JobContext) -> None:
        figure = {
            "Order Ready": "orders_released",
            "Order On Hold": "orders_on_hold",
            "Order Cancelled": "orders_cancelled",
        }.get(detail_type, "orders_updated")
        context.count(figure)
        unmapped = sum(1 for shipment in built.shipments if not shipment.ship_option_mapped)
        if unmapped:
            context.count("ship_options_unmapped", unmapped)
        fallback = sum(1 for line in built.lines() if line.sku_is_fallback)
        if fallback:
            context.count("lines_without_sku", fallback)
        unknown = [line.sku for line in built.lines() if line.sku_in_catalog is False]
        if unknown:
            context.count("lines_sku_not_in_catalog", len(unknown))
            context.problems.append(f"order {built.order_id}: SKU {', '.join(unknown[:5])} not sent by product sync")
        if detail_type == "Order Ready" and built.date_created is not None:
            lag = int(self.clock.now() - built.date_created.timestamp())
            context.figures["import_lag_max_seconds"] = max(context.figures.get("import_lag_max_seconds", 0), lag)


def order_import_steps(
    *,
    state_for: Callable[[str], OrderState],
    held_for: Callable[[str], HeldOrders],
    catalog_for: Callable[[str], CatalogState],
    in_flight_for: Callable[[str], InFlightOrders],
    publisher: EventPublisher,
    clock: Clock,
    page_size: int | None = None,
) -> Callable[[StoreSettings, BigCommerceClient], JobStep]:
    """The job function's step factory (`ColdStart.job_function`) (`page_size` overrides the store's, for tests)."""

    def factory(settings: StoreSettings, client: BigCommerceClient) -> JobStep:
        return OrderImport(
            settings=settings,
            client=client,
            state=state_for(settings.store_hash),
            held=held_for(settings.store_hash),
            catalog=catalog_for(settings.store_hash),
            in_flight=in_flight_for(settings.store_hash),
            publisher=publisher,
            clock=clock,
            page_size=page_size or settings.order_page_size,
            overlap=timedelta(seconds=settings.order_overlap_seconds),
        ).step

    return factory
