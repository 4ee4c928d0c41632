"""Inventory push as deployed: StockInbound → the real handler → the job queue → BigCommerce's levels."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bcsync.cli import main as bcsync_cli
from bcsync.store.jobs import JobState
from bcsync.store.problems import ProblemLog
from bigcommerce_sandbox import Sandbox, SandboxStore, add_order, seed_variants
from local_runtime import LocalDeployment
from local_runtime.shortcuts import catalog_as_synced
from tests.aws import drain, reason_of
from tests.conftest import KNOWN_TOKENS
from tests.stores import calls_since, connected_store, mark

World = tuple[LocalDeployment, Sandbox]
STORE = "inv111"
ADJUST = "PUT /v3/inventory/adjustments/absolute"


@pytest.fixture(autouse=True)
def _no_debounce(monkeypatch: pytest.MonkeyPatch) -> None:
    # The push is due at once instead of after the 5 s window: the rule is the same, the test waits less.
    monkeypatch.setenv("BCSYNC_WEBHOOK_DEBOUNCE_SECONDS", "0")


def _world(world: World, **settings: Any) -> SandboxStore:
    """A connected store whose catalog product sync has sent to the warehouse."""
    store = connected_store(world, STORE, f"tok-{STORE}-inv", products=9, **settings)
    _sync_catalog(world[0])
    return store


def _sync_catalog(stack: LocalDeployment) -> None:
    sync = stack.load_handler("ProductSyncFunction")
    sync({"action": "tick", "mode": "full"}, stack.context("ProductSyncFunction"))
    stack.deliver_sqs("ProductSyncJobs", sync)
    drain(stack, "WarehouseOutbound")


def _variant_tracked(store: SandboxStore) -> list[tuple[str, int]]:
    """(SKU, variant id) of visible variant-tracked variants with a SKU."""
    return [
        (variant["sku"], variant["id"])
        for product in store.products.values()
        if product["is_visible"] and product["inventory_tracking"] == "variant"
        for variant in product["variants"]
        if variant["sku"]
    ]


def _product_tracked(store: SandboxStore) -> list[tuple[str, int]]:
    """(SKU, product id) of visible product-tracked products (no options, one SKU each)."""
    return [
        (product["sku"], product["id"])
        for product in store.products.values()
        if product["is_visible"] and product["inventory_tracking"] == "product" and product["sku"] != "BUNDLE-GIFT"
    ]


def _stock(items: list[dict[str, Any]], *, as_of: str = "2026-11-23T10:00:00Z", mode: str = "delta") -> dict[str, Any]:
    return {"type": "Stock Level", "schema_version": 1, "store_hash": STORE, "as_of": as_of, "mode": mode,
            "items": items}  # fmt: skip


def _item(sku: str, fulfillable: Any, exception: Any = 0, location: str = "MAIN") -> dict[str, Any]:
    return {"sku": sku, "location": location, "fulfillable": fulfillable, "exception": exception}


def _send(world: World, *messages: dict[str, Any] | str) -> None:
    """Warehouse messages onto StockInbound, through the function, then the push they made due."""
    stack, _ = world
    sqs, url = stack.client("sqs"), stack.physical["StockInbound"]["Ref"]
    for message in messages:
        sqs.send_message(QueueUrl=url, MessageBody=message if isinstance(message, str) else json.dumps(message))
    handler = stack.load_handler("InventoryPushFunction")
    stack.deliver_sqs("StockInbound", handler)
    stack.deliver_sqs("InventoryPushJobs", handler)


def _reconcile(world: World, **options: Any) -> None:
    stack, _ = world
    handler = stack.load_handler("InventoryPushFunction")
    assert handler({"action": "tick", **options}, stack.context("InventoryPushFunction"))["queued"] == [STORE]
    stack.deliver_sqs("InventoryPushJobs", handler)


def _calls(sandbox: Sandbox, since: int) -> list[str]:
    return calls_since(sandbox, STORE, since)


_mark = mark


def _last_run(world: World) -> Any:
    stack, _ = world
    run = JobState(stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])).last_run(
        STORE, "inventory_push"
    )
    assert run is not None
    return run


def test_a_stock_message_is_one_adjustment_and_bigcommerce_shows_the_sellable_values(local_world: World) -> None:
    _, sandbox = local_world
    store = _world(local_world)
    (tee, tee_id), (mug, mug_id), (cap, cap_id) = _variant_tracked(store)[:3]
    plain, plain_id = _product_tracked(store)[0]
    before = _mark(sandbox)

    _send(
        local_world,
        _stock([_item(tee, 10, exception=1), _item(mug, 5), _item(cap, 0), _item(plain, 7)]),
    )

    assert _calls(sandbox, before) == [ADJUST]
    assert store.inventory[(1, "variant", tee_id)] == 9  # 10 fulfillable, 1 in exception
    assert store.inventory[(1, "variant", mug_id)] == 5
    assert store.inventory[(1, "variant", cap_id)] == 0
    assert store.inventory[(1, "product", plain_id)] == 7  # product-tracked: by product id, no 422
    sent = [e for e in sandbox.recorder.exchanges[before:] if e.method == "PUT"]  # type: ignore[attr-defined]
    assert sent[0].status == 200
    assert {"product_id": plain_id, "location_id": 1, "quantity": 7} in json.loads(sent[0].request_body)["items"]
    assert _last_run(local_world).figures["items_pushed"] == 4

    again = _mark(sandbox)
    _reconcile(local_world)

    assert _calls(sandbox, again) == []  # nothing changed: no call at all
    assert _last_run(local_world).figures["items_pushed"] == 0


def test_one_changed_sku_among_many_is_one_call_with_one_item(local_world: World) -> None:
    _, sandbox = local_world
    store = _world(local_world)
    skus = _variant_tracked(store)
    _send(local_world, _stock([_item(sku, 20) for sku, _ in skus]))
    before = _mark(sandbox)

    _send(local_world, _stock([_item(skus[0][0], 19)], as_of="2026-11-23T11:00:00Z"))

    assert _calls(sandbox, before) == [ADJUST]
    sent = sandbox.recorder.exchanges[-1]  # type: ignore[attr-defined]
    assert json.loads(sent.request_body)["items"] == [{"variant_id": skus[0][1], "location_id": 1, "quantity": 19}]


def test_an_order_held_when_the_snapshot_arrives_is_not_sold_twice(local_world: World) -> None:
    # The store holds paid orders for 60 minutes. An order for 3 tees is held when the warehouse reports
    # 10: BigCommerce may sell 7. When the order is released and the warehouse's next snapshot counts it
    # (7 fulfillable), BigCommerce still shows 7 - the order is never subtracted twice.
    stack, sandbox = local_world
    store = _world(local_world, hold_minutes=60)
    product = next(p for p in store.products.values() if p["is_visible"] and p["inventory_tracking"] == "variant")
    tee, tee_id = product["variants"][0]["sku"], product["variants"][0]["id"]
    add_order(store, lines=[(product, product["variants"][0], 3)])
    importer = stack.load_handler("OrderImportFunction")
    importer({"action": "tick"}, stack.context("OrderImportFunction"))
    stack.deliver_sqs("OrderImportJobs", importer)

    _send(local_world, _stock([_item(tee, 10)], as_of=_now(stack)))

    assert store.inventory[(1, "variant", tee_id)] == 7

    stack.clock.advance(61 * 60)  # type: ignore[attr-defined]
    importer({"action": "tick"}, stack.context("OrderImportFunction"))
    stack.deliver_sqs("OrderImportJobs", importer)
    assert [m["detail-type"] for m in drain(stack, "WarehouseOutbound")] == ["Order Ready"]
    before = _mark(sandbox)
    _reconcile(local_world)
    assert _calls(sandbox, before) == []  # released after the snapshot: still taken off, still 7

    stack.clock.advance(60)  # type: ignore[attr-defined]
    _send(local_world, _stock([_item(tee, 7)], as_of=_now(stack)))  # the warehouse set the 3 aside

    assert store.inventory[(1, "variant", tee_id)] == 7
    assert _calls(sandbox, before) == []


def test_a_bundle_defined_by_the_warehouse_shows_what_its_components_allow(local_world: World) -> None:
    store = _world(local_world)
    (tee, _), (mug, _) = _variant_tracked(store)[:2]
    bundle_id = next(p["id"] for p in store.products.values() if p["sku"] == "BUNDLE-GIFT")
    definition = {"type": "Bundle Definition", "schema_version": 1, "store_hash": STORE, "bundle_sku": "BUNDLE-GIFT",
                  "components": [{"sku": tee, "quantity": 2}, {"sku": mug, "quantity": 1}]}  # fmt: skip

    _send(local_world, definition, _stock([_item(tee, 10), _item(mug, 3)]))

    assert store.inventory[(1, "product", bundle_id)] == 3  # min(10 // 2, 3 // 1)


def _bundle(components: dict[str, int], *, as_of: str | None, schema_version: int = 2) -> dict[str, Any]:
    dated = {} if as_of is None else {"as_of": as_of}
    return {"type": "Bundle Definition", "schema_version": schema_version, "store_hash": STORE, **dated,
            "bundle_sku": "BUNDLE-GIFT", "components": [{"sku": s, "quantity": q} for s, q in components.items()]}  # fmt: skip


def test_an_older_bundle_recipe_delivered_late_does_not_replace_the_newer_one(local_world: World) -> None:
    stack, _ = local_world
    store = _world(local_world)
    (tee, _), (mug, _) = _variant_tracked(store)[:2]
    bundle_id = next(p["id"] for p in store.products.values() if p["sku"] == "BUNDLE-GIFT")
    _send(local_world, _stock([_item(tee, 10), _item(mug, 3)]))
    newer = _bundle({tee: 2, mug: 1}, as_of="2026-11-23T11:00:00Z")  # min(10 // 2, 3 // 1) = 3
    older = _bundle({tee: 1}, as_of="2026-11-23T10:00:00+00:00")  # would be 10

    _send(local_world, newer)
    assert store.inventory[(1, "product", bundle_id)] == 3
    _send(local_world, older)  # a retry of the old recipe, back after its visibility timeout
    _send(local_world, newer)  # and the newer one again: a repeat, no change

    assert store.inventory[(1, "product", bundle_id)] == 3
    assert stack.take_messages("StockInboundDLQ") == []  # ignored, not refused

    _send(local_world, _bundle({tee: 1}, as_of="2026-11-23T12:00:00Z"))  # a newer one still counts
    assert store.inventory[(1, "product", bundle_id)] == 10


def test_a_bundle_recipe_of_version_2_needs_its_as_of_time_and_version_1_is_still_read(local_world: World) -> None:
    stack, _ = local_world
    store = _world(local_world)
    (tee, _), (mug, _) = _variant_tracked(store)[:2]
    bundle_id = next(p["id"] for p in store.products.values() if p["sku"] == "BUNDLE-GIFT")

    _send(local_world, _bundle({tee: 2}, as_of=None), _stock([_item(tee, 10), _item(mug, 3)]))
    _send(local_world, _bundle({tee: 5}, as_of=None, schema_version=1))

    assert "as_of" in reason_of(stack.take_messages("StockInboundDLQ")[0])
    assert store.inventory[(1, "product", bundle_id)] == 2  # the version 1 recipe, dated by its arrival


def test_a_refused_item_is_reported_and_the_rest_is_pushed(local_world: World) -> None:
    _, sandbox = local_world
    store = _world(local_world)
    (tee, tee_id), (mug, mug_id) = _variant_tracked(store)[:2]
    product = next(p for p in store.products.values() if any(v["id"] == mug_id for v in p["variants"]))
    product["inventory_tracking"] = "none"  # switched off in BigCommerce after the last product sync
    before = _mark(sandbox)

    _send(local_world, _stock([_item(tee, 4), _item(mug, 6)]))

    assert _calls(sandbox, before) == [ADJUST, ADJUST]  # refused whole, sent again without the named item
    assert store.inventory[(1, "variant", tee_id)] == 4
    problems = _last_run(local_world).problems
    assert any(mug in problem and "tracking disabled" in problem for problem in problems)

    again = _mark(sandbox)
    _reconcile(local_world)
    assert _calls(sandbox, again) == []  # the same refusal is not asked for again every run


def test_tracking_off_in_the_catalog_is_a_problem_to_fix_in_bigcommerce_and_costs_no_call(
    local_world: World,
) -> None:
    stack, sandbox = local_world
    store = _world(local_world)
    _, (mug, mug_id) = _variant_tracked(store)[:2]
    _send(local_world, _stock([_item(mug, 6)]))  # pushed while tracked: the function now knows the catalog
    product = next(p for p in store.products.values() if any(v["id"] == mug_id for v in p["variants"]))
    product["inventory_tracking"] = "none"
    store.touch_product(product["id"])
    _sync_catalog(stack)
    before = _mark(sandbox)

    _send(local_world, _stock([_item(mug, 5)], as_of="2026-11-23T11:00:00Z"))

    assert _calls(sandbox, before) == []
    assert any(
        f"SKU {mug}" in problem and "enable inventory tracking in BigCommerce" in problem
        for problem in _last_run(local_world).problems
    )


def test_bad_items_are_reported_every_good_one_pushed_and_an_unreadable_message_dead_lettered(
    local_world: World,
) -> None:
    stack, _ = local_world
    store = _world(local_world, location_map={"MAIN": 1, "EAST": 2})
    (tee, tee_id), (mug, mug_id) = _variant_tracked(store)[:2]
    mug_before = {key: value for key, value in store.inventory.items() if key[1:] == ("variant", mug_id)}
    message = _stock(
        [
            _item(tee, 5),
            _item(tee, 2, location="EAST"),
            _item(mug, -3),
            _item(mug, 2.5, location="EAST"),
            _item("NO-SUCH-SKU", 4),
            _item(tee, 9, location="MOON"),
        ]
    )

    _send(local_world, message, "{truncated", _stock([_item(tee, 1)], as_of="not a time"))

    assert store.inventory[(1, "variant", tee_id)] == 5
    assert store.inventory[(2, "variant", tee_id)] == 2
    assert {key: value for key, value in store.inventory.items() if key[1:] == ("variant", mug_id)} == mug_before
    table = stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])
    refused = [problem["text"] for problem in ProblemLog(table, STORE).list()]
    assert any("greater than or equal to 0" in text for text in refused)
    assert any("valid integer" in text for text in refused)
    run_problems = " | ".join(_last_run(local_world).problems)
    assert "SKU NO-SUCH-SKU: not in the BigCommerce catalog" in run_problems
    assert "'MOON' is not in the store's location map" in run_problems
    reasons = sorted(reason_of(message) for message in stack.take_messages("StockInboundDLQ"))
    assert len(reasons) == 2
    assert any("not JSON" in reason for reason in reasons) and any("as_of" in reason for reason in reasons)


def test_the_nightly_drift_check_corrects_what_others_changed(local_world: World) -> None:
    _, sandbox = local_world
    store = _world(local_world)
    (tee, tee_id), (mug, mug_id) = _variant_tracked(store)[:2]
    _send(local_world, _stock([_item(tee, 8), _item(mug, 3)]))
    store.inventory[(1, "variant", tee_id)] = 40  # someone typed a number into the control panel
    before = _mark(sandbox)

    _reconcile(local_world)
    assert _calls(sandbox, before) == []  # bcsync cannot know without reading

    _reconcile(local_world, drift=True)

    assert store.inventory[(1, "variant", tee_id)] == 8
    assert store.inventory[(1, "variant", mug_id)] == 3
    assert _calls(sandbox, before)[-1] == ADJUST
    assert _last_run(local_world).figures["items_drifted"] == 1
    assert _last_run(local_world).figures["items_pushed"] == 1


def _now(stack: LocalDeployment) -> str:
    return datetime.fromtimestamp(stack.clock.now(), tz=UTC).isoformat()


def test_the_cli_shows_what_a_push_would_change_without_a_call_then_pushes_it(local_world: World) -> None:
    stack, sandbox = local_world
    store = _world(local_world)
    (tee, tee_id), _ = _variant_tracked(store)[:2]
    sqs = stack.client("sqs")
    sqs.send_message(QueueUrl=stack.physical["StockInbound"]["Ref"], MessageBody=json.dumps(_stock([_item(tee, 9)])))
    stack.deliver_sqs("StockInbound", stack.load_handler("InventoryPushFunction"))
    drain(stack, "InventoryPushJobs")  # the debounced push, left undone: the operator looks first
    before, out = _mark(sandbox), io.StringIO()

    assert bcsync_cli(["inventory", "push", STORE, "--dry-run"], out=out) == 0

    assert "1 items would change (1 stock messages waiting)" in out.getvalue()
    assert f"SKU {tee}: variant {tee_id} at location 1: - → 9" in out.getvalue()
    assert _calls(sandbox, before) == []

    assert bcsync_cli(["inventory", "push", STORE], out=io.StringIO()) == 0
    stack.deliver_sqs("InventoryPushJobs", stack.load_handler("InventoryPushFunction"))

    assert store.inventory[(1, "variant", tee_id)] == 9
    assert _calls(sandbox, before) == [ADJUST]


def test_five_hundred_changed_among_two_thousand_five_hundred_skus_is_one_call_and_nothing_changed_is_none(
    local_world: World,
) -> None:
    # The 100,000 SKUs run in `make bench`; the rule is the same at this size.
    stack, sandbox = local_world
    token = f"tok-{STORE}-inv"
    KNOWN_TOKENS.add(token)
    store = sandbox.add_store(STORE, token=token)
    product_ids = seed_variants(store, products=1_250, variants_per_product=2)
    assert bcsync_cli(["stores", "connect", STORE, "--no-webhooks"], stdin=io.StringIO(token), out=io.StringIO()) == 0
    table = stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])
    assert catalog_as_synced(table, store, product_ids) == 2_500
    variants = [v for product_id in product_ids for v in store.products[product_id]["variants"]]
    first = [_item(v["sku"], 50) for v in variants]
    _send(local_world, *(_stock(first[n : n + 2_000]) for n in range(0, 2_500, 2_000)))
    assert all(store.inventory[(1, "variant", v["id"])] == 50 for v in variants)
    before = _mark(sandbox)

    changed = [_item(v["sku"], 49) for v in variants[::5]]
    _send(local_world, _stock(changed, as_of="2026-11-23T11:00:00Z"))

    assert _calls(sandbox, before) == [ADJUST]
    assert len(json.loads(sandbox.recorder.exchanges[-1].request_body)["items"]) == 500  # type: ignore[attr-defined]
    assert sum(store.inventory[(1, "variant", v["id"])] == 49 for v in variants) == 500
    again = _mark(sandbox)

    _reconcile(local_world)

    assert _calls(sandbox, again) == []
