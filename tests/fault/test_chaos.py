"""docs/design.md's delivery guarantees under faults: nothing lost, nothing doubled.

Three stores; 20 % of BigCommerce calls fail (429 with and without headers, 500/502/503, answers slower
than the client's timeout, connections dropped before and after BigCommerce acted, broken bodies);
every SQS message is delivered twice and batches come shuffled; invocations are cut at the runtime's
named points and retried. `make test` runs it small; `make fault` (FAULT_SCALE=1) at the issue's size:
2,000 orders and 500 shipments. The seed is printed; FAULT_SEED repeats a run.
"""

from __future__ import annotations

import io
import json
import os
import random
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest

from bcsync.backbone import cutpoints
from bcsync.cli import main as bcsync_cli
from bcsync.inventory.push import push_for
from bcsync.orders.state import OrderState
from bcsync.shipments.state import marker
from bcsync.store.registry import StoreRegistry
from bigcommerce_client import BigCommerceClient, VirtualClock
from bigcommerce_sandbox import FaultPlan, Sandbox, SandboxStore, add_order, seed_catalog
from local_runtime import DeliveryReport, LocalDeployment
from local_runtime.warehouse import SimulatedWarehouse, receive_all
from tests.aws import reason_of
from tests.conftest import KNOWN_TOKENS

SCALE = float(os.environ.get("FAULT_SCALE", "0.02"))  # make test: 40 orders, 12 shipments
SEED = int(os.environ.get("FAULT_SEED", "20261123"))
STORES = ("chaos1", "chaos2", "chaos3")
ORDERS = max(int(2_000 * SCALE), 30)
SHIPMENTS = max(int(500 * SCALE), 12)
FAULT_RATE = 0.2
World = tuple[LocalDeployment, Sandbox]


@dataclass
class Tally:
    """What the run did and what it found, printed at the end (docs/reliability.md quotes it)."""

    deliveries: Counter[str] = field(default_factory=Counter)
    cut: int = 0
    violations: list[str] = field(default_factory=list)

    def add(self, report: DeliveryReport) -> None:
        self.deliveries["invocations"] += report.invocations
        self.deliveries["duplicates sent"] += report.duplicates_sent
        self.deliveries["records failed and retried"] += report.failed
        self.cut += report.cut

    def check(self, ok: bool, violation: str) -> None:
        if not ok:
            self.violations.append(violation)


@pytest.fixture
def chaos_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BCSYNC_BIGCOMMERCE_READ_TIMEOUT_SECONDS", "0.6")  # a slow answer (1 s) times out
    monkeypatch.setenv("BCSYNC_WEBHOOK_DEBOUNCE_SECONDS", "0")


def _stores(world: World, rng: random.Random) -> dict[str, SandboxStore]:
    stack, sandbox = world
    stores = {}
    for store_hash in STORES:
        token = f"tok-{store_hash}-chaos"
        KNOWN_TOKENS.add(token)
        store = sandbox.add_store(store_hash, token=token)  # a Standard plan: 150 requests / 30 s
        seed_catalog(store, products=20, variants_per_product=2, seed=rng.randrange(1000))
        sellable = [(p, v) for p in store.products.values() for v in p["variants"] if p["is_visible"] and v["sku"]]
        start = store.clock.now() - ORDERS
        for n in range(ORDERS // len(STORES)):
            status = 11 if rng.random() < 0.9 else rng.choice((0, 1, 5, 7, 12))  # a tenth not to be released
            lines = [(*sellable[rng.randrange(len(sellable))], rng.randint(1, 3)) for _ in range(rng.randint(1, 3))]
            add_order(store, status_id=status, lines=lines, rng=rng, at=start + n)
        assert bcsync_cli(["stores", "connect", store_hash, "--no-webhooks"], stdin=io.StringIO(token),
                          out=io.StringIO()) == 0  # fmt: skip
        stores[store_hash] = store
    registry = StoreRegistry(stack.resource("dynamodb").Table(stack.outputs()["StateTableName"]))
    for store_hash in STORES:
        # Every tick runs every store (the test's clock barely moves); a spent budget is waited out in the
        # invocation (on the test's clock, no wall time) rather than re-queued for real seconds.
        update = {"schedule_minutes": {"order_import": 1}, "max_wait_seconds": 60.0}
        registry.put(registry.get(store_hash).model_copy(update=update))
    for n, store_hash in enumerate(STORES):  # faults from here on: connecting is not what is tested
        sandbox.faults[store_hash] = FaultPlan(rate=FAULT_RATE, seed=SEED + n, slow_seconds=1.0)
    return stores


def _deliver(
    stack: LocalDeployment, queue: str, function: str, tally: Tally, rng: random.Random, cuts: list[str]
) -> None:
    """Every message twice, shuffled, with the named cuts, until the queue is empty."""
    handler = stack.load_handler(function)
    with ExitStack() as cut_stack:
        for point in cuts:
            cut_stack.enter_context(stack.cut_at(point, times=2))
        tally.add(stack.deliver_sqs(queue, handler, duplicate_rate=1.0, reorder=True, seed=rng.randrange(10**6)))
    tally.add(stack.deliver_sqs(queue, handler, duplicate_rate=1.0, reorder=True, seed=rng.randrange(10**6)))


def _tick(stack: LocalDeployment, function: str, event: dict[str, Any]) -> None:
    stack.load_handler(function)(event, stack.context(function))


def _shipments_of(store: SandboxStore, shipment_id: str) -> int:
    tag = marker(shipment_id)
    return sum(tag in (row.get("comments") or "") for rows in store.shipments.values() for row in rows)


def _dead_letters(stack: LocalDeployment, logical: str) -> Iterator[dict[str, Any]]:
    sqs, url = stack.client("sqs"), stack.physical[logical]["Ref"]
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600).get("Messages", []):
        yield from (json.loads(message["Body"]) for message in batch)


def _reasons(stack: LocalDeployment, logical: str) -> list[str]:
    return [f"{reason_of(m, 'failed 5 times')}: {m['Body'][:120]}" for m in stack.take_messages(logical)]


@pytest.mark.parametrize("with_cuts", [True, False], ids=["with cuts", "without cuts"])
def test_under_faults_and_duplicates_every_order_and_shipment_arrives_exactly_once(
    local_world: World, clock: VirtualClock, chaos_env: None, capsys: pytest.CaptureFixture[str], with_cuts: bool
) -> None:
    stack, sandbox = local_world
    rng = random.Random(SEED)
    stores = _stores(local_world, rng)
    tally = Tally()
    warehouses = {store_hash: SimulatedWarehouse(store_hash) for store_hash in STORES}

    # Catalog, then orders: cut after the outbox says pending, and after EventBridge took the events.
    _tick(stack, "ProductSyncFunction", {"action": "tick", "mode": "full"})
    cuts = with_cuts  # named cut points below apply only to the run with cuts
    _deliver(stack, "ProductSyncJobs", "ProductSyncFunction", tally, rng, [cutpoints.AFTER_PUBLISH] * cuts)
    _tick(stack, "OrderImportFunction", {"action": "tick"})
    _deliver(stack, "OrderImportJobs", "OrderImportFunction", tally, rng,
             [cutpoints.AFTER_OUTBOX_PENDING, cutpoints.AFTER_PUBLISH] * cuts)  # fmt: skip
    receive_all(stack, warehouses)
    raw_events = Counter({"republished (same key)": sum(warehouse.duplicates for warehouse in warehouses.values())})

    table = stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])
    checked_orders = 0
    for store_hash, store in stores.items():
        eligible = {order_id for order_id, order in store.orders.items() if order["status_id"] == 11}
        received = set(warehouses[store_hash].orders)
        checked_orders += len(eligible)
        tally.check(received == eligible, f"{store_hash}: lost {sorted(eligible - received)[:10]}, "
                                          f"not ours {sorted(received - eligible)[:10]}")  # fmt: skip
        versions = {order["version"] for order in warehouses[store_hash].orders.values()}
        tally.check(versions == {1}, f"{store_hash}: versions {versions} for unchanged orders")
        cursor = OrderState(table, store_hash).cursor()
        tally.check(cursor is not None, f"{store_hash}: the order cursor never moved")

    # The scan again, cuts and faults as before: nothing new is published.
    clock.advance(120)
    _tick(stack, "OrderImportFunction", {"action": "tick"})
    _deliver(stack, "OrderImportJobs", "OrderImportFunction", tally, rng, [])
    for store_hash, new in receive_all(stack, warehouses).items():
        tally.check(new == 0, f"{store_hash}: a re-scan published {new} new events")

    # Shipments: cut before and after the POST; faults drop connections after BigCommerce created them.
    sent: dict[str, list[str]] = {store_hash: [] for store_hash in STORES}
    per_store = SHIPMENTS // len(STORES)
    messages = []
    for store_hash, warehouse in warehouses.items():
        packages = [m for m in warehouse.ship_all() if not m["pickup"]][:per_store]
        sent[store_hash] = [m["warehouse_shipment_id"] for m in packages]
        messages += packages
    sqs = stack.client("sqs")
    for message in messages:
        sqs.send_message(QueueUrl=stack.physical["ShipmentsInbound"]["Ref"], MessageBody=json.dumps(message))
    _deliver(stack, "ShipmentsInbound", "TrackingWritebackFunction", tally, rng,
             [cutpoints.BEFORE_SHIPMENT_POST, cutpoints.AFTER_SHIPMENT_POST] * cuts)  # fmt: skip
    dead = {m["warehouse_shipment_id"] for m in _dead_letters(stack, "ShipmentsInboundDLQ")}
    checked_shipments = 0
    for store_hash, shipment_ids in sent.items():
        for shipment_id in shipment_ids:
            checked_shipments += 1
            count = _shipments_of(stores[store_hash], shipment_id)
            tally.check(count == 1, f"{store_hash}: shipment {shipment_id} is in BigCommerce {count} times"
                                    + (" (dead-lettered)" if shipment_id in dead else ""))  # fmt: skip

    # Stock: a full snapshot per store, delivered twice; BigCommerce must end at the sellable values.
    for warehouse in warehouses.values():
        sqs.send_message(QueueUrl=stack.physical["StockInbound"]["Ref"],
                         MessageBody=json.dumps(warehouse.stock(clock.now())))  # fmt: skip
    _deliver(stack, "StockInbound", "InventoryPushFunction", tally, rng, [])
    _deliver(stack, "InventoryPushJobs", "InventoryPushFunction", tally, rng, [])
    registry = StoreRegistry(table)
    checked_levels = 0
    for store_hash, store in stores.items():
        settings = registry.get(store_hash)
        client = BigCommerceClient(store_hash=store_hash, access_token="unused-plan-only", api_url=sandbox.url)
        plan = push_for(settings, client, table=table, clock=clock).plan(merge=False)
        tally.check(plan.changes == {}, f"{store_hash}: {len(plan.changes)} stock items never reached BigCommerce")
        for target, quantity in plan.sellable.quantities.items():
            checked_levels += 1
            held = store.inventory.get((target.location_id, target.kind, target.item_id))
            tally.check(held == quantity, f"{store_hash}: {target} is {held} in BigCommerce, {quantity} expected")

    for queue in ("ProductSyncJobsDLQ", "OrderImportJobsDLQ", "InventoryPushJobsDLQ", "StockInboundDLQ"):
        for reason in _reasons(stack, queue):
            tally.violations.append(f"{queue}: {reason}")
    injected = sum((plan.injected for plan in sandbox.faults.values()), Counter())
    with capsys.disabled():
        print(
            f"\nchaos seed {SEED} ({'with' if with_cuts else 'without'} cuts): {ORDERS} orders ({checked_orders} eligible), {checked_shipments} shipments, "
            f"{checked_levels} stock items over {len(STORES)} stores"
        )
        print(f"  faults injected: {sum(injected.values())} {dict(sorted(injected.items()))}")
        print(f"  deliveries: {dict(tally.deliveries)}, invocations cut: {tally.cut}, events {dict(raw_events)}")
        print(f"  violations: {len(tally.violations)}")  # fmt: skip
        for violation in tally.violations[:40]:
            print(f"    {violation}")
    assert sum(injected.values()) > 0 and tally.deliveries["duplicates sent"] > 0 and (tally.cut > 0) == with_cuts
    if not with_cuts:  # only a crash between publishing and marking published may republish a key
        assert raw_events["republished (same key)"] == 0
    assert tally.violations == []
