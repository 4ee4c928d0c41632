"""Read back as deployed: shipments made in BigCommerce by others, and a source store's stock, reach the
warehouse once - through the real webhook receiver, the read-back function and the bus."""

from __future__ import annotations

import io
import json
import os
from typing import Any

import pytest

from bcsync.backbone import cutpoints
from bcsync.cli import main as bcsync_cli
from bcsync.store.registry import StoreRegistry
from bcsync.store.settings import StoreSettings
from bigcommerce_sandbox import Sandbox, SandboxStore, add_order, seed_catalog
from bigcommerce_sandbox.readback import (
    merchant_delete_shipment,
    merchant_set_stock,
    merchant_ship,
    merchant_update_shipment,
)
from local_runtime import LocalDeployment
from local_runtime.shortcuts import catalog_as_synced
from tests.aws import drain, reason_of
from tests.conftest import KNOWN_TOKENS
from tests.stores import calls_since, mark

World = tuple[LocalDeployment, Sandbox]
DEBOUNCE = 1.0


@pytest.fixture(autouse=True)
def _short_debounce(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BCSYNC_WEBHOOK_DEBOUNCE_SECONDS", str(DEBOUNCE))


def _store(world: World, store_hash: str, *, webhooks: bool = True, **settings: Any) -> SandboxStore:
    stack, sandbox = world
    token = f"tok-{store_hash}-rb"
    KNOWN_TOKENS.add(token)
    store = sandbox.add_store(store_hash, token=token)
    seed_catalog(store, products=3, variants_per_product=2)
    connect = ["stores", "connect", store_hash, *([] if webhooks else ["--no-webhooks"])]
    assert bcsync_cli(connect, stdin=io.StringIO(token), out=io.StringIO()) == 0
    KNOWN_TOKENS.add(stack.credentials().get(store_hash, force_fetch=True).webhook_secret.get_secret_value())
    if settings:
        registry = StoreRegistry(stack.resource("dynamodb").Table(stack.outputs()["StateTableName"]))
        registry.put(StoreSettings.model_validate(registry.get(store_hash).model_dump() | settings))
        if webhooks:  # `enable` ensures the hooks again, now for the store's role
            assert bcsync_cli(["stores", "enable", store_hash], out=io.StringIO()) == 0
    return store


def _imported(world: World, store: SandboxStore, quantities: list[int]) -> int:
    """An order the warehouse has: created in the sandbox and imported by the real order import."""
    stack, _ = world
    sellable = [(p, v) for p in store.products.values() for v in p["variants"] if p["is_visible"] and v["sku"]]
    order_id = add_order(store, lines=[(*sellable[n], q) for n, q in enumerate(quantities)])
    importer = stack.load_handler("OrderImportFunction")
    stack.clock.advance(300)  # type: ignore[attr-defined]  # the store's 5-minute scan interval passes
    importer({"action": "tick"}, stack.context("OrderImportFunction"))
    stack.deliver_sqs("OrderImportJobs", importer)
    drain(stack, "WarehouseOutbound")
    return order_id


def _write_back(
    world: World, store: SandboxStore, order_id: int, line: dict[str, Any], quantity: int, **delivery: Any
) -> Any:
    stack, _ = world
    message = {
        "type": "Shipment Confirmed", "schema_version": 1, "store_hash": store.store_hash, "order_id": order_id,
        "warehouse_shipment_id": f"WH-{line['id']}", "tracking_number": f"1ZWH{line['id']}", "carrier": "UPS",
        "service": "Ground", "lines": [{"order_product_id": line["id"], "quantity": quantity}],
    }  # fmt: skip
    stack.client("sqs").send_message(
        QueueUrl=stack.physical["ShipmentsInbound"]["Ref"], MessageBody=json.dumps(message)
    )
    return stack.deliver_sqs("ShipmentsInbound", stack.load_handler("TrackingWritebackFunction"), **delivery)


def _webhooks_then_read_back(world: World, store: SandboxStore, *, copies: int = 1) -> list[dict[str, Any]]:
    """BigCommerce's deliveries fired at the receiver; the read-back run they made due; what reached the bus."""
    stack, _ = world
    # Only read back's deliveries: the order events the same changes fire are order import's (tested there).
    ours = ("store/shipment/", "store/sku/inventory/", "store/product/inventory/")
    store.webhooks.pending[:] = [d for d in store.webhooks.pending if d.payload["scope"].startswith(ours)]
    results = store.webhooks.fire(copies=copies, verify=os.environ["BCSYNC_LOCAL_CA_BUNDLE"])
    assert all(result.status == 200 for result in results), results
    stack.clock.advance(DEBOUNCE + 1)  # type: ignore[attr-defined]
    stack.deliver_sqs("ReadbackJobs", stack.load_handler("ReadbackFunction"))
    return _read_back_events(world)


def _scan(world: World, **options: Any) -> list[dict[str, Any]]:
    stack, _ = world
    handler = stack.load_handler("ReadbackFunction")
    handler({"action": "tick", **options}, stack.context("ReadbackFunction"))
    stack.deliver_sqs("ReadbackJobs", handler)
    return _read_back_events(world)


def _read_back_events(world: World) -> list[dict[str, Any]]:
    stack, _ = world
    events = drain(stack, "WarehouseOutbound")
    return [e for e in events if e["detail-type"].startswith(("Shipment ", "Stock "))]


def test_a_shipment_made_by_hand_is_published_once_with_what_is_left_and_bcsyncs_own_is_never_echoed(
    local_world: World,
) -> None:
    stack, sandbox = local_world
    store = _store(local_world, "rbk111")
    order_id = _imported(local_world, store, [2, 3])
    ours, theirs = store.order_products[order_id]
    # bcsync's own shipment of line one, cut right after its POST: BigCommerce has it (and fires its webhook),
    # the writeback has not recorded it yet - the race.
    with stack.cut_at(cutpoints.AFTER_SHIPMENT_POST, times=1):
        _write_back(local_world, store, order_id, ours, 2, max_invocations=1)
    assert len(store.shipments[order_id]) == 1
    merchant_ship(store, order_id, {theirs["id"]: 1}, tracking_number="TRACK-9", tracking_carrier="fedex")
    before = mark(sandbox)

    events = _webhooks_then_read_back(local_world, store, copies=2)  # BigCommerce delivers twice

    assert [e["detail-type"] for e in events] == ["Shipment Created"]
    data = events[0]["detail"]["data"]
    assert (data["order_id"], data["tracking_number"], data["tracking_carrier"], data["imported"]) == (
        order_id, "TRACK-9", "fedex", True,
    )  # fmt: skip
    assert [(line["order_product_id"], line["sku"], line["quantity"]) for line in data["lines"]] == [
        (theirs["id"], theirs["sku"], 1)
    ]
    left = {row["order_product_id"]: row["quantity_remaining"] for row in data["remaining"]}
    assert left == {ours["id"]: 0, theirs["id"]: 2} and data["complete"] is False
    # Two shipments, two webhooks each delivered twice: one list of the order's shipments.
    assert calls_since(sandbox, "rbk111", before) == [f"GET /v2/orders/{order_id}/shipments"]
    # The writeback's redelivery finds its shipment by the marker; the scan afterwards lists nothing.
    stack.expire_in_progress_leases()
    assert _write_back(local_world, store, order_id, ours, 2).failed == 0
    assert len(store.shipments[order_id]) == 2
    before = mark(sandbox)
    assert _scan(local_world) == []
    assert f"GET /v2/orders/{order_id}/shipments" not in calls_since(sandbox, "rbk111", before)
    # The merchant corrects the tracking number: one `Shipment Updated`, the next revision; a comment is no news.
    shipment_id = data["bigcommerce_shipment_id"]
    merchant_update_shipment(store, order_id, shipment_id, tracking_number="CORRECTED-1")
    updated = _webhooks_then_read_back(local_world, store)
    assert [e["detail-type"] for e in updated] == ["Shipment Updated"]
    assert updated[0]["detail"]["data"]["tracking_number"] == "CORRECTED-1"
    assert updated[0]["detail"]["idempotency_key"] == f"shipment:rbk111:{shipment_id}:r2"
    merchant_update_shipment(store, order_id, shipment_id, comments="a note")
    assert _webhooks_then_read_back(local_world, store) == []


def test_without_webhooks_the_scan_finds_a_shipment_by_hand_then_its_edit_and_its_deletion(local_world: World) -> None:
    _, sandbox = local_world
    store = _store(local_world, "rbk333", webhooks=False)
    order_id = _imported(local_world, store, [1, 1])
    first, second = store.order_products[order_id]
    assert _scan(local_world) == []  # the first scan: nothing shipped yet
    shipment = merchant_ship(store, order_id)  # everything, by hand
    before = mark(sandbox)

    created = _scan(local_world)

    assert [e["detail-type"] for e in created] == ["Shipment Created"] and created[0]["detail"]["data"]["complete"]
    calls = calls_since(sandbox, "rbk333", before)
    assert calls.count(f"GET /v2/orders/{order_id}/shipments") == 1 and calls[0] == "GET /v2/orders"
    # An edit the scan cannot see (the shipped units are the same) comes by webhook; here by a fresh list.
    merchant_update_shipment(store, order_id, shipment["id"], tracking_number="NEW-1")
    merchant_delete_shipment(store, order_id, shipment["id"])
    deleted = _scan(local_world)
    assert [e["detail-type"] for e in deleted] == ["Shipment Deleted"]
    data = deleted[0]["detail"]["data"]
    assert {row["order_product_id"]: row["quantity_remaining"] for row in data["remaining"]} == {
        first["id"]: 1, second["id"]: 1,
    }  # fmt: skip
    assert _scan(local_world) == []


def test_a_source_stores_stock_is_published_on_change_only(local_world: World) -> None:
    stack, _ = local_world
    store = _store(local_world, "rbk555", role="both")  # a source, and a sales channel bcsync pushes stock to
    assert any("inventory" in hook["scope"] for hook in store.hooks.values())
    variant = next(v for p in store.products.values() if p["inventory_tracking"] == "variant" for v in p["variants"])
    baseline = _scan(local_world, stock_reconcile=True)  # the hourly reconcile: every level once, at first
    assert baseline and len({e["detail"]["idempotency_key"] for e in baseline}) == len(baseline)
    assert _scan(local_world, stock_reconcile=True) == []
    # bcsync's own push sets a level: BigCommerce's webhook fires, and read back knows it for its own.
    table = stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])
    catalog_as_synced(table, store, [product["id"] for product in store.products.values()])  # product sync's index
    stock = {"type": "Stock Level", "schema_version": 1, "store_hash": "rbk555", "as_of": "2026-11-23T10:00:00Z",
             "mode": "delta", "items": [{"sku": variant["sku"], "location": "MAIN", "fulfillable": 11, "exception": 0}]}  # fmt: skip
    stack.client("sqs").send_message(QueueUrl=stack.physical["StockInbound"]["Ref"], MessageBody=json.dumps(stock))
    push = stack.load_handler("InventoryPushFunction")
    stack.deliver_sqs("StockInbound", push)
    stack.clock.advance(DEBOUNCE + 1)  # type: ignore[attr-defined]
    stack.deliver_sqs("InventoryPushJobs", push)
    assert store.inventory[(1, "variant", variant["id"])] == 11
    assert _webhooks_then_read_back(local_world, store) == []

    merchant_set_stock(store, variant_id=variant["id"], quantity=7)
    changed = _webhooks_then_read_back(local_world, store, copies=2)  # BigCommerce delivers twice

    assert [e["detail-type"] for e in changed] == ["Stock Level Changed"]
    data = changed[0]["detail"]["data"]
    # previous_on_hand: the level last known - bcsync's push, remembered, never published
    assert (data["variant_id"], data["location_id"], data["on_hand"], data["previous_on_hand"]) == (
        variant["id"], 1, 7, 11,
    )  # fmt: skip
    merchant_set_stock(store, variant_id=variant["id"], quantity=7)  # the same level again: no news
    assert _webhooks_then_read_back(local_world, store) == []
    assert _scan(local_world, stock_reconcile=True) == []
    # A message no read back can run is dead-lettered with its reason.
    sqs = stack.client("sqs")
    sqs.send_message(QueueUrl=stack.physical["ReadbackJobs"]["Ref"], MessageBody='{"job": "readback"}')
    stack.deliver_sqs("ReadbackJobs", stack.load_handler("ReadbackFunction"))
    assert "store_hash" in reason_of(stack.take_messages("ReadbackJobsDLQ")[0])
