"""Read back under faults: every shipment a merchant made is one event, and bcsync's own are never one.

test_chaos.py's world (three stores; one below FAULT_SCALE=1, 20 % of BigCommerce calls failing, every SQS message twice and shuffled,
invocations cut at the runtime's named points): the warehouse ships half the orders through the writeback, a
merchant ships the other half by hand (some partly), and the read-back scan runs - once while writeback
invocations cut after their `POST` have not recorded it yet, then again after their redelivery. `make fault`
(FAULT_SCALE=1) runs it with 300 orders; `make test` leaves it out (its budget), and
tests/e2e/test_readback.py covers the race there.
"""

from __future__ import annotations

import io
import json
import random
from collections import Counter
from typing import Any

import pytest

from bcsync.backbone import cutpoints
from bcsync.cli import main as bcsync_cli
from bcsync.store.registry import StoreRegistry
from bigcommerce_client import VirtualClock
from bigcommerce_sandbox import FaultPlan, SandboxStore, add_order, seed_catalog
from bigcommerce_sandbox.readback import merchant_ship
from local_runtime.warehouse import SimulatedWarehouse, receive_all
from tests.conftest import KNOWN_TOKENS
from tests.fault.test_chaos import FAULT_RATE, SCALE, SEED, STORES, Tally, World, _deliver, _reasons, _tick
from tests.fault.test_chaos import chaos_env as chaos_env  # the fixture, shared

ORDERS = max(int(300 * SCALE), 8)
# A run below FAULT_SCALE=1 (by hand: `make test` skips it) takes one store.
CHAOS_STORES = STORES if SCALE >= 1 else STORES[:1]


def _stores(world: World, rng: random.Random) -> dict[str, SandboxStore]:
    """test_chaos.py's stores, every order paid (each one either the warehouse's or a merchant's to ship)."""
    stack, sandbox = world
    stores = {}
    for store_hash in CHAOS_STORES:
        token = f"tok-{store_hash}-chaos-rb"
        KNOWN_TOKENS.add(token)
        store = sandbox.add_store(store_hash, token=token)
        seed_catalog(store, products=4, variants_per_product=2, seed=rng.randrange(1000))
        sellable = [(p, v) for p in store.products.values() for v in p["variants"] if p["is_visible"] and v["sku"]]
        start = store.clock.now() - ORDERS
        for n in range(ORDERS // len(CHAOS_STORES)):
            lines = [(*sellable[rng.randrange(len(sellable))], rng.randint(1, 3)) for _ in range(rng.randint(1, 3))]
            add_order(store, status_id=11, lines=lines, rng=rng, at=start + n)
        assert bcsync_cli(["stores", "connect", store_hash, "--no-webhooks"], stdin=io.StringIO(token),
                          out=io.StringIO()) == 0  # fmt: skip
        stores[store_hash] = store
    registry = StoreRegistry(stack.resource("dynamodb").Table(stack.outputs()["StateTableName"]))
    for store_hash in CHAOS_STORES:
        update = {"schedule_minutes": {"order_import": 1}, "max_wait_seconds": 60.0}
        registry.put(registry.get(store_hash).model_copy(update=update))
    for n, store_hash in enumerate(CHAOS_STORES):
        sandbox.faults[store_hash] = FaultPlan(rate=FAULT_RATE, seed=SEED + n, slow_seconds=1.0)
    return stores


def _read_back(stack: Any, tally: Tally, rng: random.Random, cuts: list[str]) -> list[dict[str, Any]]:
    _tick(stack, "ReadbackFunction", {"action": "tick"})
    _deliver(stack, "ReadbackJobs", "ReadbackFunction", tally, rng, cuts)
    events = [json.loads(message["Body"]) for message in stack.take_messages("WarehouseOutbound")]
    return [event for event in events if event["detail-type"].startswith("Shipment ")]


# Its small form costs about 11 s of one core, more than `make test`'s budget leaves: `make fault` runs it.
@pytest.mark.skipif(SCALE < 1, reason="runs at FAULT_SCALE>=1 (make fault)")
def test_under_faults_each_shipment_made_by_hand_is_one_event_and_bcsyncs_own_none(
    local_world: World, clock: VirtualClock, chaos_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, sandbox = local_world
    rng = random.Random(SEED)
    stores = _stores(local_world, rng)
    tally = Tally()
    warehouses = {store_hash: SimulatedWarehouse(store_hash) for store_hash in CHAOS_STORES}
    _tick(stack, "OrderImportFunction", {"action": "tick"})
    _deliver(stack, "OrderImportJobs", "OrderImportFunction", tally, rng, [])
    receive_all(stack, warehouses)

    # Half of each store's orders the warehouse ships; the other half a merchant ships by hand (every third
    # one only its first line). Merchant shipments bypass the API's faults: they happen in the control panel.
    by_hand: dict[str, set[int]] = {}
    messages = []
    for store_hash, warehouse in warehouses.items():
        order_ids = sorted(warehouse.orders)
        ours = set(order_ids[: len(order_ids) // 2])
        messages += [m for m in warehouse.ship_all() if m["order_id"] in ours and not m["pickup"]]
        by_hand[store_hash] = set()
        for n, order_id in enumerate(sorted(set(order_ids) - ours)):
            store = stores[store_hash]
            first = store.order_products[order_id][0]
            shipment = merchant_ship(store, order_id, {first["id"]: first["quantity"]} if n % 3 == 0 else None)
            by_hand[store_hash].add(int(shipment["id"]))
    sqs = stack.client("sqs")
    for message in messages:
        sqs.send_message(QueueUrl=stack.physical["ShipmentsInbound"]["Ref"], MessageBody=json.dumps(message))
    handler = stack.load_handler("TrackingWritebackFunction")
    # Cut after the POST, and stop there: BigCommerce has those shipments, the writeback has not recorded them.
    # Read back runs now (with cuts of its own), then the writeback's redeliveries, then read back again.
    with stack.cut_at(cutpoints.AFTER_SHIPMENT_POST, times=3):
        tally.add(stack.deliver_sqs("ShipmentsInbound", handler, max_invocations=3, seed=rng.randrange(10**6)))
    events = _read_back(stack, tally, rng, [cutpoints.AFTER_OUTBOX_PENDING, cutpoints.AFTER_PUBLISH])
    stack.expire_in_progress_leases()
    seed = rng.randrange(10**6)
    tally.add(stack.deliver_sqs("ShipmentsInbound", handler, duplicate_rate=1.0, reorder=True, seed=seed))
    clock.advance(120)
    events += _read_back(stack, tally, rng, [])

    keys = Counter(event["detail"]["idempotency_key"] for event in events)
    kinds = Counter(event["detail-type"] for event in events)
    tally.check(set(kinds) <= {"Shipment Created"}, f"events other than Shipment Created: {dict(kinds)}")
    checked = 0
    for store_hash, shipment_ids in by_hand.items():
        published = Counter(
            int(event["detail"]["data"]["bigcommerce_shipment_id"])
            for event in events
            if event["detail"]["store_hash"] == store_hash
        )
        published_keys = {
            event["detail"]["idempotency_key"] for event in events if event["detail"]["store_hash"] == store_hash
        }
        for shipment_id in shipment_ids:
            checked += 1
            tally.check(published[shipment_id] >= 1, f"{store_hash}: shipment {shipment_id} by hand never published")
        echoed = set(published) - shipment_ids
        tally.check(not echoed, f"{store_hash}: bcsync's own shipments published: {sorted(echoed)[:10]}")
        tally.check(len(published_keys) == len(set(published)), f"{store_hash}: one shipment under several keys")
        for order_id, rows in stores[store_hash].shipments.items():
            theirs = [row for row in rows if row["id"] in shipment_ids]
            for row in theirs:
                event = next(
                    e
                    for e in events
                    if e["detail"]["store_hash"] == store_hash  # shipment ids are per store
                    and int(e["detail"]["data"]["bigcommerce_shipment_id"]) == row["id"]
                )
                left = {r["order_product_id"]: r["quantity_remaining"] for r in event["detail"]["data"]["remaining"]}
                expected = {
                    line["id"]: line["quantity"] - line["quantity_shipped"]
                    for line in stores[store_hash].order_products[order_id]
                }
                tally.check(left == expected, f"{store_hash}: order {order_id} left {left}, BigCommerce {expected}")
    for queue in ("ReadbackJobsDLQ", "ShipmentsInboundDLQ"):
        for reason in _reasons(stack, queue):
            tally.violations.append(f"{queue}: {reason}")
    republished = sum(count - 1 for count in keys.values())
    injected = sum((plan.injected for plan in sandbox.faults.values()), Counter())
    with capsys.disabled():
        print(f"\nchaos read back seed {SEED}: {ORDERS} orders, {checked} shipments by hand, {len(messages)} by bcsync")
        print(f"  faults injected: {sum(injected.values())}, invocations cut: {tally.cut}, republished: {republished}")
        print(f"  violations: {len(tally.violations)}")
        for violation in tally.violations[:40]:
            print(f"    {violation}")
    assert sum(injected.values()) > 0 and tally.deliveries["duplicates sent"] > 0 and tally.cut > 0
    assert tally.violations == []
