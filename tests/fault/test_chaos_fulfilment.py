"""Fulfillment requests under faults: each request is exactly one BigCommerce order, answered once.

One source store; 20 % of its BigCommerce calls fail as in test_chaos.py (connections dropped after
BigCommerce acted among them: a created order or customer whose answer is lost); every request is
delivered twice and batches come shuffled; invocations are cut after the intent is recorded and after
BigCommerce made the order. `make test` runs it small (8 requests); `make fault` (FAULT_SCALE=1) with 300 requests and without cuts too.
"""

from __future__ import annotations

import io
import json
import random
from collections import Counter
from typing import Any

import pytest

from bcsync.cli import main as bcsync_cli
from bcsync.fulfilment.consumer import AFTER_ORDER_CREATE, BEFORE_ORDER_CREATE
from bcsync.store.registry import StoreRegistry
from bigcommerce_client import VirtualClock
from bigcommerce_sandbox import FaultPlan, Sandbox, SandboxStore, seed_catalog
from local_runtime import LocalDeployment
from tests.aws import drain
from tests.conftest import KNOWN_TOKENS
from tests.fault.test_chaos import FAULT_RATE, SCALE, SEED, Tally, _deliver, _reasons
from tests.fault.test_chaos import chaos_env as chaos_env  # the fixture, shared

STORE = "chaosf1"
REQUESTS = max(int(300 * SCALE), 8) if SCALE >= 1 else 8  # make test's budget: 8 requests, each twice
# Small (`make test`): the run with cuts alone, which meets every fault the other does; both at FAULT_SCALE >= 1.
RUNS = [True, False] if SCALE >= 1 else [True]
World = tuple[LocalDeployment, Sandbox]
ADDRESS = {"first_name": "Grace", "last_name": "Hopper", "street_1": "1 Harbor Way", "city": "Arlington",
           "state": "VA", "zip": "22201", "country": "United States", "country_iso2": "US"}  # fmt: skip


def _source_store(world: World, rng: random.Random) -> SandboxStore:
    stack, sandbox = world
    token = f"tok-{STORE}-chaos"
    KNOWN_TOKENS.add(token)
    store = sandbox.add_store(STORE, token=token)
    seed_catalog(store, products=4, variants_per_product=2, seed=rng.randrange(1000))
    assert bcsync_cli(["stores", "connect", STORE, "--no-webhooks"], stdin=io.StringIO(token),
                      out=io.StringIO()) == 0  # fmt: skip
    registry = StoreRegistry(stack.resource("dynamodb").Table(stack.outputs()["StateTableName"]))
    registry.put(registry.get(STORE).model_copy(update={"role": "source", "max_wait_seconds": 60.0}))
    sync = stack.load_handler("ProductSyncFunction")
    sync({"action": "tick", "mode": "full"}, stack.context("ProductSyncFunction"))
    stack.deliver_sqs("ProductSyncJobs", sync)
    drain(stack, "WarehouseOutbound")
    sandbox.faults[STORE] = FaultPlan(rate=FAULT_RATE, seed=SEED, slow_seconds=1.0)  # faults from here on
    return store


def _requests(store: SandboxStore, rng: random.Random) -> list[dict[str, Any]]:
    skus = [v["sku"] for p in store.products.values() if p["is_visible"] for v in p["variants"] if v.get("sku")]
    requests: list[dict[str, Any]] = []
    for n in range(REQUESTS):
        lines = [{"sku": sku, "quantity": rng.randint(1, 3), "price": "4.20"} for sku in rng.sample(skus, k=2)]
        policy = "create_if_missing" if n % 4 == 0 else "guest"  # a customer made under faults, too
        requests.append({
            "type": "Fulfillment Request", "store_hash": STORE, "request_id": f"CH-{n}", "lines": lines,
            "ship_to": ADDRESS, "bill_to": ADDRESS, "customer_policy": policy, "email": f"buyer{n}@example.com",
        })  # fmt: skip
    return requests


@pytest.mark.usefixtures("chaos_env")
@pytest.mark.parametrize("with_cuts", RUNS, ids=["with cuts", "without cuts"][: len(RUNS)])
def test_under_faults_and_duplicates_each_fulfillment_request_is_exactly_one_order(
    local_world: World, clock: VirtualClock, capsys: pytest.CaptureFixture[str], with_cuts: bool
) -> None:
    stack, sandbox = local_world
    rng = random.Random(SEED)
    store = _source_store(local_world, rng)
    tally = Tally()
    requests = _requests(store, rng)
    sqs, url = stack.client("sqs"), stack.physical["FulfillmentRequestsInbound"]["Ref"]
    for request in requests:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(request))

    _deliver(stack, "FulfillmentRequestsInbound", "FulfilmentFunction", tally, rng,
             [BEFORE_ORDER_CREATE, AFTER_ORDER_CREATE] * with_cuts)  # fmt: skip

    made = Counter(order.get("external_order_id") for order in store.orders.values() if order.get("external_order_id"))
    for request in requests:
        count = made[request["request_id"]]
        tally.check(count == 1, f"request {request['request_id']} is {count} orders in BigCommerce")
    events = drain(stack, "WarehouseOutbound")
    accepted = {e["detail"]["data"]["request_id"] for e in events if e["detail-type"] == "Fulfillment Request Accepted"}
    tally.check(accepted == set(made), f"accepted {len(accepted)}, made {len(made)}")
    customers = Counter(customer["email"] for customer in store.customers.values())
    tally.check(all(count == 1 for count in customers.values()), f"customers made twice: {customers.most_common(3)}")
    for reason in _reasons(stack, "FulfillmentRequestsInboundDLQ"):
        tally.violations.append(f"FulfillmentRequestsInboundDLQ: {reason}")
    injected = sandbox.faults[STORE].injected
    with capsys.disabled():
        print(f"\nchaos seed {SEED} ({'with' if with_cuts else 'without'} cuts): {REQUESTS} fulfillment requests")
        print(f"  faults injected: {sum(injected.values())} {dict(sorted(injected.items()))}")
        print(f"  deliveries: {dict(tally.deliveries)}, invocations cut: {tally.cut}")
        print(f"  violations: {len(tally.violations)}")
        for violation in tally.violations[:40]:
            print(f"    {violation}")
    assert sum(injected.values()) > 0 and tally.deliveries["duplicates sent"] > 0 and (tally.cut > 0) == with_cuts
    assert tally.violations == []
