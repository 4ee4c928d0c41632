"""Inventory math: what BigCommerce may sell, from what the warehouse has. No AWS, no HTTP.

Per SKU and BigCommerce location:
- a SKU the warehouse stocks: fulfillable - exception, summed over the warehouse locations that map
  to the BigCommerce location, less every quantity BigCommerce has already sold that the warehouse's
  snapshot does not count yet: orders released to the warehouse after the snapshot's as-of time (and
  not shipped by then), and orders BigCommerce took stock for that the warehouse does not have (held,
  or in a status bcsync does not release). That quantity comes off the store's default location first;
- a bundle: min over its components of ⌊component sellable / quantity per bundle⌋ (a bundle sold is
  its components sold);
- never negative; below the safety threshold (the SKU's, else the store's), 0.
Each BigCommerce item is keyed as BigCommerce tracks it: by variant, or by product (the sum of the
product's SKUs) - a variant-level adjustment of a product-tracked item is refused by BigCommerce.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from bcsync.catalog.state import CatalogEntry
from bcsync.orders.in_flight import InFlightOrder
from bcsync.store.settings import StoreSettings


@dataclass(frozen=True)
class Level:
    """What the warehouse reported for one SKU at one of its locations."""

    fulfillable: int
    exception: int
    as_of: float  # epoch seconds

    def usable(self) -> int:
        return self.fulfillable - self.exception


@dataclass(frozen=True, order=True)
class Target:
    """One item of an absolute adjustment: a variant or a product at a BigCommerce location."""

    kind: Literal["variant", "product"]
    item_id: int
    location_id: int

    def key(self) -> str:
        return f"{self.kind[0]}{self.item_id}@{self.location_id}"


@dataclass(frozen=True)
class StockRules:
    location_map: Mapping[str, int]
    default_location_id: int = 1
    safety_stock: int = 0
    safety_stock_by_sku: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, settings: StoreSettings) -> StockRules:
        return cls(
            location_map=settings.location_map,
            default_location_id=settings.default_location_id,
            safety_stock=settings.safety_stock,
            safety_stock_by_sku=settings.safety_stock_by_sku,
        )

    def location_id(self, warehouse_location: str) -> int | None:
        """None: a location the store's map does not name (an empty map sends everything to the default)."""
        if not self.location_map:
            return self.default_location_id
        return self.location_map.get(warehouse_location)

    def threshold(self, sku: str) -> int:
        return self.safety_stock_by_sku.get(sku, self.safety_stock)


@dataclass
class Sellable:
    """The outcome of one evaluation: what BigCommerce should show, and every SKU that cannot be pushed."""

    quantities: dict[Target, int] = field(default_factory=dict)
    by_sku: dict[str, dict[int, int]] = field(default_factory=dict)  # SKU → location id → sellable
    zeroed: set[str] = field(default_factory=set)  # SKUs that had stock, pushed as 0 by a safety threshold
    problems: dict[str, str] = field(default_factory=dict)  # SKU → why it is not (wholly) pushed
    sources: dict[Target, list[str]] = field(default_factory=dict)  # the SKUs behind each item

    def skus_of(self, target: Target) -> list[str]:
        return self.sources.get(target, [])

    def problem(self, sku: str, reason: str) -> None:
        self.problems[sku] = f"{self.problems[sku]}; {reason}" if sku in self.problems else reason


def sellable_quantities(
    levels: Mapping[tuple[str, str], Level],
    orders: Iterable[InFlightOrder],
    bundles: Mapping[str, Mapping[str, int]],
    catalog: Mapping[str, CatalogEntry],
    rules: StockRules,
) -> Sellable:
    """Every SKU the warehouse reported (and every bundle it defined), as BigCommerce should show it."""
    result = Sellable()
    usable: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    as_of: dict[str, float] = {}
    for (sku, location), level in sorted(levels.items()):
        if sku in bundles:
            continue  # a bundle's stock is its components'
        as_of[sku] = max(as_of.get(sku, 0.0), level.as_of)
        location_id = rules.location_id(location)
        if location_id is None:
            result.problem(sku, f"warehouse location {location!r} is not in the store's location map")
            continue
        usable[sku][location_id] += level.usable()

    demand = _uncounted_demand(list(orders), bundles, as_of)
    for sku, by_location in usable.items():
        result.by_sku[sku] = _less(dict(by_location), demand.get(sku, 0), rules.default_location_id)
    for bundle in sorted(bundles):
        _resolve_bundle(bundle, bundles, result, ())

    for sku, by_location in sorted(result.by_sku.items()):
        threshold = rules.threshold(sku)
        for location_id, quantity in by_location.items():
            if 0 < quantity < threshold:
                by_location[location_id] = 0
                result.zeroed.add(sku)
        _target(sku, by_location, catalog.get(sku), result)
    return result


def _uncounted_demand(
    orders: list[InFlightOrder], bundles: Mapping[str, Mapping[str, int]], as_of: Mapping[str, float]
) -> dict[str, int]:
    """Per warehouse SKU, what BigCommerce sold that its snapshot still counts; bundle lines are their
    components (each compared with that component's snapshot)."""
    demand: dict[str, int] = defaultdict(int)

    def add(order: InFlightOrder, line_sku: str, sku: str, per_line: int, seen: tuple[str, ...]) -> None:
        if sku in bundles:
            if sku in seen:
                return  # a cycle: reported when the bundle is resolved
            for component, quantity in bundles[sku].items():
                add(order, line_sku, component, per_line * quantity, (*seen, sku))
            return
        demand[sku] += order.uncounted(line_sku, as_of.get(sku, 0.0)) * per_line

    for order in orders:
        for line_sku in order.skus:
            add(order, line_sku, line_sku, 1, ())
    return demand


def _less(by_location: dict[int, int], sold: int, default_location_id: int) -> dict[int, int]:
    """Take `sold` off the default location first, then the others in id order; nothing below 0."""
    order = sorted(by_location, key=lambda location_id: (location_id != default_location_id, location_id))
    left = sold
    out: dict[int, int] = {}
    for location_id in order:
        quantity = max(by_location[location_id], 0)
        taken = min(quantity, left)
        out[location_id] = quantity - taken
        left -= taken
    return out


def _resolve_bundle(
    bundle: str, bundles: Mapping[str, Mapping[str, int]], result: Sellable, seen: tuple[str, ...]
) -> dict[int, int] | None:
    """A bundle's sellable per location, or None (reported) when it contains itself or a component
    the warehouse never reported."""
    if bundle in result.by_sku:
        return result.by_sku[bundle]
    if bundle in seen:
        return None
    components = bundles[bundle]
    per_component: list[tuple[dict[int, int], int]] = []
    for component, quantity in components.items():
        if component == bundle or component in seen:
            result.problem(bundle, f"bundle contains itself (through {component})")
            return None
        if component in bundles:
            sellable = _resolve_bundle(component, bundles, result, (*seen, bundle))
            if sellable is None:
                result.problem(bundle, f"component {component} is a bundle that cannot be resolved")
                return None
        elif component in result.by_sku:
            sellable = result.by_sku[component]
        else:
            result.problem(bundle, f"component {component} has no stock level from the warehouse")
            return None
        per_component.append((sellable, quantity))
    locations = sorted({location_id for sellable, _ in per_component for location_id in sellable})
    by_location = {
        location_id: min(sellable.get(location_id, 0) // quantity for sellable, quantity in per_component)
        for location_id in locations
    }
    result.by_sku[bundle] = by_location
    return by_location


def _target(sku: str, by_location: dict[int, int], entry: CatalogEntry | None, result: Sellable) -> None:
    if entry is None:
        result.problem(sku, "not in the BigCommerce catalog (product sync has not seen this SKU)")
        return
    if entry.tracking == "none":
        result.problem(sku, "inventory tracking is off for this product: enable inventory tracking in BigCommerce")
        return
    if entry.tracking == "":
        result.problem(sku, "tracking mode not known yet: run a full product sync (bcsync products sync --full)")
        return
    for location_id, quantity in by_location.items():
        if entry.tracking == "product":
            target = Target("product", entry.product_id, location_id)
        else:
            target = Target("variant", entry.variant_id, location_id)
        result.quantities[target] = result.quantities.get(target, 0) + quantity
        result.sources.setdefault(target, []).append(sku)


def changes(wanted: Mapping[Target, int], pushed: Mapping[str, int]) -> dict[Target, int]:
    """What differs from what BigCommerce was last given: the only items worth a call."""
    return {target: quantity for target, quantity in sorted(wanted.items()) if pushed.get(target.key()) != quantity}
