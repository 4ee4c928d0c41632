"""Read back, the I/O: one store's run lists the shipments of each order with news and publishes what others
made; for a source store, it reads the inventory items with news (or all of them, hourly) and publishes the
levels that changed.

Orders with news come two ways. A `store/shipment/*` webhook notes its order (`ReadbackState.note`) and marks
the job due: a run lists that order's shipments, one call. The scheduled scan (the safety net) pages the
orders modified since its cursor and lists only those whose shipped units differ from what was last read -
or, never read, from what bcsync wrote back itself - so an order bcsync shipped costs no list.

Publishing comes before remembering: a run cut in between publishes the same keys again, which the outbox
drops. A run short of time stops between orders and continues; what it had not read is still news.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bcsync.backbone.messages import ReadbackOptions
from bcsync.backbone.runner import Continue, JobContext
from bcsync.inventory.state import StockState
from bcsync.orders.state import OrderState
from bcsync.readback.mapping import (
    Line,
    StockLevelChanged,
    decide_order,
    decide_stock,
    has_news,
    within_lookback,
)
from bcsync.readback.state import ReadbackState
from bcsync.store import keys
from bcsync.store.settings import StoreSettings
from bcsync.warehouse.events import EventPublisher, OutboundEvent, shipment_key, stock_key
from bigcommerce_client import BigCommerceClient, Clock, NotFoundError
from bigcommerce_client.models import InventoryItem, Order

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_dynamodb.service_resource import Table

    from bcsync.backbone.runner import JobStep

logger = logging.getLogger("bcsync.readback.job")
INVENTORY_IDS_PER_CALL = 50  # ids in one `variant_id:in` filter: a URL stays short


@dataclass
class Readback:
    settings: StoreSettings
    client: BigCommerceClient
    state: ReadbackState
    orders: OrderState
    stock: StockState
    publisher: EventPublisher
    clock: Clock

    @property
    def store_hash(self) -> str:
        return self.settings.store_hash

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), tz=UTC)

    def step(self, context: JobContext) -> Continue | None:
        options = context.message.options_as(ReadbackOptions)
        news = self.state.news()
        order_news = {
            int(sk.removeprefix(keys.NEWS_ORDER_PREFIX)): at
            for sk, at in news.items()
            if sk.startswith(keys.NEWS_ORDER_PREFIX)
        }
        stock_news = {sk: at for sk, at in news.items() if sk.startswith(keys.NEWS_STOCK_PREFIX)}
        # A scan cut short (out of time, or of the store's API budget) continues in a later message, which
        # scans again up to the same end: its checkpoint says so.
        checkpoint = context.checkpoint or {}
        scanning = context.message.trigger == "schedule" or bool(checkpoint.get("scan_until"))
        run_start = datetime.fromisoformat(checkpoint["scan_until"]) if checkpoint.get("scan_until") else self._now()
        if scanning and not checkpoint.get("scan_until"):
            # Kept for a continuation only (the runner stores it if the run stops early), not written now: a
            # run that dies before it moved the cursor is scanned again from the same cursor, which holds it.
            context.keep_checkpoint({"scan_until": run_start.isoformat()})
        scanned, quiet = self._scan(run_start, context) if scanning else ({}, False)
        for order_id in sorted(set(order_news) | set(scanned)):
            if context.time_is_short():
                return Continue(checkpoint=context.checkpoint or {})  # the rest is still news, or scanned again
            self._read_order(order_id, context)
            if order_id in order_news:
                self.state.read(f"{keys.NEWS_ORDER_PREFIX}{order_id}", order_news[order_id])
        if scanning and not quiet:
            self.state.set_cursor(run_start)
        if self.settings.is_source and (stock_news or options.stock_reconcile):
            self._read_stock(stock_news, context, everything=options.stock_reconcile)
        else:
            for subject, at in stock_news.items():  # not a source (any more): nothing to read back
                self.state.read(subject, at)
        return None

    # --- shipments -------------------------------------------------------------------------------------

    def _scan(self, run_start: datetime, context: JobContext) -> tuple[dict[int, Order], bool]:
        """Orders modified since the cursor whose shipped units are news; and whether the scan was quiet: from
        a cursor, it listed no order at all. A quiet scan leaves the cursor where it is (a write saved on every
        quiet run): the next window, from the same cursor less the overlap, holds this one's, so an order
        BigCommerce lists late is still read."""
        lookback = timedelta(days=self.settings.readback_lookback_days)
        cursor = self.state.cursor()
        since = (cursor - timedelta(seconds=self.settings.order_overlap_seconds)) if cursor else run_start - lookback
        page: list[Order] = []
        found: dict[int, Order] = {}
        listed = False
        for order in self.client.iter_orders(modified_since=since, until=run_start, include_line_items=False):
            listed = True
            if within_lookback(order.date_created, run_start, self.settings.readback_lookback_days):
                page.append(order)
            if len(page) >= self.settings.order_page_size:
                found |= self._with_news(page, context)
                page = []
        if page:
            found |= self._with_news(page, context)
        return found, cursor is not None and not listed

    def _with_news(self, page: list[Order], context: JobContext) -> dict[int, Order]:
        ids = [order.id for order in page]
        read = self.state.orders(ids)
        records = self.orders.get_many(ids) if self.settings.is_sales_channel else {}
        found = {}
        for order in page:
            record = records.get(order.id)
            if not self.settings.is_source and (record is None or record.version == 0):
                continue  # not an order the warehouse has: its shipments are no news to it
            by_bcsync = sum(record.shipped_by_bcsync().values()) if record else 0
            last = read.get(order.id)
            if has_news(order.items_shipped, last[0] if last else None, by_bcsync):
                found[order.id] = order
        context.count("orders_scanned", len(page))
        return found

    def _read_order(self, order_id: int, context: JobContext) -> None:
        record = self.orders.get(order_id)
        imported = record is not None and record.version > 0
        if not imported and not self.settings.is_source:
            context.count("orders_not_ours")
            return
        try:
            shipments = self.client.list_shipments(order_id)
        except NotFoundError:
            context.count("orders_gone")  # archived or deleted since: nothing left to read back
            return
        context.count("shipment_lists")
        if imported and record is not None:
            lines = {
                int(line["order_product_id"]): Line(
                    int(line["order_product_id"]), str(line["sku"]), int(line["quantity"])
                )
                for line in record.lines
            }
        else:  # an order bcsync never sent (a source store's): its lines from BigCommerce, one call more
            lines = {
                row.id: Line(row.id, row.sku, row.quantity, row.product_id, row.variant_id)
                for row in self.client.iter_order_products(order_id)
                if row.type == "physical"
            }
        before = self.state.orders([order_id]).get(order_id)
        readback = decide_order(order_id, shipments, before[1] if before else {}, lines, imported=imported)
        now = self._now()
        events = [
            OutboundEvent(
                detail_type=publication.kind,
                store_hash=self.store_hash,
                idempotency_key=shipment_key(self.store_hash, publication.shipment_id, publication.revision),
                data=publication.data,
                occurred_at=now,
            )
            for publication in readback.publications
        ]
        if events:
            result = self.publisher.publish(events)
            context.count("shipments_read_back", len(result.published))
        context.count("own_shipments_recognised", sum(1 for seen in readback.seen.values() if seen.ours))
        shipped = sum(quantity for shipment in shipments for quantity in (item.quantity for item in shipment.items))
        self.state.save_order(order_id, shipped, readback.seen)

    # --- stock -----------------------------------------------------------------------------------------

    def _read_stock(self, news: dict[str, str], context: JobContext, *, everything: bool) -> None:
        items: list[InventoryItem] = []
        if everything:
            items = list(self.client.iter_inventory_items())
        else:
            variants = sorted(
                int(sk.removeprefix(f"{keys.NEWS_STOCK_PREFIX}v"))
                for sk in news
                if sk.startswith(f"{keys.NEWS_STOCK_PREFIX}v")
            )
            products = sorted(
                int(sk.removeprefix(f"{keys.NEWS_STOCK_PREFIX}p"))
                for sk in news
                if sk.startswith(f"{keys.NEWS_STOCK_PREFIX}p")
            )
            for name, ids in (("variant_id:in", variants), ("product_id:in", products)):
                for start in range(0, len(ids), INVENTORY_IDS_PER_CALL):
                    chunk = ",".join(map(str, ids[start : start + INVENTORY_IDS_PER_CALL]))
                    items += self.client.iter_inventory_items({name: chunk})
        seen = self.state.stock()
        changes, remember = decide_stock(items, seen, self.stock.pushed())
        now = self._now()
        if changes:
            result = self.publisher.publish(
                [
                    OutboundEvent(
                        detail_type="Stock Level Changed",
                        store_hash=self.store_hash,
                        idempotency_key=stock_key(self.store_hash, change.key, change.generation),
                        data=StockLevelChanged(
                            sku=change.sku,
                            product_id=change.product_id,
                            variant_id=change.variant_id,
                            location_id=change.location_id,
                            on_hand=change.on_hand,
                            available_to_sell=change.available,
                            previous_on_hand=change.previous_on_hand,
                            read_at=now.isoformat(timespec="seconds"),
                        ).model_dump(mode="json"),
                        occurred_at=now,
                    )
                    for change in changes
                ]
            )
            context.count("stock_levels_read_back", len(result.published))
        context.count("stock_echoes_recognised", len(remember) - len(changes))
        if remember:
            self.state.save_stock(seen | remember, remember)
        for subject, at in news.items():
            self.state.read(subject, at)


def _ids(news: dict[str, str], kind: str) -> list[int]:
    prefix = f"{keys.NEWS_STOCK_PREFIX}{kind}"
    return sorted(int(subject.removeprefix(prefix)) for subject in news if subject.startswith(prefix))


def readback_steps(
    *, table: Table, publisher: EventPublisher, clock: Clock, retention_days: int = 90
) -> Callable[[StoreSettings, BigCommerceClient], JobStep]:
    """The job function's step factory (`ColdStart.job_function`)."""

    def factory(settings: StoreSettings, client: BigCommerceClient) -> JobStep:
        return Readback(
            settings=settings,
            client=client,
            state=ReadbackState(table, settings.store_hash, retention_days=retention_days),
            orders=OrderState(table, settings.store_hash, retention_days=retention_days),
            stock=StockState(table, settings.store_hash),
            publisher=publisher,
            clock=clock,
        ).step

    return factory
