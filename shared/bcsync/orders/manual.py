"""An operator's fetch and resend (`bcsync orders fetch --ids|--since`, `bcsync orders resend --ids`).

They run beside the scan, never instead of it: the scan's checkpoint and cursor stay as they are. A fetch by
id costs one call per order (the operator named them); `--since` is the usual keyset scan over a window.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from itertools import batched
from typing import TYPE_CHECKING, Protocol, cast

from bcsync.backbone.messages import OrderImportOptions
from bcsync.backbone.runner import JobContext
from bcsync.orders.mapping import CatalogLine, Skip, WarehouseOrder, build_warehouse_order
from bcsync.warehouse.events import DetailType
from bigcommerce_client import NotFoundError
from bigcommerce_client.models import Order

if TYPE_CHECKING:
    from bcsync.orders.state import OrderState
    from bcsync.store.settings import StoreSettings
    from bcsync.warehouse.events import EventPublisher, OutboundEvent
    from bigcommerce_client import BigCommerceClient, Clock
    from bigcommerce_client.models import OrderProduct


class OrderPages(Protocol):
    """What an operator's run needs of order import (`OrderImport`): its store, clients and one page's path."""

    settings: StoreSettings
    client: BigCommerceClient
    state: OrderState
    publisher: EventPublisher
    clock: Clock
    page_size: int

    @property
    def store_hash(self) -> str: ...

    def process_page(self, batch: list[Order], context: JobContext) -> None: ...

    def complete_lines(self, order: Order) -> dict[int, list[OrderProduct]] | None: ...

    def event(self, built: WarehouseOrder, version: int, detail_type: DetailType) -> OutboundEvent: ...

    def catalog_of(self, skus: set[str]) -> Mapping[str, CatalogLine]: ...


def run_manual(job: OrderPages, options: OrderImportOptions, context: JobContext) -> None:
    """`bcsync orders fetch --ids` / `--since` and `orders resend --ids`. Fetching by id costs one call
    per order (the operator named them); `--since` is the usual scan over a window, cursor untouched."""
    if options.since is not None:
        until = datetime.fromtimestamp(job.clock.now(), tz=UTC)
        orders = job.client.iter_orders(modified_since=options.since, until=until, limit=job.page_size)
        for batch in map(list, batched(orders, job.page_size, strict=False)):
            job.process_page(batch, context)
            if context.time_is_short():
                last = batch[-1].date_modified
                context.problems.append(f"fetch stopped early: run it again with --since {last}")
                return
        return
    resend = bool(options.resend_ids)
    for order_id in options.resend_ids or options.order_ids:
        try:
            order = job.client.get_order(order_id, include_line_items=True)
        except NotFoundError:
            context.problems.append(f"order {order_id}: not in the store")
            continue
        if resend:
            _resend(job, order, context)
        else:
            job.process_page([order], context)


def _resend(job: OrderPages, order: Order, context: JobContext) -> None:
    record = job.state.get(order.id)
    if record is None or record.version == 0:
        context.problems.append(f"order {order.id}: never sent, nothing to resend (fetch it instead)")
        return
    built = build_warehouse_order(
        order,
        store_hash=job.store_hash,
        settings=job.settings,
        shipping_lines=job.complete_lines(order),
        released=True,  # as order import builds a released order: nothing left to ship is its cancellation
        shipped_by_bcsync=record.shipped_by_bcsync(),
    )
    if isinstance(built, Skip):
        context.problems.append(f"order {order.id}: {built.reason}")
        return
    if built.content_hash() != record.content_hash:
        job.process_page([order], context)  # it changed: that is a new version, not a resend
        return
    built = built.with_catalog(job.catalog_of({line.sku for line in built.lines()}))  # as the scan sends it
    job.publisher.publish([job.event(built, record.version, cast("DetailType", record.detail_type))], resend=True)
    context.count("orders_resent")
