"""The push: BigCommerce shows what the warehouse can really sell.

One run per store at a time (schedule ticks, debounced stock messages, `bcsync inventory push`) merges the
stock inbox (`inventory.receiver` fills it) into the levels, computes every SKU's sellable quantity
(`inventory.sellable`) and sends BigCommerce only what differs from what it was last given - absolute
values, up to 2,000 items per call, one call after another. Nothing changed: no call at all. With
`drift`, it first reads BigCommerce's own levels, so changes made by others are corrected too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bcsync.backbone.messages import InventoryPushOptions
from bcsync.backbone.runner import Continue, JobContext, JobStep
from bcsync.catalog.state import CatalogEntry, CatalogState
from bcsync.inventory.sellable import Sellable, StockRules, Target, changes, sellable_quantities
from bcsync.inventory.state import StockState, merge_snapshot
from bcsync.orders.in_flight import InFlightOrders
from bcsync.store.settings import StoreSettings
from bigcommerce_client import BigCommerceClient, Clock, UnprocessableError
from bigcommerce_client.client import MAX_ABSOLUTE_ADJUSTMENT_ITEMS
from bigcommerce_client.models import AbsoluteAdjustment

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

ADJUSTMENT_REASON = "bcsync: warehouse stock"
_NAMED_TARGET = re.compile(r"\b(variant_id|product_id) (\d+)")


# --- the push ----------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """One evaluation of a store's stock: what BigCommerce should show, and what must change."""

    sellable: Sellable
    changes: dict[Target, int]
    merged: int  # stock messages merged from the inbox
    lag_seconds: int  # oldest merged message: received → now
    pushed: dict[str, int] = field(default_factory=dict)  # what BigCommerce was last given, per target key


@dataclass
class SkuIndexCache:
    """The SKU index per store for a function's lifetime, read again only when product sync changed it:
    a 100,000-SKU index is 100,000 items, its version one."""

    entries: dict[str, tuple[str, dict[str, CatalogEntry]]] = field(default_factory=dict)

    def get(self, catalog: CatalogState) -> dict[str, CatalogEntry]:
        version = catalog.index_version()
        cached = self.entries.get(catalog.store_hash)
        if cached is not None and version and cached[0] == version:
            return cached[1]
        index = catalog.sku_index()
        self.entries[catalog.store_hash] = (version, index)
        return index


@dataclass
class InventoryPush:
    settings: StoreSettings
    client: BigCommerceClient
    stock: StockState
    in_flight: InFlightOrders
    catalog: CatalogState
    clock: Clock
    index: SkuIndexCache = field(default_factory=SkuIndexCache)

    def plan(self, *, merge: bool = True) -> Plan:
        """Evaluate every SKU. With `merge`, waiting stock messages become the stored levels first;
        without (a dry run), they are only taken into account."""
        entries = self.stock.inbox()
        levels = self.stock.levels()
        changed = set()
        for entry in entries:
            changed |= merge_snapshot(levels, entry)
        if merge and entries:
            self.stock.save_levels(levels, changed)
            self.stock.drop_from_inbox([entry.key for entry in entries])
        sellable = sellable_quantities(
            levels,
            self.in_flight.all(),
            self.stock.bundles(),
            self.index.get(self.catalog),
            StockRules.of(self.settings),
        )
        oldest = min((entry.received_at for entry in entries), default=None)
        lag = int(max(self.clock.now() - oldest, 0)) if oldest is not None else 0
        pushed = self.stock.pushed()
        return Plan(sellable, changes(sellable.quantities, pushed), len(entries), lag, pushed)

    def step(self, context: JobContext) -> Continue | None:
        plan = self.plan()
        if context.message.options_as(InventoryPushOptions).drift:
            plan.changes = changes(plan.sellable.quantities, self._corrected_baseline(plan, context))
        sellable = plan.sellable
        context.count("stock_messages_merged", plan.merged)
        context.count("skus_evaluated", len(sellable.by_sku))
        context.count("skus_zeroed_by_threshold", len(sellable.zeroed))
        context.count("skus_with_problems", len(sellable.problems))
        context.count("items_pushed", 0)
        if plan.merged:
            context.figures["push_lag_seconds"] = plan.lag_seconds
        context.problems += [f"SKU {sku}: {reason}" for sku, reason in sorted(sellable.problems.items())]
        items = list(plan.changes.items())
        for start in range(0, len(items), MAX_ABSOLUTE_ADJUSTMENT_ITEMS):
            self._push(items[start : start + MAX_ABSOLUTE_ADJUSTMENT_ITEMS], sellable, context)
            if context.time_is_short() and start + MAX_ABSOLUTE_ADJUSTMENT_ITEMS < len(items):
                return Continue(checkpoint={})  # the next run recomputes: what was pushed is recorded
        return None

    def _push(self, items: list[tuple[Target, int]], sellable: Sellable, context: JobContext) -> None:
        """One absolute adjustment. BigCommerce refuses the whole request for one bad item (422): that
        item is reported and the rest sent again; an item it does not name is found by halving."""
        pending = list(items)
        while pending:
            try:
                self.client.set_inventory_absolute(
                    [_adjustment(target, quantity) for target, quantity in pending], reason=ADJUSTMENT_REASON
                )
            except UnprocessableError as refused:
                named = _named_items(refused, pending)
                if not named and len(pending) > 1:
                    half = len(pending) // 2
                    self._push(pending[:half], sellable, context)
                    self._push(pending[half:], sellable, context)
                    return
                for target, quantity in named or pending:
                    self._refused(target, quantity, str(refused), sellable, context)
                pending = [item for item in pending if item not in (named or pending)]
                continue
            self.stock.save_pushed({target.key(): quantity for target, quantity in pending})
            context.count("items_pushed", len(pending))
            return

    def _refused(self, target: Target, quantity: int, reason: str, sellable: Sellable, context: JobContext) -> None:
        """Reported, and remembered with its quantity so the same refusal costs no call every run; the
        nightly drift check forgets it and tries again."""
        skus = ", ".join(sellable.skus_of(target)) or "?"
        context.problems.append(f"SKU {skus} ({target.kind} {target.item_id}, location {target.location_id}): {reason}")
        context.count("items_refused")
        self.stock.save_pushed({target.key(): quantity}, refused=True)

    def _corrected_baseline(self, plan: Plan, context: JobContext) -> dict[str, int]:
        """What BigCommerce really holds, for every item bcsync pushes: read, not remembered."""
        actual: dict[tuple[str, int, int], int] = {}
        for item in self.client.iter_inventory_items():
            for at in item.locations:
                if item.identity.variant_id is not None:
                    actual[("variant", item.identity.variant_id, at.location_id)] = at.total_inventory_onhand
                if item.identity.product_id is not None:
                    actual[("product", item.identity.product_id, at.location_id)] = at.total_inventory_onhand
        remembered = plan.pushed
        baseline = {}
        drifted = 0
        for target in plan.sellable.quantities:
            held = actual.get((target.kind, target.item_id, target.location_id))
            if held is None:
                continue  # BigCommerce does not list it (tracking off): pushed anew, reported if refused
            baseline[target.key()] = held
            drifted += remembered.get(target.key()) not in (None, held)
        context.count("items_drifted", drifted)
        return baseline


def _adjustment(target: Target, quantity: int) -> AbsoluteAdjustment:
    key = {"variant_id": target.item_id} if target.kind == "variant" else {"product_id": target.item_id}
    return AbsoluteAdjustment(location_id=target.location_id, quantity=quantity, **key)


def _named_items(refused: UnprocessableError, pending: list[tuple[Target, int]]) -> list[tuple[Target, int]]:
    """The items a 422 names: by index in the request, or by id in its message."""
    named = [pending[index] for index in refused.item_indexes if index < len(pending)]
    if named:
        return named
    texts = [str(refused), *refused.errors.values()]
    ids = {(kind.removesuffix("_id"), int(item_id)) for text in texts for kind, item_id in _NAMED_TARGET.findall(text)}
    return [(target, quantity) for target, quantity in pending if (target.kind, target.item_id) in ids]


def inventory_push_steps(
    *, table: Table, clock: Clock, retention_days: int = 90
) -> Callable[[StoreSettings, BigCommerceClient], JobStep]:
    """The job function's step factory (`ColdStart.job_function`)."""

    index = SkuIndexCache()

    def factory(settings: StoreSettings, client: BigCommerceClient) -> JobStep:
        return push_for(settings, client, table=table, clock=clock, retention_days=retention_days, index=index).step

    return factory


def push_for(
    settings: StoreSettings,
    client: BigCommerceClient,
    *,
    table: Table,
    clock: Clock,
    retention_days: int = 90,
    index: SkuIndexCache | None = None,
) -> InventoryPush:
    return InventoryPush(
        settings=settings,
        client=client,
        stock=StockState(table, settings.store_hash),
        in_flight=InFlightOrders(table, settings.store_hash, retention_days=retention_days),
        catalog=CatalogState(table, settings.store_hash),
        clock=clock,
        index=index or SkuIndexCache(),
    )
