"""Fulfillment requests: BigCommerce calls per request against the floor (one create plus at most one lookup).

1,000 requests of two lines each (a tenth at BENCH_SCALE=0.1), ten every 10 s, into a source store whose
catalog index is written as product sync would have written it, guests (no customer call), a Standard-plan
store at 80 ms a call on the compressed clock; then every request delivered again, as a warehouse's retry
does.
`.venv/bin/python bench/run.py fulfilment` runs it alone.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from typing import Any

from bcsync.cli import main as bcsync_cli
from bcsync.store.registry import StoreRegistry
from bigcommerce_client import VirtualClock
from bigcommerce_sandbox import Exchange, Sandbox, seed_catalog
from local_runtime import LocalDeployment
from local_runtime.shortcuts import catalog_as_synced

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
STORE = "bench07"
TOKEN = "bench-token-0000"  # noqa: S105 - the sandbox's, never a real store's
FLOOR_PER_REQUEST = 2  # the lookup by request id, then the create
# Ten requests every 10 s (60 calls a window of 30 s): within the half of a Standard plan's 150 the rate
# governor leaves bcsync, as a warehouse sending a day's requests would be.
PACE_SECONDS = 10.0
ADDRESS = {"first_name": "Ada", "street_1": "1 Main", "city": "Austin", "zip": "78751", "country_iso2": "US"}


def bench_fulfilment() -> dict[str, Any]:
    requests = int(1_000 * SCALE)
    clock = VirtualClock()
    with (
        LocalDeployment(clock=clock) as stack,
        Sandbox(clock=clock, latency_seconds=0.08) as sandbox,
        stack.environ(),
    ):
        os.environ["BIGCOMMERCE_API_URL"] = sandbox.url
        store = sandbox.add_store(STORE, token=TOKEN, quota=150)
        seed_catalog(store, products=20, variants_per_product=2)
        if bcsync_cli(["stores", "connect", STORE, "--no-webhooks"], stdin=io.StringIO(TOKEN), out=io.StringIO()):
            raise SystemExit("bench: connecting the source store failed")
        table = stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])
        registry = StoreRegistry(table)
        registry.put(registry.get(STORE).model_copy(update={"role": "source"}))
        indexed = [pid for pid, product in store.products.items() if all(v.get("sku") for v in product["variants"])]
        catalog_as_synced(table, store, indexed)
        skus = [v["sku"] for pid in indexed for v in store.products[pid]["variants"]]
        bodies = [
            json.dumps({"type": "Fulfillment Request", "store_hash": STORE, "request_id": f"B-{n}",
                        "lines": [{"sku": skus[n % len(skus)], "quantity": 1, "price": 5},
                                  {"sku": skus[(n + 1) % len(skus)], "quantity": 2, "price": 5}],
                        "ship_to": ADDRESS, "bill_to": ADDRESS})
            for n in range(requests)
        ]  # fmt: skip
        exchanges: list[Exchange] = []
        sandbox.observers.append(exchanges.append)
        sqs, url = stack.client("sqs"), stack.physical["FulfillmentRequestsInbound"]["Ref"]
        handler = stack.load_handler("FulfilmentFunction")

        def send(messages: list[str]) -> int:
            before = len(exchanges)
            with contextlib.redirect_stdout(io.StringIO()):  # the handler's JSON logs and EMF lines
                for start in range(0, len(messages), 10):
                    sqs.send_message_batch(
                        QueueUrl=url,
                        Entries=[{"Id": str(n), "MessageBody": body} for n, body in enumerate(messages[start:][:10])],
                    )
                    report = stack.deliver_sqs("FulfillmentRequestsInbound", handler, max_invocations=100)
                    if report.failed or report.errors:
                        raise SystemExit(f"bench: fulfilment failed: {report}")
                    clock.advance(PACE_SECONDS)
            return len(exchanges) - before

        first = send(bodies)
        again = send(bodies)
    made: dict[str, int] = {}
    for order in store.orders.values():
        if order.get("external_order_id"):
            made[order["external_order_id"]] = made.get(order["external_order_id"], 0) + 1
    return {
        "requests": requests,
        "calls": first,
        "calls_per_request": round(first / requests, 3),
        "floor_per_request": FLOOR_PER_REQUEST,
        "creates": sum(1 for e in exchanges if e.method == "POST" and e.api_path == "/v2/orders"),
        "calls_when_delivered_again": again,
        "requests_with_exactly_one_order": sum(1 for count in made.values() if count == 1),
        "too_many_requests": sum(1 for e in exchanges if e.status == 429),
    }


def row(result: dict[str, Any]) -> tuple[str, Any, Any, str]:
    """Its line in `make bench`'s table."""
    return (f"calls per fulfillment request ({result['requests']:,})", result["calls_per_request"],
            result["floor_per_request"], "= floor")  # fmt: skip


def at_floor(result: dict[str, Any]) -> bool:
    return bool(
        result["calls_per_request"] <= result["floor_per_request"]
        and result["requests_with_exactly_one_order"] == result["requests"]
        and result["calls_when_delivered_again"] == 0
    )
