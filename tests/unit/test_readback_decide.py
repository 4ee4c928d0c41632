"""Read back's rules, one row each: which shipments are news, what is left to ship, which levels changed."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bcsync.readback.mapping import Line, SeenShipment, StockSeen, decide_order, decide_stock, has_news, within_lookback
from bcsync.shipments.state import marker
from bcsync.webhooks.receiver import (
    HOOK_SCOPES,
    SHIPMENT_HOOK,
    SHIPMENT_SCOPES,
    SOURCE_HOOK_SCOPES,
    Delivery,
    DeliveryData,
    readback_subject,
)
from bigcommerce_client import VirtualClock
from bigcommerce_client.models import InventoryItem, Shipment
from bigcommerce_sandbox import SandboxStore, seed_catalog
from bigcommerce_sandbox.contract import specs_dir
from bigcommerce_sandbox.readback import emit_shipment, emit_stock

LINES = {1: Line(1, "TEE-S", 2), 2: Line(2, "MUG", 3)}


def _shipment(shipment_id: int, items: dict[int, int], **fields: Any) -> Shipment:
    return Shipment.model_validate(
        {
            "id": shipment_id,
            "order_id": 100,
            "order_address_id": 7,
            "tracking_number": "T1",
            "items": [{"order_product_id": k, "quantity": v, "product_id": 50} for k, v in items.items()],
            **fields,
        }
    )


def _left(readback: Any) -> dict[int, int]:
    data = readback.publications[0].data
    return {row["order_product_id"]: row["quantity_remaining"] for row in data["remaining"]}


def test_a_shipment_not_ours_and_never_seen_is_created_with_what_is_left_counting_bcsyncs_own() -> None:
    ours = _shipment(10, {1: 2}, comments=f"packed {marker('WH-1')}")
    theirs = _shipment(11, {2: 1})

    readback = decide_order(100, [ours, theirs], {}, LINES, imported=True)

    assert [(p.kind, p.shipment_id, p.revision) for p in readback.publications] == [("Shipment Created", 11, 1)]
    assert _left(readback) == {1: 0, 2: 2}
    assert readback.publications[0].data["lines"] == [
        {"order_product_id": 2, "sku": "MUG", "product_id": 50, "variant_id": None, "quantity": 1}
    ]
    assert readback.seen[10].ours and not readback.seen[11].ours


def test_the_same_shipments_read_again_are_no_news() -> None:
    first = decide_order(100, [_shipment(11, {2: 3})], {}, LINES, imported=True)
    again = decide_order(100, [_shipment(11, {2: 3})], first.seen, LINES, imported=True)
    assert again.publications == [] and again.seen == first.seen


def test_a_changed_tracking_number_is_the_next_revision_a_changed_comment_is_none() -> None:
    seen = decide_order(100, [_shipment(11, {2: 3})], {}, LINES, imported=True).seen

    updated = decide_order(100, [_shipment(11, {2: 3}, tracking_number="T2")], seen, LINES, imported=True)
    commented = decide_order(100, [_shipment(11, {2: 3}, comments="hi")], seen, LINES, imported=True)

    assert [(p.kind, p.revision) for p in updated.publications] == [("Shipment Updated", 2)]
    assert updated.publications[0].data["tracking_number"] == "T2"
    assert commented.publications == []


def test_a_published_shipment_gone_is_deleted_and_its_units_are_left_to_ship_again() -> None:
    seen = decide_order(100, [_shipment(11, {2: 3})], {}, LINES, imported=True).seen

    readback = decide_order(100, [], seen, LINES, imported=True)

    assert [(p.kind, p.revision) for p in readback.publications] == [("Shipment Deleted", "deleted")]
    assert _left(readback) == {1: 2, 2: 3} and readback.seen == {}


def test_a_shipment_once_ours_stays_ours_when_its_marker_is_edited_away_and_ours_gone_is_no_news() -> None:
    seen = {10: SeenShipment(0, "x", True, {1: 2})}
    assert decide_order(100, [_shipment(10, {1: 2}, comments="")], seen, LINES, imported=True).publications == []
    assert decide_order(100, [], seen, LINES, imported=True).publications == []


def test_everything_shipped_is_complete() -> None:
    readback = decide_order(100, [_shipment(11, {1: 2, 2: 3})], {}, LINES, imported=True)
    assert readback.publications[0].data["complete"] is True


@pytest.mark.parametrize(
    ("items_shipped", "last_seen", "by_bcsync", "news"),
    [
        (0, None, 0, False),  # nothing shipped, never read
        (2, None, 2, False),  # only what bcsync wrote back: no list
        (3, None, 2, True),  # one more than bcsync's: someone else shipped
        (3, 3, 2, False),  # read already
        (1, 3, 2, True),  # fewer than read: a shipment deleted
    ],
)
def test_the_scan_lists_an_orders_shipments_only_when_its_shipped_units_are_news(
    items_shipped: int, last_seen: int | None, by_bcsync: int, news: bool
) -> None:
    assert has_news(items_shipped, last_seen, by_bcsync) is news


def test_an_order_created_before_the_lookback_window_is_history() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert within_lookback(now - timedelta(days=90), now, 90)
    assert not within_lookback(now - timedelta(days=91), now, 90)
    assert within_lookback(None, now, 90)


def _item(variant_id: int, on_hand: int, location_id: int = 1) -> InventoryItem:
    return InventoryItem.model_validate(
        {
            "identity": {"sku": f"SKU-{variant_id}", "variant_id": variant_id, "product_id": 5},
            "locations": [
                {"location_id": location_id, "total_inventory_onhand": on_hand, "available_to_sell": on_hand}
            ],
        }
    )


def test_a_level_is_published_when_it_changed_and_not_when_it_is_the_same() -> None:
    seen = {"v1@1": StockSeen(4, 4, 1)}

    changes, remember = decide_stock([_item(1, 7), _item(2, 0)], seen, {})
    unchanged, _ = decide_stock([_item(1, 4)], seen, {})

    assert [(c.key, c.on_hand, c.previous_on_hand, c.generation) for c in changes] == [
        ("v1@1", 7, 4, 2),
        ("v2@1", 0, None, 1),
    ]
    assert remember["v1@1"] == StockSeen(7, 7, 2) and unchanged == []


def test_bcsyncs_own_push_is_remembered_never_published_by_variant_or_by_product() -> None:
    seen = {"v1@1": StockSeen(4, 4, 1)}

    changes, remember = decide_stock([_item(1, 9), _item(3, 6)], seen, {"v1@1": 9, "p5@1": 6})

    assert changes == []
    assert remember == {"v1@1": StockSeen(9, 9, 1), "v3@1": StockSeen(6, 6, 0)}


@pytest.mark.parametrize(
    ("scope", "data", "subject"),
    [
        ("store/shipment/created", {"type": "shipment", "id": 12, "orderId": 251}, "NEWS#ORDER#251"),
        ("store/shipment/deleted", {"type": "shipment", "id": 12}, None),
        (
            "store/sku/inventory/updated",
            {"type": "sku", "id": 461, "inventory": {"product_id": 206, "variant_id": 509}},
            "NEWS#STOCK#v509",
        ),
        (
            "store/product/inventory/updated",
            {"type": "product", "id": 167, "inventory": {"product_id": 167}},
            "NEWS#STOCK#p167",
        ),
        ("store/order/created", {"type": "order", "id": 5}, None),
    ],
)
def test_a_read_back_delivery_names_its_news(scope: str, data: dict[str, Any], subject: str | None) -> None:
    assert readback_subject(scope, DeliveryData.model_validate(data)) == subject


SAMPLES = specs_dir() / "docs" / "webhooks" / "callbacks" / "data"


@pytest.mark.parametrize(
    ("scope", "sample"),
    [
        ("created", "store_shipment_created.json"),
        ("updated", "store_shipment_updated.json"),
        ("deleted", "store_shipment_deleted.json"),
    ],
)
def test_the_sandboxs_shipment_webhooks_have_bigcommerces_documented_shape(scope: str, sample: str) -> None:
    store = SandboxStore("abc123", clock=VirtualClock())
    store.hooks[1] = {
        "id": 1,
        "scope": "store/shipment/*",
        "destination": "https://x",
        "headers": {},
        "is_active": True,
    }
    emit_shipment(store, scope, 251, 12)
    sent, documented = store.webhooks.pending[0].payload, json.loads((SAMPLES / sample).read_text())
    assert sent["scope"] == documented["scope"] and sorted(sent) == sorted(documented)
    assert sent["data"] == documented["data"] | {"id": 12, "orderId": 251}
    assert readback_subject(sent["scope"], Delivery.model_validate(sent).data) == "NEWS#ORDER#251"


def test_the_sandboxs_inventory_webhooks_have_bigcommerces_documented_shape() -> None:
    store = SandboxStore("abc123", clock=VirtualClock())
    seed_catalog(store, products=2, variants_per_product=2)
    store.hooks[1] = {"id": 1, "scope": "store/sku/inventory/updated", "destination": "https://x", "headers": {},
                      "is_active": True}  # fmt: skip
    variant = next(v for p in store.products.values() if p["inventory_tracking"] == "variant" for v in p["variants"])
    emit_stock(store, "variant", variant["id"], 5)
    sent = store.webhooks.pending[0].payload
    documented = json.loads((SAMPLES / "store_sku_inventory_updated.json").read_text())
    assert sorted(sent["data"]) == sorted(documented["data"])
    assert sorted(sent["data"]["inventory"]) == sorted(documented["data"]["inventory"])
    assert readback_subject(sent["scope"], Delivery.model_validate(sent).data) == f"NEWS#STOCK#v{variant['id']}"


def test_every_read_back_scope_is_one_bigcommerce_documents_and_inventory_ones_are_for_sources_only() -> None:
    documented = set(re.findall(r"store/[A-Za-z/]+\*?", (specs_dir() / "reference" / "webhooks.v3.yml").read_text()))
    assert HOOK_SCOPES[SHIPMENT_HOOK] == "readback" and set(SHIPMENT_SCOPES) | {SHIPMENT_HOOK} <= documented
    assert set(SOURCE_HOOK_SCOPES) <= documented and not set(SOURCE_HOOK_SCOPES) & set(HOOK_SCOPES)
