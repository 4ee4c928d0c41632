"""The sellable quantity, with numbers a store owner can check by hand."""

from __future__ import annotations

import json

import pytest

from bcsync.catalog.state import CatalogEntry
from bcsync.errors import NeverValid
from bcsync.inventory.receiver import parse_stock_message
from bcsync.inventory.sellable import Level, StockRules, Target, changes, sellable_quantities
from bcsync.inventory.state import InboxEntry, merge_snapshot
from bcsync.orders.in_flight import InFlightOrder

SNAPSHOT = 1_000.0  # the warehouse's as-of time
TEE = CatalogEntry(product_id=10, variant_id=101, tracking="variant")
MUG = CatalogEntry(product_id=20, variant_id=201, tracking="variant")
CAP = CatalogEntry(product_id=30, variant_id=301, tracking="variant")
RULES = StockRules(location_map={})


def _sellable(
    levels: dict[tuple[str, str], Level],
    *,
    orders: list[InFlightOrder] | None = None,
    bundles: dict[str, dict[str, int]] | None = None,
    catalog: dict[str, CatalogEntry] | None = None,
    rules: StockRules = RULES,
) -> dict[str, dict[int, int]]:
    result = sellable_quantities(levels, orders or [], bundles or {}, catalog or {}, rules)
    return result.by_sku


def test_exception_stock_is_not_sold() -> None:
    # 10 on the shelf the warehouse can ship, 2 of them damaged: 8 may be sold.
    levels = {("TEE", "MAIN"): Level(fulfillable=10, exception=2, as_of=SNAPSHOT)}

    assert _sellable(levels) == {"TEE": {1: 8}}


def test_orders_the_snapshot_does_not_count_yet_are_taken_off() -> None:
    # Snapshot: 20 fulfillable. An order released before it (3) is already set aside by the warehouse.
    # One released after it (4), one held when it arrived (2), and one released and shipped after it (1)
    # are not: 20 - 4 - 2 - 1 = 13.
    orders = [
        InFlightOrder(1, {"TEE": 3}, released_at=SNAPSHOT - 100),
        InFlightOrder(2, {"TEE": 4}, released_at=SNAPSHOT + 100),
        InFlightOrder(3, {"TEE": 2}, released_at=None),
        InFlightOrder(4, {"TEE": 1}, released_at=SNAPSHOT + 200, shipped=[(SNAPSHOT + 300, {"TEE": 1})]),
    ]
    levels = {("TEE", "MAIN"): Level(20, 0, SNAPSHOT)}

    assert _sellable(levels, orders=orders) == {"TEE": {1: 13}}


def test_a_newer_snapshot_counts_what_it_already_knows() -> None:
    # The next snapshot (as of 1,400) says 12: it has orders 2 and 4 (4 shipped). Only the held order,
    # which the warehouse still does not have, comes off: 12 - 2 = 10.
    orders = [
        InFlightOrder(2, {"TEE": 4}, released_at=SNAPSHOT + 100),
        InFlightOrder(3, {"TEE": 2}, released_at=None),
        InFlightOrder(4, {"TEE": 1}, released_at=SNAPSHOT + 200, shipped=[(SNAPSHOT + 300, {"TEE": 1})]),
    ]
    levels = {("TEE", "MAIN"): Level(12, 0, SNAPSHOT + 400)}

    assert _sellable(levels, orders=orders) == {"TEE": {1: 10}}


def test_a_bundle_sells_as_many_as_its_scarcest_component_allows() -> None:
    # Gift box = 2 tees + 1 mug. 10 tees make 5 boxes, 7 mugs make 7: 5 boxes.
    levels = {("TEE", "MAIN"): Level(10, 0, SNAPSHOT), ("MUG", "MAIN"): Level(7, 0, SNAPSHOT)}
    bundles = {"GIFTBOX": {"TEE": 2, "MUG": 1}}

    assert _sellable(levels, bundles=bundles)["GIFTBOX"] == {1: 5}


def test_a_bundle_sold_uses_its_components() -> None:
    # One gift box sold (held): 2 tees and 1 mug are gone. Tees 10 - 2 = 8, mugs 7 - 1 = 6,
    # boxes min(8 // 2, 6 // 1) = 4.
    levels = {("TEE", "MAIN"): Level(10, 0, SNAPSHOT), ("MUG", "MAIN"): Level(7, 0, SNAPSHOT)}
    bundles = {"GIFTBOX": {"TEE": 2, "MUG": 1}}
    orders = [InFlightOrder(5, {"GIFTBOX": 1}, released_at=None)]

    assert _sellable(levels, bundles=bundles, orders=orders) == {"TEE": {1: 8}, "MUG": {1: 6}, "GIFTBOX": {1: 4}}


def test_below_the_safety_threshold_nothing_is_sold() -> None:
    # Store threshold 5: 4 tees show as 0, 5 mugs stay 5. The cap has its own threshold of 2: 4 caps stay 4.
    levels = {
        ("TEE", "MAIN"): Level(4, 0, SNAPSHOT),
        ("MUG", "MAIN"): Level(5, 0, SNAPSHOT),
        ("CAP", "MAIN"): Level(4, 0, SNAPSHOT),
    }
    rules = StockRules(location_map={}, safety_stock=5, safety_stock_by_sku={"CAP": 2})

    result = sellable_quantities(levels, [], {}, {"TEE": TEE, "MUG": MUG, "CAP": CAP}, rules)

    assert result.by_sku == {"TEE": {1: 0}, "MUG": {1: 5}, "CAP": {1: 4}}
    assert result.zeroed == {"TEE"}


def test_never_negative() -> None:
    # More damaged than fulfillable, and more sold than there is: both show 0, not a negative number.
    levels = {("TEE", "MAIN"): Level(2, 5, SNAPSHOT), ("MUG", "MAIN"): Level(3, 0, SNAPSHOT)}
    orders = [InFlightOrder(9, {"MUG": 8}, released_at=None)]

    assert _sellable(levels, orders=orders) == {"TEE": {1: 0}, "MUG": {1: 0}}


def test_warehouse_locations_map_to_bigcommerce_locations_and_sales_come_off_the_default_first() -> None:
    # MAIN → location 1 (the default), EAST → 2. 3 at MAIN, 10 at EAST, 5 sold (held): 3 come off
    # location 1, the other 2 off location 2. WEST is in no map: reported, the rest still counted.
    levels = {
        ("TEE", "MAIN"): Level(3, 0, SNAPSHOT),
        ("TEE", "EAST"): Level(10, 0, SNAPSHOT),
        ("TEE", "WEST"): Level(50, 0, SNAPSHOT),
    }
    rules = StockRules(location_map={"MAIN": 1, "EAST": 2})
    orders = [InFlightOrder(3, {"TEE": 5}, released_at=None)]

    result = sellable_quantities(levels, orders, {}, {"TEE": TEE}, rules)

    assert result.by_sku == {"TEE": {1: 0, 2: 8}}
    assert "'WEST' is not in the store's location map" in result.problems["TEE"]


def test_two_warehouse_locations_on_one_bigcommerce_location_add_up() -> None:
    levels = {("TEE", "MAIN"): Level(3, 0, SNAPSHOT), ("TEE", "ANNEX"): Level(4, 1, SNAPSHOT)}

    assert _sellable(levels) == {"TEE": {1: 6}}


def test_items_are_keyed_as_bigcommerce_tracks_them() -> None:
    # A product-tracked product is one stock item: its SKUs add up under its product id.
    levels = {("P-1", "MAIN"): Level(3, 0, SNAPSHOT), ("P-2", "MAIN"): Level(4, 0, SNAPSHOT)}
    catalog = {
        "P-1": CatalogEntry(product_id=40, variant_id=401, tracking="product"),
        "P-2": CatalogEntry(product_id=40, variant_id=402, tracking="product"),
    }

    result = sellable_quantities(levels, [], {}, catalog, RULES)

    assert result.quantities == {Target("product", 40, 1): 7}
    assert result.skus_of(Target("product", 40, 1)) == ["P-1", "P-2"]


def test_what_cannot_be_pushed_is_reported_with_its_reason_and_the_rest_goes_on() -> None:
    levels = {
        ("TEE", "MAIN"): Level(3, 0, SNAPSHOT),
        ("OFF", "MAIN"): Level(3, 0, SNAPSHOT),
        ("GHOST", "MAIN"): Level(3, 0, SNAPSHOT),
    }
    bundles = {"LOOP": {"LOOP": 1}, "BOX": {"TEE": 1, "NOWHERE": 1}}
    catalog = {"TEE": TEE, "OFF": CatalogEntry(50, 501, "none"), "LOOP": MUG, "BOX": CAP}

    result = sellable_quantities(levels, [], bundles, catalog, RULES)

    assert result.quantities == {Target("variant", 101, 1): 3}
    assert "enable inventory tracking in BigCommerce" in result.problems["OFF"]
    assert "not in the BigCommerce catalog" in result.problems["GHOST"]
    assert "contains itself" in result.problems["LOOP"]
    assert "component NOWHERE has no stock level" in result.problems["BOX"]


def test_only_what_differs_from_the_last_push_is_sent() -> None:
    wanted = {Target("variant", 1, 1): 5, Target("variant", 2, 1): 0, Target("product", 3, 1): 7}
    pushed = {"v1@1": 5, "p3@1": 6}

    assert changes(wanted, pushed) == {Target("variant", 2, 1): 0, Target("product", 3, 1): 7}


def _entry(mode: str, as_of: float, *items: tuple[str, str, int, int]) -> InboxEntry:
    return InboxEntry(key=f"{as_of}", mode=mode, as_of=as_of, received_at=as_of, items=list(items))


def test_an_older_stock_level_never_overwrites_a_newer_one() -> None:
    levels = {("TEE", "MAIN"): Level(9, 0, SNAPSHOT)}

    changed = merge_snapshot(levels, _entry("delta", SNAPSHOT - 60, ("TEE", "MAIN", 30, 0)))

    assert changed == set() and levels[("TEE", "MAIN")].fulfillable == 9


def test_a_full_snapshot_empties_the_skus_it_no_longer_lists_at_its_locations() -> None:
    levels = {
        ("TEE", "MAIN"): Level(9, 0, SNAPSHOT),
        ("MUG", "MAIN"): Level(4, 0, SNAPSHOT),
        ("MUG", "EAST"): Level(6, 0, SNAPSHOT),
    }

    merge_snapshot(levels, _entry("full", SNAPSHOT + 10, ("TEE", "MAIN", 8, 0)))

    assert levels[("TEE", "MAIN")].fulfillable == 8
    assert levels[("MUG", "MAIN")].fulfillable == 0  # gone from MAIN
    assert levels[("MUG", "EAST")].fulfillable == 6  # EAST was not in this snapshot


def _stock(*items: object, **fields: object) -> str:
    message = {"type": "Stock Level", "schema_version": 1, "store_hash": "abc123",
               "as_of": "2026-11-23T10:00:00Z", "mode": "delta", "items": list(items), **fields}  # fmt: skip
    return json.dumps(message)


def test_bad_items_are_reported_and_the_good_ones_kept() -> None:
    body = _stock(
        {"sku": "TEE", "location": "MAIN", "fulfillable": 5},
        {"sku": "NEG", "location": "MAIN", "fulfillable": -1},
        {"sku": "HALF", "location": "MAIN", "fulfillable": 2.5},
        {"sku": "TEXT", "location": "MAIN", "fulfillable": "7"},
        {"location": "MAIN", "fulfillable": 1},
        "not an item",
    )

    message, problems = parse_stock_message(body)

    assert [item.sku for item in message.items] == ["TEE"]  # type: ignore[union-attr]
    assert len(problems) == 5
    assert "'NEG'" in problems[0] and "greater than or equal to 0" in problems[0]
    assert "'HALF'" in problems[1] and "'TEXT'" in problems[2]
    assert "sku" in problems[3] and "not an object" in problems[4]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "not JSON"),
        (_stock({"sku": "TEE", "location": "MAIN", "fulfillable": 1}, as_of="yesterday"), "as_of"),
        (_stock({"sku": "TEE", "location": "MAIN", "fulfillable": 1}, as_of="2026-11-23T10:00:00"), "as_of"),
        (_stock(), "items"),
        (
            json.dumps({"type": "Bundle Definition", "store_hash": "abc123", "bundle_sku": "B", "components": []}),
            "components",
        ),
        (json.dumps({"type": "Stock Count", "store_hash": "abc123"}), "invalid"),
    ],
)
def test_a_message_that_cannot_be_read_is_never_valid(body: str, reason: str) -> None:
    with pytest.raises(NeverValid, match=reason):
        parse_stock_message(body)
