"""Order import as deployed, on the local runtime and the sandbox: schedule, queue, webhooks."""

from __future__ import annotations

import io
import json
import os
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from bcsync.cli import main as bcsync_cli
from bcsync.orders.state import OrderState
from bcsync.store import keys
from bcsync.store.jobs import JobState
from bcsync.store.registry import StoreRegistry
from bcsync.store.settings import StoreSettings
from bigcommerce_client import VirtualClock
from bigcommerce_sandbox import Sandbox, SandboxStore, add_order, seed_catalog
from local_runtime import LocalDeployment
from local_runtime.warehouse import SimulatedWarehouse
from tests.aws import drain
from tests.conftest import KNOWN_TOKENS

World = tuple[LocalDeployment, Sandbox]


def _connect(world: World, store_hash: str, *extra: str) -> SandboxStore:
    _, sandbox = world
    token = f"tok-{store_hash}-oi"
    KNOWN_TOKENS.add(token)
    store = sandbox.add_store(store_hash, token=token)
    seed_catalog(store, products=12, variants_per_product=2)
    assert bcsync_cli(["stores", "connect", store_hash, *extra], stdin=io.StringIO(token), out=io.StringIO()) == 0
    # These tests tick every 5 to 10 minutes of their clock: the scan of a store without webhooks (a store
    # connected with them scans every 15; that interval has its own test).
    registry = StoreRegistry(world[0].resource("dynamodb").Table(world[0].outputs()["StateTableName"]))
    registry.put(registry.get(store_hash).model_copy(update={"schedule_minutes": {"order_import": 5}}))
    return store


def _sellable(store: SandboxStore) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(p, v) for p in store.products.values() for v in p["variants"] if p["is_visible"]]


def _import(stack: LocalDeployment) -> list[dict[str, Any]]:
    """A schedule tick, its job messages run; the events the warehouse received."""
    handler = stack.load_handler("OrderImportFunction")
    handler({"action": "tick"}, stack.context("OrderImportFunction"))
    report = stack.deliver_sqs("OrderImportJobs", handler)
    assert report.failed == 0 and report.errors == 0
    return drain(stack, "WarehouseOutbound")


def _full_product_sync(stack: LocalDeployment) -> None:
    """A full product sync run, its events taken by the warehouse: the SKU index order import reads."""
    sync = stack.load_handler("ProductSyncFunction")
    sync({"action": "tick", "mode": "full"}, stack.context("ProductSyncFunction"))
    stack.deliver_sqs("ProductSyncJobs", sync)
    drain(stack, "WarehouseOutbound")


def _order_calls(sandbox: Sandbox, store_hash: str) -> int:
    exchanges = sandbox.recorder.exchanges  # type: ignore[attr-defined]
    return sum(1 for e in exchanges if (e.store_hash, e.method, e.api_path) == (store_hash, "GET", "/v2/orders"))


# More than a page: the keyset pages meet at a boundary second. The rule at test size, in pages of 25 (a
# store's setting; BigCommerce's 250 is the default, and the bench's 10,000 orders are read by 250).
BACKLOG, PAGE = 30, 25


def test_the_open_backlog_imports_at_the_call_floor_and_a_rerun_publishes_nothing(
    local_world: World, clock: VirtualClock
) -> None:
    stack, sandbox = local_world
    store = _connect(local_world, "ord111")
    _configure(stack, "ord111", order_page_size=PAGE)
    lines = _sellable(store)
    # One order a second, as a busy store's traffic looks; keyset pages overlap by the boundary second.
    paid = [add_order(store, lines=[(*lines[n % len(lines)], 1)], at=clock.now() - BACKLOG + n) for n in range(BACKLOG)]
    unpaid = [add_order(store, status_id=7, lines=[(*lines[0], 1)]) for _ in range(20)]
    connect_calls = _order_calls(sandbox, "ord111")  # the scope probe

    events = _import(stack)

    assert Counter(e["detail-type"] for e in events) == {"Order Ready": BACKLOG}
    assert sorted(e["detail"]["data"]["order_id"] for e in events) == sorted(paid)
    assert len({e["detail"]["idempotency_key"] for e in events}) == BACKLOG
    assert not {e["detail"]["data"]["order_id"] for e in events} & set(unpaid)
    floor = BACKLOG // PAGE + 1
    assert _order_calls(sandbox, "ord111") - connect_calls <= 1.25 * floor  # measured: 2 pages (the bench runs 10,000)
    calls_before = _order_calls(sandbox, "ord111")

    clock.advance(60)  # within the scan's overlap: the same orders are read again
    assert _import(stack) == []  # unchanged: nothing published, not even a duplicate
    assert _order_calls(sandbox, "ord111") - calls_before <= 3


def test_what_the_warehouse_receives_for_each_kind_of_order(
    local_world: World, clock: VirtualClock, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    stack, _ = local_world
    store = _connect(local_world, "ord222")
    lines = _sellable(store)
    three_addresses = add_order(store, lines=[(*lines[n], n + 1) for n in range(6)], addresses=3)
    sixty_lines = add_order(store, lines=[(*lines[n % len(lines)], 1) for n in range(60)])
    gift = add_order(store, lines=[(*lines[0], 1), (*lines[1], 2)], gift_message="Happy birthday, Ana! ✨",
                     customer_message="Leave it with the neighbour at nº 4")  # fmt: skip
    pickup = add_order(store, lines=[(*lines[2], 1)], pickup=True)
    digital = add_order(store, lines=[(*lines[3], 1)], digital=True)
    waiting = add_order(store, status_id=7, lines=[(*lines[4], 1)])

    by_id = {e["detail"]["data"]["order_id"]: e for e in _import(stack)}

    assert set(by_id) == {three_addresses, sixty_lines, gift, pickup}
    requests = by_id[three_addresses]["detail"]["data"]["shipments"]
    addresses = {a["id"]: a for a in store.shipping_addresses[three_addresses]}
    assert [r["order_address_id"] for r in requests] == list(addresses)
    expected = {a: sorted(x["id"] for x in store.order_products[three_addresses] if x["order_address_id"] == a)
                for a in addresses}  # fmt: skip
    assert {r["order_address_id"]: sorted(x["order_product_id"] for x in r["lines"]) for r in requests} == expected
    assert all(len(expected[a]) == 2 for a in expected)
    sixty = by_id[sixty_lines]["detail"]["data"]["shipments"]
    assert sum(len(r["lines"]) for r in sixty) == 60  # the embedded 50 were completed from /products
    gift_order = by_id[gift]["detail"]["data"]
    assert gift_order["customer_message"] == "Leave it with the neighbour at nº 4"
    assert gift_order["shipments"][0]["lines"][0]["gift_message"] == "Happy birthday, Ana! ✨"
    assert [line["quantity"] for line in gift_order["shipments"][0]["lines"]] == [1, 2]
    pickup_order = by_id[pickup]["detail"]["data"]["shipments"]
    assert [(r["pickup"], r["order_address_id"]) for r in pickup_order] == [(True, None)]
    (collect,) = pickup_order  # where and how the customer collects it, as BigCommerce embedded it
    assert (collect["pickup_location"]["code"], collect["pickup_location"]["state_code"]) == ("BC-LOCATION-1", "TX")
    assert (collect["pickup_method_name"], collect["collection_instructions"]) == ("Pick Up", "Bring your ID")
    three = by_id[three_addresses]["detail"]["data"]
    assert (three["shipping_cost_inc_tax"], three["payment_status"], three["channel_id"]) == ("15.0000", "captured", 1)
    assert [r["shipping_cost_inc_tax"] for r in three["shipments"]] == ["5.0"] * 3
    states = OrderState(stack.resource("dynamodb").Table(stack.outputs()["StateTableName"]), "ord222")
    skipped = states.get(digital)
    assert skipped is not None and (skipped.state, skipped.reason) == ("skipped", "digital only: nothing to ship")
    assert states.get(waiting) is None  # not paid yet: not ours, not recorded

    clock.advance(600)
    store.set_order_status(gift, 5)  # cancelled after release
    store.set_order_status(waiting, 11)  # paid now
    later = _import(stack)
    assert sorted(
        (e["detail-type"], e["detail"]["data"]["order_id"], e["detail"]["data"]["version"]) for e in later
    ) == [
        ("Order Cancelled", gift, 2),
        ("Order Ready", waiting, 1),
    ]
    clock.advance(600)
    assert _import(stack) == []
    # Orders hold personal data; none of it reaches a log line.
    logged = capsys.readouterr().out + caplog.text
    personal = {a[field] for rows in store.shipping_addresses.values() for a in rows for field in ("email", "street_1")}
    personal |= {o["billing_address"]["email"] for o in store.orders.values()}
    assert personal and not [value for value in personal if value and value in logged]


@pytest.fixture
def debounce(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setenv("BCSYNC_WEBHOOK_DEBOUNCE_SECONDS", "1")
    return 1.0


def test_webhooks_delivered_twice_and_shuffled_still_yield_one_order_ready_per_order(
    local_world: World, clock: VirtualClock, debounce: float
) -> None:
    stack, _ = local_world
    store = _connect(local_world, "ord333")
    _import(stack)  # the first run sets the cursor; from now on the scan follows date_modified
    clock.advance(600)
    lines = _sellable(store)
    orders = [add_order(store, lines=[(*lines[n % len(lines)], 1)]) for n in range(40)]
    store.webhooks.fire(copies=2, shuffle_seed=3, verify=os.environ["BCSYNC_LOCAL_CA_BUNDLE"])
    clock.advance(debounce + 0.5)  # the job message's delay, on the clock SQS delays follow

    handler = stack.load_handler("OrderImportFunction")
    report = stack.deliver_sqs("OrderImportJobs", handler)
    events = drain(stack, "WarehouseOutbound")

    assert report.delivered >= 1 and report.failed == 0
    assert Counter(e["detail"]["data"]["order_id"] for e in events) == Counter(orders)
    assert {e["detail-type"] for e in events} == {"Order Ready"}


def test_orders_edited_during_a_scan_are_neither_skipped_nor_duplicated(
    local_world: World, clock: VirtualClock
) -> None:
    stack, sandbox = local_world
    store = _connect(local_world, "ord444")
    _configure(stack, "ord444", order_page_size=PAGE)
    _import(stack)  # sets the cursor: this run scans by date_modified
    clock.advance(3600)
    lines = _sellable(store)
    orders = [add_order(store, lines=[(*lines[n % len(lines)], 1)], at=clock.now() - 30 + n) for n in range(30)]
    already_read, not_yet_read = orders[10:15], orders[25:30]  # on the first page of 25, and past it
    pages_served: list[int] = []

    def edit_after_the_first_page(exchange: Any) -> None:
        if (exchange.store_hash, exchange.api_path) == ("ord444", "/v2/orders") and not pages_served:
            pages_served.append(1)
            for order_id in already_read + not_yet_read:  # the merchant edits notes while we page
                store.orders[order_id]["customer_message"] = "edited mid-scan"
                store.touch_order(order_id)

    sandbox.observers.append(edit_after_the_first_page)
    events = _import(stack)

    ready = Counter(e["detail"]["data"]["order_id"] for e in events if e["detail-type"] == "Order Ready")
    updated = Counter(e["detail"]["data"]["order_id"] for e in events if e["detail-type"] == "Order Updated")
    assert ready == Counter(orders)  # none skipped, none twice
    assert updated == Counter(already_read)  # read before the edit: its new content is version 2
    final = {(e["detail"]["data"]["order_id"]): e["detail"]["data"]["customer_message"] for e in events}
    assert all(final[order_id] == "edited mid-scan" for order_id in already_read + not_yet_read)


def test_no_order_of_a_busy_second_is_lost_when_another_of_that_second_changes_mid_scan(
    local_world: World, clock: VirtualClock
) -> None:
    stack, sandbox = local_world
    store = _connect(local_world, "ord446")
    _configure(stack, "ord446", order_page_size=5)
    _import(stack)  # sets the cursor: this run scans by date_modified
    clock.advance(3600)
    lines = _sellable(store)
    second = clock.now() - 100
    orders = [add_order(store, lines=[(*lines[n % len(lines)], 1)], at=second) for n in range(12)]  # 2.4 pages
    pages: list[int] = []

    def edit_one_while_inside_the_second(exchange: Any) -> None:
        if (exchange.store_hash, exchange.api_path) == ("ord446", "/v2/orders"):
            pages.append(1)
            if len(pages) == 2:  # the scan is inside the second (its first page read): the second's set shrinks
                store.orders[orders[1]]["customer_message"] = "edited mid-scan"
                store.touch_order(orders[1])

    sandbox.observers.append(edit_one_while_inside_the_second)
    events = _import(stack)

    assert Counter(e["detail"]["data"]["order_id"] for e in events if e["detail-type"] == "Order Ready") == Counter(
        orders
    )


def _configure(stack: LocalDeployment, store_hash: str, **settings: Any) -> None:
    registry = StoreRegistry(stack.resource("dynamodb").Table(stack.outputs()["StateTableName"]))
    registry.put(StoreSettings.model_validate(registry.get(store_hash).model_dump() | settings))


def test_a_hold_window_holds_orders_then_releases_their_latest_content_with_no_extra_call(
    local_world: World, clock: VirtualClock
) -> None:
    stack, sandbox = local_world
    store = _connect(local_world, "ord555")
    _configure(stack, "ord555", hold_minutes=30)
    lines = _sellable(store)
    kept, edited, cancelled = (add_order(store, lines=[(*lines[n], 1)]) for n in range(3))

    assert _import(stack) == []  # all three held; the cursor moved on
    clock.advance(10 * 60)
    store.orders[edited]["customer_message"] = "gate code 4411"
    store.touch_order(edited)
    store.set_order_status(cancelled, 5)
    assert _import(stack) == []  # still inside the window: the edit refreshes, the cancellation withdraws
    clock.advance(21 * 60)
    calls_before = _order_calls(sandbox, "ord555")

    released = _import(stack)

    assert {e["detail"]["data"]["order_id"]: e["detail-type"] for e in released} == {
        kept: "Order Ready",
        edited: "Order Ready",
    }
    assert (
        next(e for e in released if e["detail"]["data"]["order_id"] == edited)["detail"]["data"]["customer_message"]
        == "gate code 4411"
    )
    assert _order_calls(sandbox, "ord555") - calls_before == 1  # the scan's one page; the release costs none


def test_no_held_snapshot_outlives_the_retention_and_no_published_key_is_forgotten_before_its_order(
    local_world: World, clock: VirtualClock
) -> None:
    stack, _ = local_world
    store = _connect(local_world, "ord777")
    _configure(stack, "ord777", hold_minutes=30)
    held = add_order(store, lines=[(*_sellable(store)[0], 1)])
    table = stack.resource("dynamodb").Table(str(stack.outputs()["StateTableName"]))
    retention = 90 * 86_400  # OrderRetentionDays' default

    assert _import(stack) == []
    snapshot = table.get_item(Key=keys.held_order("ord777", held))["Item"]  # name, e-mail, phone, street
    assert abs(int(snapshot["expires_at"]) - (time.time() + retention)) < 120
    clock.advance(31 * 60)
    (released,) = _import(stack)

    record = table.get_item(Key=keys.order("ord777", held))["Item"]
    published = table.get_item(Key=keys.outbox_row(released["detail"]["idempotency_key"]))["Item"]
    # An unchanged order touched again is offered under the same key for as long as its record lives.
    assert int(published["expires_at"]) >= int(record["expires_at"])


def test_refunding_every_line_of_a_released_order_cancels_it_at_the_warehouse(
    local_world: World, clock: VirtualClock
) -> None:
    stack, _ = local_world
    store = _connect(local_world, "ord888")
    lines = _sellable(store)
    order_id = add_order(store, lines=[(*lines[0], 2), (*lines[1], 1)])
    ((first,),) = [[e["detail"]["data"]["version"] for e in _import(stack)]]
    clock.advance(600)  # the store's next scheduled turn
    for line in store.order_products[order_id]:  # every line refunded; the shipping was not: Partially Refunded
        line["quantity_refunded"] = line["quantity"]
    store.set_order_status(order_id, 14)

    (cancelled,) = _import(stack)

    assert (first, cancelled["detail-type"], cancelled["detail"]["data"]["version"]) == (1, "Order Cancelled", 2)
    assert (cancelled["detail"]["data"]["cancelled"], cancelled["detail"]["data"]["shipments"]) == (True, [])


def _warehouse_counts(stack: LocalDeployment, store_hash: str, sku: str, fulfillable: int, *, as_of: float) -> None:
    """The warehouse's stock message for one SKU, then the push it makes due."""
    message = {"type": "Stock Level", "schema_version": 1, "store_hash": store_hash, "mode": "delta",
               "as_of": datetime.fromtimestamp(as_of, tz=UTC).isoformat(),
               "items": [{"sku": sku, "location": "MAIN", "fulfillable": fulfillable, "exception": 0}]}  # fmt: skip
    stack.client("sqs").send_message(QueueUrl=stack.physical["StockInbound"]["Ref"], MessageBody=json.dumps(message))
    handler = stack.load_handler("InventoryPushFunction")
    stack.deliver_sqs("StockInbound", handler)
    stack.deliver_sqs("InventoryPushJobs", handler)


def _push_again(stack: LocalDeployment, store_hash: str) -> None:
    handler = stack.load_handler("InventoryPushFunction")
    assert handler({"action": "tick"}, stack.context("InventoryPushFunction"))["queued"] == [store_hash]
    stack.deliver_sqs("InventoryPushJobs", handler)


def test_a_released_order_bigcommerce_puts_on_manual_verification_is_held_at_the_warehouse_then_freed(
    local_world: World, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BCSYNC_WEBHOOK_DEBOUNCE_SECONDS", "0")  # the push is due at once
    stack, _ = local_world
    store = _connect(local_world, "ord121")
    _full_product_sync(stack)
    product = next(p for p in store.products.values() if p["is_visible"] and p["inventory_tracking"] == "variant")
    tee = product["variants"][0]
    order_id = add_order(store, lines=[(product, tee, 3)])
    warehouse = SimulatedWarehouse("ord121")
    (ready,) = _import(stack)
    warehouse.take(ready)
    # The warehouse counted 10 just before it had the order: BigCommerce may sell 7.
    _warehouse_counts(stack, "ord121", tee["sku"], 10, as_of=clock.now() - 60)
    assert store.inventory[(1, "variant", tee["id"])] == 7

    clock.advance(600)
    store.set_order_status(order_id, 12)  # Manual Verification Required, after the warehouse had it
    (held,) = _import(stack)
    warehouse.take(held)

    assert warehouse.ship_all() == []  # the warehouse had it, and now knows not to ship it
    kinds = [(e["detail-type"], e["detail"]["schema_version"], e["detail"]["data"]["version"]) for e in (ready, held)]
    assert kinds == [("Order Ready", 3, 1), ("Order On Hold", 3, 2)]
    assert ready["detail"]["data"]["hold"] is None
    hold = held["detail"]["data"]["hold"]
    assert (hold["reason"], hold["bigcommerce_status_id"], hold["since"] is not None) == (
        "Manual Verification Required",
        12,
        True,
    )
    assert held["detail"]["data"]["shipments"] == ready["detail"]["data"]["shipments"]  # the whole order
    run = JobState(stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])).last_run(
        "ord121", "order_import"
    )
    assert run is not None and run.figures["orders_on_hold"] == 1
    _push_again(stack, "ord121")
    assert store.inventory[(1, "variant", tee["id"])] == 7  # on hold, its stock is still sold: none comes back

    clock.advance(600)
    store.touch_order(order_id)  # still on hold, read again: nothing new for the warehouse
    assert _import(stack) == []
    clock.advance(600)
    store.set_order_status(order_id, 11)  # verified: it may ship again
    (freed,) = _import(stack)
    warehouse.take(freed)

    assert {message["order_id"] for message in warehouse.ship_all()} == {order_id}
    assert (freed["detail-type"], freed["detail"]["data"]["version"], freed["detail"]["data"]["hold"]) == (
        "Order Updated",
        3,
        None,
    )


def _published_order(stack: LocalDeployment, event: dict[str, Any]) -> dict[str, Any]:
    """An event's order, read from the payload bucket when it was too large for EventBridge."""
    detail = event["detail"]
    if "data" in detail:
        return dict(detail["data"])
    ref = detail["data_ref"]
    return dict(json.loads(stack.client("s3").get_object(Bucket=ref["bucket"], Key=ref["key"])["Body"].read()))


def test_orders_of_thousands_of_lines_are_held_stored_and_published_whole(
    local_world: World, clock: VirtualClock
) -> None:
    """A DynamoDB item holds 400 KB (the local AWS refuses more, as AWS does): an order's lines and its held
    snapshot are stored packed, so no order is too large to import, hold or write shipments back against."""
    stack, _ = local_world
    store = _connect(local_world, "ord991")
    _configure(stack, "ord991", hold_minutes=30)
    lines = _sellable(store)
    held = add_order(store, lines=[(*lines[n % len(lines)], 1) for n in range(2_000)])
    assert _import(stack) == []  # held, with its snapshot
    _configure(stack, "ord991", hold_minutes=0)
    clock.advance(31 * 60)
    big = add_order(store, lines=[(*lines[n % len(lines)], 1) for n in range(6_000)])

    published = {order["order_id"]: order for order in map(lambda e: _published_order(stack, e), _import(stack))}

    assert {order_id: sum(len(s["lines"]) for s in order["shipments"]) for order_id, order in published.items()} == {
        held: 2_000,
        big: 6_000,
    }
    record = OrderState(stack.resource("dynamodb").Table(stack.outputs()["StateTableName"]), "ord991").get(big)
    assert record is not None and len(record.lines) == 6_000 and record.version == 1


def test_business_hours_release_at_the_next_opening(local_world: World, clock: VirtualClock) -> None:
    stack, _ = local_world
    store = _connect(local_world, "ord666")
    # The clock starts on a Tuesday at 22:13 UTC: after hours.
    _configure(stack, "ord666", business_hours={"timezone": "UTC", "opens": "09:00", "closes": "17:00"})
    order_id = add_order(store, lines=[(*_sellable(store)[0], 1)])

    assert _import(stack) == []
    clock.advance(10 * 3600 + 40 * 60)  # Wednesday 08:53
    assert _import(stack) == []
    clock.advance(10 * 60)  # 09:03

    assert [e["detail"]["data"]["order_id"] for e in _import(stack)] == [order_id]


def test_an_operator_fetches_orders_the_scan_cannot_see_and_resends_one_the_warehouse_lost(
    local_world: World, clock: VirtualClock
) -> None:
    stack, _ = local_world
    store = _connect(local_world, "ord777")
    _import(stack)  # the cursor is now
    lines = _sellable(store)
    by_id, by_time = (add_order(store, lines=[(*lines[n], 1)], at=clock.now() - 86_400 + n) for n in range(2))
    assert _import(stack) == []  # modified before the cursor: the scan never sees them
    handler = stack.load_handler("OrderImportFunction")

    def run(*argv: str) -> list[dict[str, Any]]:
        out = io.StringIO()
        assert bcsync_cli([*argv], out=out) == 0, out.getvalue()
        assert stack.deliver_sqs("OrderImportJobs", handler).failed == 0
        return drain(stack, "WarehouseOutbound")

    fetched = run("orders", "fetch", "ord777", "--ids", str(by_id))
    since = run("orders", "fetch", "ord777", "--since", "2000-01-01")
    resent = run("orders", "resend", "ord777", "--ids", str(by_id))

    assert [e["detail"]["data"]["order_id"] for e in fetched] == [by_id]
    assert [e["detail"]["data"]["order_id"] for e in since] == [by_time]  # by_id is already out: not again
    assert [e["detail"]["idempotency_key"] for e in resent] == [fetched[0]["detail"]["idempotency_key"]]
    assert resent[0]["detail"]["data"] == fetched[0]["detail"]["data"]  # catalog flags and customs data too
    with pytest.raises(SystemExit) as refused:  # argparse's answer to a bad argument: exit 2, one line
        bcsync_cli(["orders", "fetch", "ord777", "--ids", "12,x"], out=io.StringIO())
    assert refused.value.code == 2


def test_a_fetch_event_queues_a_run_for_one_store(local_world: World) -> None:
    stack, _ = local_world
    store = _connect(local_world, "ord888")
    order_id = add_order(store, lines=[(*_sellable(store)[0], 1)])
    handler = stack.load_handler("OrderImportFunction")

    answer = handler(
        {"action": "run", "store_hash": "ord888", "options": {"order_ids": [order_id]}},
        stack.context("OrderImportFunction"),
    )
    stack.deliver_sqs("OrderImportJobs", handler)

    assert answer == {"queued": ["ord888"], "problems": []}
    assert [e["detail"]["data"]["order_id"] for e in drain(stack, "WarehouseOutbound")] == [order_id]


def test_a_line_whose_sku_product_sync_never_sent_is_flagged(local_world: World) -> None:
    stack, _ = local_world
    store = _connect(local_world, "ord999")
    _full_product_sync(stack)
    synced = next((p, v) for p in store.products.values() for v in p["variants"] if p["is_visible"] and v["sku"])
    hidden = next((p, v) for p in store.products.values() for v in p["variants"] if not p["is_visible"] and v["sku"])
    order_id = add_order(store, lines=[(*synced, 1), (*hidden, 1)])

    (event,) = _import(stack)

    flags = {line["sku"]: line["sku_in_catalog"] for line in event["detail"]["data"]["shipments"][0]["lines"]}
    assert flags == {synced[1]["sku"]: True, hidden[1]["sku"]: False}
    table = stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])
    run = JobState(table).last_run("ord999", "order_import")
    assert run is not None and run.figures["lines_sku_not_in_catalog"] == 1
    assert f"order {order_id}: SKU {hidden[1]['sku']} not sent by product sync" in run.problems


def test_an_order_bcsync_cannot_read_is_recorded_with_its_reason_and_the_rest_imports(local_world: World) -> None:
    stack, _ = local_world
    store = _connect(local_world, "ord010")
    lines = _sellable(store)
    good = [add_order(store, lines=[(*lines[n], 1)]) for n in range(3)]
    broken = add_order(store, lines=[(*lines[0], 1)])
    store.orders[broken]["date_created"] = "the 31st of Smarch"  # a date no parser reads

    events = _import(stack)

    assert sorted(e["detail"]["data"]["order_id"] for e in events) == sorted(good)
    table = stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])
    record = OrderState(table, "ord010").get(broken)
    assert record is not None and record.state == "skipped" and "date_created" in record.reason
    run = JobState(table).last_run("ord010", "order_import")
    assert run is not None and run.figures["orders_unreadable"] == 1 and run.outcome == "done"


def test_units_shipped_by_hand_from_the_store_leave_the_warehouse_order_and_its_own_shipments_do_not(
    local_world: World, clock: VirtualClock
) -> None:
    """Staff ship a line from the shop: the warehouse is told not to ship it (a new version without it). The
    warehouse ships the rest and bcsync writes it back: that is no new version."""
    stack, _ = local_world
    store = _connect(local_world, "ord995")
    lines = _sellable(store)
    order_id = add_order(store, lines=[(*lines[0], 2), (*lines[1], 1)])
    (ready,) = _import(stack)
    by_hand, rest = store.order_products[order_id]
    address = store.shipping_addresses[order_id][0]["id"]
    store.record_shipment(order_id, {"order_address_id": address, "tracking_number": "SHOP-1",
                                     "items": [{"order_product_id": by_hand["id"], "quantity": 2}]})  # fmt: skip
    clock.advance(600)

    (updated,) = _import(stack)

    assert (ready["detail"]["data"]["version"], updated["detail-type"], updated["detail"]["data"]["version"]) == (
        1, "Order Updated", 2,
    )  # fmt: skip
    (request,) = updated["detail"]["data"]["shipments"]
    assert [(line["order_product_id"], line["quantity"]) for line in request["lines"]] == [(rest["id"], 1)]
    shipment = {"type": "Shipment Confirmed", "schema_version": 1, "store_hash": "ord995", "order_id": order_id,
                "warehouse_shipment_id": "WH-995", "tracking_number": "1Z995", "carrier": "UPS", "service": "Ground",
                "lines": [{"order_product_id": rest["id"], "quantity": 1}]}  # fmt: skip
    stack.client("sqs").send_message(
        QueueUrl=stack.physical["ShipmentsInbound"]["Ref"], MessageBody=json.dumps(shipment)
    )
    assert stack.deliver_sqs("ShipmentsInbound", stack.load_handler("TrackingWritebackFunction")).failed == 0
    clock.advance(600)
    assert _import(stack) == []  # bcsync's own shipment is no new version
