"""Returns with refunds on, under the chaos run's faults: never a refund twice, never one past its quote.

Stores with refunds on; 20 % of BigCommerce calls fail as in test_chaos.py (429s, 5xx, slow answers, connections dropped
before and after BigCommerce acted - on the refund POST too - broken bodies); every return is delivered twice
and batches come shuffled; invocations are cut before and after the refund POST. `make test` runs it small;
`make fault` (FAULT_SCALE=1) with 100 orders. The seed is printed; FAULT_SEED repeats a run.
"""

from __future__ import annotations

import io
import json
import random
from decimal import Decimal
from typing import Any

import pytest

from bcsync.backbone import cutpoints
from bcsync.cli import main as bcsync_cli
from bcsync.orders.state import OrderState
from bcsync.returns.decide import marker
from bcsync.store.registry import StoreRegistry
from bigcommerce_client import VirtualClock
from bigcommerce_sandbox import Fault, FaultPlan, SandboxStore, add_order, seed_catalog
from bigcommerce_sandbox.payments import refunds_of
from tests.aws import drain
from tests.conftest import KNOWN_TOKENS
from tests.fault.test_chaos import FAULT_RATE, SCALE, SEED, Tally, World, _reasons, chaos_env  # noqa: F401

STORES = ("chret1", "chret2") if SCALE >= 1 else ("chret1",)  # make test: one store (the budget)
ORDERS = max(int(50 * SCALE), 4)  # per store
PRICE = Decimal("19.99")  # each unit in the sandbox; an order is paid 24.99 whatever its lines


def _store(world: World, store_hash: str, rng: random.Random) -> tuple[SandboxStore, list[int]]:
    """A connected store with refunds on and ORDERS orders bcsync sent and the warehouse shipped."""
    stack, sandbox = world
    token = f"tok-{store_hash}-chaos"
    KNOWN_TOKENS.add(token)
    store = sandbox.add_store(store_hash, token=token)
    seed_catalog(store, products=6, variants_per_product=2, seed=rng.randrange(1000))
    sellable = [(p, v) for p in store.products.values() for v in p["variants"] if p["is_visible"] and v["sku"]]
    start = store.clock.now() - ORDERS
    ids = [
        add_order(store, lines=[(*sellable[n], rng.randint(1, 2)) for n in rng.sample(range(len(sellable)), 2)],
                  rng=rng, at=start + n)
        for n in range(ORDERS)
    ]  # fmt: skip
    assert bcsync_cli(["stores", "connect", store_hash, "--no-webhooks"], stdin=io.StringIO(token),
                      out=io.StringIO()) == 0  # fmt: skip
    table = stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])
    registry = StoreRegistry(table)
    registry.put(registry.get(store_hash).model_copy(update={"refunds_enabled": True, "max_wait_seconds": 60.0}))
    importer = stack.load_handler("OrderImportFunction")
    stack.clock.advance(300)  # type: ignore[attr-defined]
    importer({"action": "tick"}, stack.context("OrderImportFunction"))
    stack.deliver_sqs("OrderImportJobs", importer)
    orders = OrderState(table, store_hash)
    for order_id in ids:  # shipped, as the tracking writeback leaves it (its own chaos is test_chaos.py's)
        items = [
            {"order_product_id": line["id"], "quantity": line["quantity"]} for line in store.order_products[order_id]
        ]
        store.record_shipment(
            order_id, {"order_address_id": store.shipping_addresses[order_id][0]["id"], "items": items}
        )
        orders.record_shipment(order_id, f"WH-{order_id}", {i["order_product_id"]: i["quantity"] for i in items})
    return store, ids


def _returns(store: SandboxStore, ids: list[int], rng: random.Random) -> list[dict[str, Any]]:
    """One return per order: some of its lines, one unit each, resellable or damaged."""
    messages = []
    for order_id in ids:
        lines = rng.sample(store.order_products[order_id], rng.randint(1, 2))
        messages.append({
            "type": "Return Received", "schema_version": 1, "store_hash": store.store_hash, "order_id": order_id,
            "warehouse_return_id": f"RMA-{store.store_hash}-{order_id}",
            "lines": [{"order_product_id": line["id"], "quantity": 1,
                       "condition": "resellable" if rng.random() < 0.7 else "damaged"} for line in lines],
        })  # fmt: skip
    return messages


def _expected_refund(message: dict[str, Any]) -> Decimal | None:
    """What the quote allows: the resellable units' price, unless that is more than the order was paid (24.99:
    BigCommerce quotes less, and bcsync then refunds nothing rather than a part)."""
    units = sum(line["quantity"] for line in message["lines"] if line["condition"] == "resellable")
    amount = PRICE * units
    return amount if 0 < amount <= Decimal("24.99") else None


@pytest.mark.usefixtures("chaos_env")
def test_under_faults_duplicates_and_cuts_each_return_is_refunded_at_most_once_and_never_past_its_quote(
    local_world: World, clock: VirtualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, sandbox = local_world
    rng = random.Random(SEED)
    stores = {store_hash: _store(local_world, store_hash, rng) for store_hash in STORES}
    drain(stack, "WarehouseOutbound")
    for n, store_hash in enumerate(STORES):  # faults from here on: the returns are what is tested
        sandbox.faults[store_hash] = FaultPlan(rate=FAULT_RATE, seed=SEED + n, slow_seconds=1.0)
        # However few the returns, one refund POST per store has BigCommerce act and its answer lost.
        sandbox.faults[store_hash].queue(Fault.DROP_AFTER, path=r"/payment_actions/refunds$", method="POST")
    messages = [m for store, ids in stores.values() for m in _returns(store, ids, rng)]
    rng.shuffle(messages)
    tally = Tally()
    sqs, url = stack.client("sqs"), stack.physical["ReturnsInbound"]["Ref"]
    handler = stack.load_handler("ReturnsFunction")
    half = len(messages) // 2
    for point, part in (
        (cutpoints.BEFORE_REFUND_POST, messages[:half]),
        (cutpoints.AFTER_REFUND_POST, messages[half:]),
    ):
        for message in part:
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))
        with stack.cut_at(point, times=2):
            tally.add(stack.deliver_sqs("ReturnsInbound", handler, duplicate_rate=1.0, reorder=True,
                                        seed=rng.randrange(10**6)))  # fmt: skip

    double, over, refunded, notes = 0, 0, 0, 0
    for message in messages:
        store, _ = stores[message["store_hash"]]
        order_id, tag = message["order_id"], marker(message["warehouse_return_id"])
        made = [r for r in refunds_of(store).get(order_id, []) if any(tag in i["reason"] for i in r["items"])]
        double += len(made) > 1
        expected = _expected_refund(message)
        for refund in made:
            quoted = sum(PRICE * item["quantity"] for item in refund["items"])
            over += Decimal(str(refund["total_amount"])) > min(quoted, Decimal("24.99"))
        refunded += len(made) == 1
        tally.check(len(made) == (expected is not None),
                    f"{message['warehouse_return_id']}: {len(made)} refunds, {expected} expected")  # fmt: skip
        count = store.orders[order_id]["staff_notes"].count(tag)
        notes += count == 1
        tally.check(count == 1, f"{message['warehouse_return_id']}: noted {count} times")
    for reason in _reasons(stack, "ReturnsInboundDLQ"):
        tally.violations.append(f"ReturnsInboundDLQ: {reason}")
    events = [(e["detail-type"], e["detail"]["data"]["warehouse_return_id"]) for e in drain(stack, "WarehouseOutbound")]
    tally.check(len({e for e in events if e[0] == "Return Recorded"}) == len(messages), "a Return Recorded missing")
    tally.check(len({e for e in events if e[0] == "Refund Issued"}) == refunded, "Refund Issued and refunds differ")
    injected = sum(
        (plan.injected for plan in sandbox.faults.values()), start=type(sandbox.faults[STORES[0]].injected)()
    )
    with capsys.disabled():
        print(f"\nchaos returns seed {SEED}: {len(messages)} returns over {len(STORES)} stores, {refunded} refunded, "
              f"{notes} noted once")  # fmt: skip
        print(f"  faults injected: {sum(injected.values())} {dict(sorted(injected.items()))}")
        print(f"  deliveries: {dict(tally.deliveries)}, invocations cut: {tally.cut}")
        print(f"  double refunds: {double}, refunds over the quote: {over}, violations: {len(tally.violations)}")
        for violation in tally.violations[:40]:
            print(f"    {violation}")
    assert sum(injected.values()) > 0 and tally.deliveries["duplicates sent"] > 0 and tally.cut > 0
    assert (double, over) == (0, 0)
    assert tally.violations == []
