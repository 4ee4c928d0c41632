"""`make bench`: BigCommerce calls against their floor, and the handlers' memory, on the local runtime.

Not part of `make test`: the full sizes take minutes. `BENCH_SCALE=0.1 make bench` runs a tenth.
Results go to bench/results.json and are printed as a table (docs/performance.md quotes them).

- order import: 10,000 paid orders (one a second, as a busy store's traffic), Standard-plan quota
  (150 requests / 30 s), 80 ms per call, on the compressed clock; everything in this process.
- product sync: 10,000 products x 3 variants; moto and the sandbox run in processes of their own, so the
  peak RSS measured is this process's: the handler, its clients, and the local runtime's SQS loop.
- inventory push: 100,000 SKUs stocked, then 1,000 changed, then nothing; the catalog index is written
  as product sync would have written it (its own cost is the product-sync figure).
- tracking writeback: 1,000 imported orders shipped at a warehouse's pace, then every confirmation again.
- Black-Friday hour: 10,000 orders at random moments of one simulated hour, the store's other apps using
  half its quota; webhooks, the receiver's debounce and the scan tick as deployed. Its AWS usage, priced
  at list prices (local_runtime.usage), is the cost per 1,000 orders.
- cold imports: each handler module imported in a fresh interpreter, with Lambda's environment, and
  its median over `import boto3`'s, measured beside it (the ratio the machine's noise does not move).
- peer: BigCommerce's own Python client (PyPI `bigcommerce`) reads the same orders and catalog as ours,
  over https from one sandbox; medians of runs.

`.venv/bin/python bench/run.py <name>` runs one of them and prints its JSON.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fulfilment  # type: ignore[import-not-found]  # bench/fulfilment.py: this script's folder is on sys.path
from harness import (  # type: ignore[import-not-found]  # bench/harness.py
    RESULTS,
    ROOT,
    SCALE,
    TOKEN,
    Warehouse,
    bench_store,
    connect,
    drain_count,
    percentile,
    run_job,
    sellable_of,
    shipment_message,
)

from bcsync.store.jobs import JobState
from bigcommerce_client import BigCommerceClient, VirtualClock
from bigcommerce_sandbox import Exchange, Sandbox, add_order, seed_catalog, seed_orders, seed_variants
from bigcommerce_sandbox.tls import loopback_tls_context
from local_runtime import LocalDeployment
from local_runtime.moto_server import AwsRequest
from local_runtime.schedules import fire_schedules
from local_runtime.shortcuts import catalog_as_synced
from local_runtime.usage import AwsUsage


def bench_order_import() -> dict[str, Any]:
    orders = int(10_000 * SCALE)
    with bench_store("bench01") as (clock, stack, sandbox, store, _):
        seed_catalog(store, products=50, variants_per_product=2)
        sellable = sellable_of(store)
        for n in range(orders):
            add_order(store, lines=[(*sellable[n % len(sellable)], 1)], at=clock.now() - orders + n)
        exchanges: list[Exchange] = []
        sandbox.observers.append(exchanges.append)
        started, simulated = time.monotonic(), clock.now()
        warehouse = Warehouse(stack)
        warehouse.start()
        run_job(stack, "OrderImportFunction", "OrderImportJobs", {"action": "tick"})
        wall = time.monotonic() - started
        calls = sum(1 for e in exchanges if (e.method, e.api_path) == ("GET", "/v2/orders"))
        events, keys = warehouse.counted()
        rerun_before = len(exchanges)
        clock.advance(600)
        run_job(stack, "OrderImportFunction", "OrderImportJobs", {"action": "tick"})
        rerun_events, _ = drain_count(stack, "WarehouseOutbound")
    floor = orders // 250 + 1
    return {
        "orders": orders,
        "calls": calls,
        "floor": floor,
        "ratio": round(calls / floor, 3),
        "target_ratio": 1.25,
        "events": events,
        "distinct_keys": keys,
        "rerun_calls": len(exchanges) - rerun_before,
        "rerun_events": rerun_events,
        "simulated_seconds": round(clock.now() - simulated, 1),
        "wall_seconds": round(wall, 1),
        "too_many_requests": sum(1 for e in exchanges if e.status == 429),
    }


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _process(argv: list[str], ready: str | None = None) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A helper process; yields it and its first line of output when `ready` is None, else waits for a port."""
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # noqa: S603
    try:
        first = ""
        if ready is None:
            assert child.stdout is not None
            first = child.stdout.readline()
        else:
            host, port = ready.rsplit(":", 1)
            for _ in range(200):
                with contextlib.suppress(OSError), socket.create_connection((host, int(port)), timeout=0.2):
                    break
                time.sleep(0.05)
        yield child, first
    finally:
        child.terminate()
        child.wait(timeout=10)


def bench_product_sync() -> dict[str, Any]:
    products = int(10_000 * SCALE)
    moto_port = _free_port()
    moto = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)]
    sandbox_argv = [
        sys.executable, "-m", "bigcommerce_sandbox", "--store", f"bench02:{TOKEN}:150", "--products", str(products),
        "--variants", "3", "--uniform", "--orders", "0", "--latency-ms", "80",
    ]  # fmt: skip
    with _process(moto, ready=f"127.0.0.1:{moto_port}"), _process(sandbox_argv) as (_, line):
        sandbox_url = json.loads(line)["url"]
        with LocalDeployment(moto_endpoint=f"http://127.0.0.1:{moto_port}") as stack, stack.environ():
            os.environ["BIGCOMMERCE_API_URL"] = sandbox_url
            connect("bench02")
            stack.load_handler("ProductSyncFunction")  # imported: what a cold start holds
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            started = time.monotonic()
            warehouse = Warehouse(stack)
            warehouse.start()
            invocations = run_job(stack, "ProductSyncFunction", "ProductSyncJobs", {"action": "tick", "mode": "full"})
            wall = time.monotonic() - started
            events, keys = warehouse.counted()
            calls = stack.function_module("ProductSyncFunction").FUNCTION.calls.by_endpoint("bench02")
            table = stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])
            run = JobState(table).last_run("bench02", "product_sync")
            problems = len(run.problems) if run is not None else 0
    pages = -(-products // 250)
    floor = pages + 1 + 1 + 1  # product pages + brand page + category page + store info
    total = sum(calls.values())
    return {
        "products": products,
        "skus": keys,
        "invocations": invocations,
        "problems_in_last_run": problems,  # > 1: the sync continued in new invocations near the deadline
        "calls": total,
        "calls_by_endpoint": calls,
        "floor": floor,
        "ratio": round(total / floor, 3),
        "target_ratio": 1.1,
        "events": events,
        "distinct_keys": keys,
        "wall_seconds": round(wall, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_before_sync_mb": round(rss_before / 1024, 1),
        "target_rss_mb": 256,
    }


def _stock_message(store_hash: str, items: list[dict[str, Any]], as_of: str) -> str:
    return json.dumps({"type": "Stock Level", "schema_version": 1, "store_hash": store_hash, "as_of": as_of,
                       "mode": "delta", "items": items})  # fmt: skip


def bench_inventory_push() -> dict[str, Any]:
    """100,000 SKUs stocked; then 1,000 change; then nothing changes. Stock messages go through the
    debounce as in AWS (1 s here, on the compressed clock): a burst of messages is one push."""
    skus = int(100_000 * SCALE) // 2 * 2
    os.environ["BCSYNC_WEBHOOK_DEBOUNCE_SECONDS"] = "1"
    with bench_store("bench03") as (clock, stack, sandbox, store, _):
        product_ids = seed_variants(store, products=skus // 2, variants_per_product=2)
        table = stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])
        catalog_as_synced(table, store, product_ids)
        variants = [v for product_id in product_ids for v in store.products[product_id]["variants"]]
        exchanges: list[Exchange] = []
        sandbox.observers.append(exchanges.append)
        sqs, url = stack.client("sqs"), stack.physical["StockInbound"]["Ref"]
        handler = stack.load_handler("InventoryPushFunction")

        def push(messages: list[str]) -> tuple[int, float]:
            """Send, let the debounced job come due, run it: (adjustment calls, seconds of the push run)."""
            before = len(exchanges)
            for body in messages:
                sqs.send_message(QueueUrl=url, MessageBody=body)
            with contextlib.redirect_stdout(io.StringIO()):
                stack.deliver_sqs("StockInbound", handler, max_invocations=10_000)
                clock.advance(1.5)  # the window closes, and SQS lets the debounced job message go (same clock)
                started = time.monotonic()
                stack.deliver_sqs("InventoryPushJobs", handler, max_invocations=10_000)
            return sum(1 for e in exchanges[before:] if e.method == "PUT"), time.monotonic() - started

        first = [{"sku": v["sku"], "location": "MAIN", "fulfillable": 50} for v in variants]
        initial_calls, initial_seconds = push(
            [_stock_message("bench03", first[n : n + 2_000], "2026-11-23T10:00:00Z") for n in range(0, skus, 2_000)]
        )
        changed = [{"sku": v["sku"], "location": "MAIN", "fulfillable": 49} for v in variants[:: max(skus // 1000, 1)]]
        changed_calls, changed_seconds = push([_stock_message("bench03", changed, "2026-11-23T11:00:00Z")])
        before = len(exchanges)
        run_job(stack, "InventoryPushFunction", "InventoryPushJobs", {"action": "tick"})
        unchanged_calls = len(exchanges) - before
        right = sum(store.inventory.get((1, "variant", v["id"])) == (49 if n % max(skus // 1000, 1) == 0 else 50)
                    for n, v in enumerate(variants))  # fmt: skip
    return {
        "skus": skus,
        "initial_calls": initial_calls,
        "initial_floor": -(-skus // 2_000),
        "initial_push_seconds": round(initial_seconds, 1),
        "changed": len(changed),
        "changed_calls": changed_calls,
        "changed_push_seconds": round(changed_seconds, 1),
        "unchanged_calls": unchanged_calls,
        "levels_right": right,
        "too_many_requests": sum(1 for e in exchanges if e.status == 429),
    }


def bench_tracking_writeback() -> dict[str, Any]:
    """1,000 imported orders of two lines each, shipped in one package each at a warehouse's pace (one
    every 2 s of simulated time); then every confirmation delivered again, as a warehouse's retry does."""
    shipments = int(1_000 * SCALE)
    with bench_store("bench05") as (clock, stack, sandbox, store, _):
        seed_catalog(store, products=20, variants_per_product=2)
        sellable = sellable_of(store)
        order_ids = [
            add_order(store, lines=[(*sellable[n % len(sellable)], 1), (*sellable[(n + 1) % len(sellable)], 2)],
                      at=clock.now() - shipments + n)
            for n in range(shipments)
        ]  # fmt: skip
        warehouse = Warehouse(stack)
        warehouse.start()
        run_job(stack, "OrderImportFunction", "OrderImportJobs", {"action": "tick"})
        warehouse.counted()
        exchanges: list[Exchange] = []
        sandbox.observers.append(exchanges.append)
        sqs, url = stack.client("sqs"), stack.physical["ShipmentsInbound"]["Ref"]
        handler = stack.load_handler("TrackingWritebackFunction")
        bodies = [shipment_message("bench05", order_id, store.order_products[order_id]) for order_id in order_ids]

        def ship(messages: list[str], pace_seconds: float) -> int:
            before = len(exchanges)
            with contextlib.redirect_stdout(io.StringIO()):
                for body in messages:
                    sqs.send_message(QueueUrl=url, MessageBody=body)
                    report = stack.deliver_sqs("ShipmentsInbound", handler, max_invocations=100)
                    if report.failed or report.errors:
                        raise SystemExit(f"bench: tracking writeback failed: {report}")
                    clock.advance(pace_seconds)
            return len(exchanges) - before

        first = ship(bodies, 2.0)
        again = ship(bodies, 0.0)
    shipped_once = sum(1 for order_id in order_ids if len(store.shipments.get(order_id, [])) == 1)
    return {
        "shipments": shipments,
        "calls": first,
        "calls_per_shipment": round(first / shipments, 3),
        # The order is read before its shipment is written: a shipment posted to an order cancelled since the
        # last scan would revive it as Shipped (docs/architecture.md, "The shipment lifecycle").
        "floor_per_shipment": 2,
        "posts": sum(1 for e in exchanges if e.method == "POST" and e.api_path.endswith("/shipments")),
        "calls_when_delivered_again": again,
        "orders_with_exactly_one_shipment": shipped_once,
        "too_many_requests": sum(1 for e in exchanges if e.status == 429),
    }


PEER_RUNS = 3
PEER_ORDERS, PEER_PRODUCTS = max(int(1_000 * SCALE), 20), max(int(1_000 * SCALE), 20)
PEER_STORE = "bench06"


def _timed(clock: VirtualClock, work: Callable[[], int], exchanges: list[Exchange]) -> dict[str, Any]:
    """Calls and simulated seconds (wall time plus the clock's waits: latency, rate-limit resets)."""
    before, wall, simulated = len(exchanges), time.monotonic(), clock.now()
    read = work()
    return {
        "calls": len(exchanges) - before,
        "seconds": round(time.monotonic() - wall + clock.now() - simulated, 2),
        "read": read,
        "too_many_requests": sum(1 for e in exchanges[before:] if e.status == 429),
    }


def _ours(client: BigCommerceClient) -> tuple[Callable[[], int], Callable[[], int]]:
    def orders() -> int:
        lines = 0
        for order in client.iter_orders(modified_since=datetime(2000, 1, 1, tzinfo=UTC)):
            consignments = order.embedded_consignments
            assert consignments is not None and all(c.country for c in consignments.shipping)  # addresses, embedded
            if any(c.line_items_truncated for c in consignments.shipping):
                lines += sum(1 for _ in client.iter_order_products(order.id))  # past the 50-line cap
            else:
                lines += sum(len(c.line_items) for c in consignments.shipping)
                lines += sum(len(c.line_items) for c in consignments.pickups)
                lines += sum(len(d.get("line_items", [])) for d in consignments.downloads)
        return lines

    def catalog() -> int:
        variants = sum(len(product.variants) for product in client.iter_products())
        list(client.iter_brands())
        list(client.iter_categories())
        return variants

    return orders, catalog


def _peer(endpoint: str, clock: VirtualClock) -> tuple[Callable[[], int], Callable[[], int]]:
    """BigCommerce's client as its README shows it: the v2 resources for orders, `OAuthConnection` with a
    v3 `api_path` for the catalog, `rate_limiting_management` to wait for the window to reset. That wait
    is the README's `callback_function` sleeping on the bench's clock (its `wait` sleeps on the wall
    clock): its waits then cost simulated time, as ours do."""
    import bigcommerce  # type: ignore[import-untyped]

    def wait_for_reset(connection: Any) -> None:
        clock.sleep(math.ceil(connection.rate_limit["ms_until_reset"] / 1000))

    def management(connection: list[Any]) -> dict[str, Any]:
        return {"min_requests_remaining": 2, "wait": False, "callback_function": lambda: wait_for_reset(connection[0])}

    v2_holder: list[Any] = []
    api = bigcommerce.api.BigcommerceApi(
        client_id="bench", store_hash=PEER_STORE, access_token=TOKEN, rate_limiting_management=management(v2_holder)
    )
    v2_holder.append(api.connection)
    v3_holder: list[Any] = []
    v3 = bigcommerce.connection.OAuthConnection(
        client_id="bench", store_hash=PEER_STORE, access_token=TOKEN, host=endpoint,
        api_path="/stores/{}/v3/{}", rate_limiting_management=management(v3_holder),
    )  # fmt: skip
    v3_holder.append(v3)

    def orders() -> int:
        lines = 0
        for order in api.Orders.iterall():
            lines += len(order.products())
            assert order.shipping_addresses() is not None
        return lines

    def catalog() -> int:
        variants, page = 0, 1
        while True:
            answer = v3.get("catalog/products", include="variants,images,custom_fields", limit=250, page=page)
            variants += sum(len(product["variants"]) for product in answer["data"])
            if page >= answer["meta"]["pagination"]["total_pages"]:
                break
            page += 1
        v3.get("catalog/brands", limit=250)
        v3.get("catalog/trees/categories", limit=250)
        return variants

    return orders, catalog


def _peer_run() -> dict[str, Any]:
    clock = VirtualClock()
    tls = Path(tempfile.mkdtemp(prefix="bench-tls-"))
    context = loopback_tls_context(tls)
    with Sandbox(clock=clock, latency_seconds=0.08, tls_context=context) as sandbox:
        store = sandbox.add_store(PEER_STORE, token=TOKEN, quota=150)
        seed_catalog(store, products=PEER_PRODUCTS, variants_per_product=3)
        seed_orders(store, orders=PEER_ORDERS - 4)  # + its multi-address, pickup, digital and 60-line orders
        exchanges: list[Exchange] = []
        sandbox.observers.append(exchanges.append)
        endpoint = sandbox.url.removeprefix("https://")
        os.environ |= {"BC_API_ENDPOINT": endpoint, "REQUESTS_CA_BUNDLE": str(tls / "ca.pem")}
        client = BigCommerceClient(
            store_hash=PEER_STORE, access_token=TOKEN, api_url=sandbox.url, clock=clock, max_wait_seconds=30.0,
            verify=str(tls / "ca.pem"),
        )  # fmt: skip
        ours_orders, ours_catalog = _ours(client)
        peer_orders, peer_catalog = _peer(endpoint, clock)
        result = {
            "ours": {
                "orders": _timed(clock, ours_orders, exchanges),
                "catalog": _timed(clock, ours_catalog, exchanges),
            },
            "peer": {
                "orders": _timed(clock, peer_orders, exchanges),
                "catalog": _timed(clock, peer_catalog, exchanges),
            },
            "order_lines_in_store": sum(len(lines) for lines in store.order_products.values()),
            "variants_in_store": sum(len(product["variants"]) for product in store.products.values()),
        }
        client.close()
    shutil.rmtree(tls, ignore_errors=True)
    return result


def bench_peer() -> dict[str, Any]:
    """The same orders (with their lines and shipping addresses) and the same catalog, read by bcsync's
    client and by BigCommerce's (PyPI `bigcommerce`), over https from one sandbox: medians of runs."""
    runs = [_peer_run() for _ in range(PEER_RUNS)]

    def median(who: str, what: str, figure: str) -> float:
        values = sorted(run[who][what][figure] for run in runs)
        return float(values[len(values) // 2])

    table: dict[str, Any] = {"runs": PEER_RUNS, "orders": PEER_ORDERS, "products": PEER_PRODUCTS}
    for what in ("orders", "catalog"):
        ours = {figure: median("ours", what, figure) for figure in ("calls", "seconds", "read", "too_many_requests")}
        peer = {figure: median("peer", what, figure) for figure in ("calls", "seconds", "read", "too_many_requests")}
        table[what] = {
            "ours": ours,
            "peer": peer,
            "calls_ratio_peer_to_ours": round(peer["calls"] / ours["calls"], 1),
            "seconds_ratio_peer_to_ours": round(peer["seconds"] / ours["seconds"], 1),
        }
    table["order_lines_in_store"] = runs[0]["order_lines_in_store"]
    table["variants_in_store"] = runs[0]["variants_in_store"]
    table["all_runs"] = runs
    return table


BLACK_FRIDAY_SECONDS = 3_600
LAG_TARGET_SECONDS = 60


class PublishTimes:
    """When each order's event left the function (its PutEvents), on the runtime's clock."""

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock
        self.at: dict[int, float] = {}

    def observe(self, request: AwsRequest) -> None:
        if request.service != "events" or not request.operation.endswith("PutEvents"):
            return
        now = self._clock.now()
        for entry in json.loads(request.body)["Entries"]:
            key = json.loads(entry["Detail"]).get("idempotency_key", "")
            if key.startswith("order:"):
                self.at.setdefault(int(key.split(":")[2]), now)


def bench_black_friday_hour() -> dict[str, Any]:
    """10,000 orders at random moments of one simulated hour, on a Standard-plan store whose other apps
    make 75 requests every 30 s (half its quota), evenly. Webhooks fire as orders arrive; the receiver
    debounces them (15 s) into order-import jobs; the one-minute scan tick runs too. The lag of an order
    is from the moment BigCommerce has it to the moment its Order Ready event leaves the function."""
    orders = int(10_000 * SCALE)
    rng = random.Random(20261127)
    with bench_store("bench04", other_apps=75, webhooks=True) as (clock, stack, sandbox, store, env):
        seed_catalog(store, products=50, variants_per_product=2)
        sellable = sellable_of(store)
        importer = stack.load_handler("OrderImportFunction")
        logs = io.StringIO()
        with contextlib.redirect_stdout(logs):
            importer({"action": "tick"}, stack.context("OrderImportFunction"))  # the store's first scan: its cursor
            stack.deliver_sqs("OrderImportJobs", importer)
        drain_count(stack, "WarehouseOutbound")
        usage, published = AwsUsage(), PublishTimes(clock)
        stack.observe_aws(usage.observe)
        stack.observe_aws(published.observe)
        stack.invocations.clear()
        exchanges: list[Exchange] = []
        sandbox.observers.append(exchanges.append)
        start = clock.now()
        arrivals = sorted(start + rng.uniform(0, BLACK_FRIDAY_SECONDS) for _ in range(orders))
        created: dict[int, float] = {}
        deliveries = 0
        warehouse = Warehouse(stack)
        warehouse.start()
        started = time.monotonic()
        with contextlib.redirect_stdout(logs):
            last_tick, next_arrival = start, 0
            while next_arrival < len(arrivals) or len(published.at) < len(created):
                now = clock.now()
                while next_arrival < len(arrivals) and arrivals[next_arrival] <= now:
                    created[add_order(store, lines=[(*rng.choice(sellable), 1)])] = now
                    next_arrival += 1
                results = store.webhooks.fire(verify=env["BCSYNC_LOCAL_CA_BUNDLE"])
                deliveries += len(results)
                if any(result.status != 200 for result in results):
                    raise SystemExit(f"bench: a webhook was refused: {results}")
                fire_schedules(
                    stack,
                    last_tick,
                    now,
                    lambda function, event, context: (
                        stack.load_handler(function)(event, context) if function == "OrderImportFunction" else None
                    ),
                )
                last_tick = now
                report = stack.deliver_sqs("OrderImportJobs", importer, max_invocations=10_000)
                if report.failed or report.errors:
                    raise SystemExit(f"bench: order import failed: {report}")
                if now - start > BLACK_FRIDAY_SECONDS + 900:
                    raise SystemExit(f"bench: {len(created) - len(published.at)} orders never published")
                clock.advance(max(1.0 - (clock.now() - now), 0.0))  # one simulated second a step
        wall = time.monotonic() - started
        events, keys = warehouse.counted()
    lags = [published.at[order_id] - at for order_id, at in created.items()]
    ours = [e for e in exchanges if e.store_hash == "bench04"]
    bill = usage.bill(stack.invocations, http_api_requests=deliveries, log_bytes=len(logs.getvalue().encode()))
    per_thousand = 1000 / orders
    return {
        "orders": orders,
        "simulated_seconds": round(clock.now() - start, 1),
        "webhook_deliveries": deliveries,
        "order_import_invocations": sum(1 for run in stack.invocations if run.function == "OrderImportFunction"),
        "bigcommerce_calls": len(ours),
        "too_many_requests": sum(1 for e in ours if e.status == 429),
        "lowest_requests_left": store.rate.lowest_left,
        "lag_p50_seconds": round(percentile(lags, 0.50), 1),
        "lag_p95_seconds": round(percentile(lags, 0.95), 1),
        "lag_max_seconds": round(max(lags), 1),
        "target_lag_p95_seconds": LAG_TARGET_SECONDS,
        "events": events,
        "distinct_keys": keys,
        "wall_seconds": round(wall, 1),
        "aws": bill,
        "aws_core_usd_per_1000_orders": round(bill["core_total_usd"] * per_thousand, 5),
        "aws_total_usd_per_1000_orders": round(bill["total_usd"] * per_thousand, 5),
        "target_usd_per_1000_orders": 0.01,
    }


COLD_IMPORT_RUNS = 5
COLD_IMPORT_TARGET_RATIO = 1.8  # a handler may cost 1.8 times `import boto3` alone, measured beside it


def _deployed_environment(template: dict[str, Any], function: str) -> dict[str, str]:
    """A function's environment as the stack would give it, each resource by a stand-in name: the
    import must not reach any of them (module-level clients connect lazily)."""
    resources, parameters = template["Resources"], template.get("Parameters", {})

    def value(raw: Any) -> str:
        if isinstance(raw, dict) and "Ref" in raw:
            name = raw["Ref"]
            if name in parameters:
                return str(parameters[name].get("Default", ""))
            if resources.get(name, {}).get("Type") == "AWS::SQS::Queue":
                return f"https://sqs.us-east-1.amazonaws.com/123456789012/{name}"
            return f"bench-{name}"
        if isinstance(raw, dict) and isinstance(raw.get("Fn::Sub"), str):  # the stack's namespace, secret prefix
            return str(raw["Fn::Sub"]).replace("${AWS::StackName}", "bench")
        return str(raw)

    variables = resources[function]["Properties"].get("Environment", {}).get("Variables", {})
    return {key: value(raw) for key, raw in variables.items()}


def _lambda_environment(function_dir: Path, logical: str, memory_mb: int) -> dict[str, str]:
    """What the Lambda runtime sets for a python3.13 function with active tracing. Libraries read it at
    import: X-Ray's recorder, for one, samples locally in Lambda and builds a client of its own outside."""
    return {
        "LAMBDA_TASK_ROOT": str(function_dir),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": logical,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "_HANDLER": "app.lambda_handler",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:9",  # never dialled at import
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # never dialled
    }


def _python_in(function_dir: Path, environment: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    """This interpreter, fresh, in a function's folder with the function's environment."""
    return subprocess.run(  # noqa: S603 - this interpreter, arguments of ours
        [sys.executable, *argv],
        cwd=function_dir,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=False,
    )


def _import_ms(function_dir: Path, environment: dict[str, str], module: str = "app") -> float:
    """`python -X importtime -c "import app"` in the function's folder: the handler module's cumulative
    import time, its module-level clients and configuration included (what a cold start pays). With
    `module="boto3"`, the same for `import boto3` alone: the yardstick a run's noise moves as much."""
    done = _python_in(function_dir, environment, "-X", "importtime", "-c", f"import {module}")
    if done.returncode != 0:
        raise SystemExit(f"bench: importing {module} in {function_dir.name} failed:\n{done.stderr[-2000:]}")
    for line in done.stderr.splitlines():
        fields = [field.strip() for field in line.removeprefix("import time:").split("|")]
        if len(fields) == 3 and fields[2] == module:
            return int(fields[1]) / 1000
    raise SystemExit(f"bench: no import time for {module} in {function_dir.name}")


def _import_rss_mb(function_dir: Path, environment: dict[str, str]) -> float:
    """The peak RSS of a fresh interpreter once the handler module is imported: what a warm container holds
    before its first event (a function's memory must leave room above it for its work)."""
    probe = "import app, resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    done = _python_in(function_dir, environment, "-c", probe)
    if done.returncode != 0:
        raise SystemExit(f"bench: importing {function_dir.name}/app.py failed:\n{done.stderr[-2000:]}")
    return round(int(done.stdout.strip().splitlines()[-1]) / 1024, 1)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def ratio_to_boto3(handler_runs_ms: list[float], boto3_runs_ms: list[float]) -> float:
    """A handler's median import time over `import boto3`'s median, both measured in the same run."""
    return round(median(handler_runs_ms) / median(boto3_runs_ms), 2)


def bench_cold_imports() -> dict[str, Any]:
    """Each function's handler module, imported in a fresh interpreter; the median of several runs."""
    from local_runtime.template import expanded_template

    template = expanded_template()
    functions = {
        logical: Path(spec["Properties"]["Code"]["S3Key"]).name
        for logical, spec in template["Resources"].items()
        if spec["Type"] == "AWS::Lambda::Function" and "S3Key" in spec["Properties"].get("Code", {})
    }
    result: dict[str, Any] = {}
    every_boto3: list[float] = []
    for logical, folder in sorted(functions.items(), key=lambda item: item[1]):
        function_dir = ROOT / "functions" / folder
        memory = int(template["Resources"][logical]["Properties"].get("MemorySize", 128))
        environment = _deployed_environment(template, logical) | _lambda_environment(function_dir, logical, memory)
        runs, boto3_runs = [], []
        for _ in range(COLD_IMPORT_RUNS):  # interleaved: a burst of noise moves both alike
            boto3_runs.append(_import_ms(function_dir, environment, "boto3"))
            runs.append(_import_ms(function_dir, environment))
        every_boto3 += boto3_runs
        result[folder] = {
            "median_ms": round(median(runs), 1),
            "runs_ms": [round(r, 1) for r in sorted(runs)],
            "boto3_median_ms": round(median(boto3_runs), 1),
            "ratio_to_boto3": ratio_to_boto3(runs, boto3_runs),
            "import_peak_rss_mb": _import_rss_mb(function_dir, environment),
        }
    return {
        "handlers": result,
        "runs": COLD_IMPORT_RUNS,
        "boto3_median_ms": round(median(every_boto3), 1),
        "target_ratio_to_boto3": COLD_IMPORT_TARGET_RATIO,
    }


def _in_own_process(name: str) -> dict[str, Any]:
    """Each benchmark in a fresh process: peak RSS is a process's lifetime peak."""
    done = subprocess.run([sys.executable, __file__, name], capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(f"bench: {name} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


BENCHMARKS: dict[str, Callable[[], dict[str, Any]]] = {
    "order_import": bench_order_import,
    "product_sync": bench_product_sync,
    "inventory_push": bench_inventory_push,
    "tracking_writeback": bench_tracking_writeback,
    "black_friday_hour": bench_black_friday_hour,
    "cold_imports": bench_cold_imports,
    "peer": bench_peer,
    "fulfilment": fulfilment.bench_fulfilment,  # bench/fulfilment.py
    "readback": __import__("readback").bench_readback,  # bench/readback.py: its row and check in main()
    "stores_500": __import__("stores_500").bench_stores_500,  # bench/stores_500.py: its rows and check in main()
}


def main() -> int:
    if len(sys.argv) == 2:  # one benchmark, in this (child) process
        os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        result = BENCHMARKS[sys.argv[1]]()
        print(json.dumps(result))
        if os.environ.get("BENCH_RECORD") == "1":  # a run of its own kept beside the others
            recorded = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
            recorded[sys.argv[1]] = {**result, "scale": SCALE, "measured_on": time.strftime("%Y-%m-%d")}
            RESULTS.write_text(json.dumps(recorded, indent=2) + "\n", encoding="utf-8")
        return 0
    results: dict[str, Any] = {"scale": SCALE}
    for name in BENCHMARKS:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        results[name] = _in_own_process(name)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    orders, products, stock = results["order_import"], results["product_sync"], results["inventory_push"]
    shipments, rush, imports = results["tracking_writeback"], results["black_friday_hour"], results["cold_imports"]
    peer = results["peer"]
    rows = [
        ("figure", "measured", "floor", "target"),
        (f"calls to import {orders['orders']:,} orders", orders["calls"], orders["floor"], "<= 1.25 x floor"),
        ("  the same, run again (nothing new)", orders["rerun_calls"], 1, "1, 0 events"),
        (f"calls for a full sync of {products['skus']:,} SKUs", products["calls"], products["floor"],
         "<= 1.1 x floor"),
        ("peak RSS of that sync's process (MB)", products["peak_rss_mb"], "-", "<= 256"),
        (f"calls to push {stock['changed']:,} changed of {stock['skus']:,} SKUs", stock["changed_calls"], 1, "= 1"),
        ("  the same, nothing changed", stock["unchanged_calls"], 0, "= 0"),
        (f"calls per shipment written back ({shipments['shipments']:,})", shipments["calls_per_shipment"], 2, "2.0"),
        ("  the same shipments delivered again", shipments["calls_when_delivered_again"], 0, "-"),
        (f"Black-Friday hour ({rush['orders']:,} orders): p95 lag (s)", rush["lag_p95_seconds"], "-",
         f"<= {rush['target_lag_p95_seconds']}"),
        ("  429s met in that hour", rush["too_many_requests"], "-", "0"),
        ("AWS usage per 1,000 orders (USD, that hour)", rush["aws_core_usd_per_1000_orders"], "-",
         f"<= {rush['target_usd_per_1000_orders']}"),
        ("  with API Gateway, logs, X-Ray (all traced)", rush["aws_total_usd_per_1000_orders"], "-", "-"),
        ("cold import of boto3 alone (ms, median)", imports["boto3_median_ms"], "-", "the yardstick"),
        *((f"cold import of {name}/app.py / boto3's", figures["ratio_to_boto3"], f"{figures['median_ms']} ms",
           f"<= {imports['target_ratio_to_boto3']}") for name, figures in imports["handlers"].items()),
        *((f"PyPI bigcommerce / bcsync: {what} calls", peer[what]["calls_ratio_peer_to_ours"],
           f"{peer[what]['peer']['calls']:.0f}/{peer[what]['ours']['calls']:.0f}", "ratio, median of runs")
          for what in ("orders", "catalog")),
        *((f"PyPI bigcommerce / bcsync: {what} time", peer[what]["seconds_ratio_peer_to_ours"], "-",
           "ratio, median of runs") for what in ("orders", "catalog")),
    ]  # fmt: skip
    # read back (bench/readback.py): its row, and its check below
    readback = __import__("readback")
    rows.append(readback.row(results["readback"]))
    for row in rows:
        print(f"{row[0]:<50} {row[1]!s:>9} {row[2]!s:>9}  {row[3]}")
    print(f"(written to {RESULTS.relative_to(ROOT)})")
    failed = (
        orders["ratio"] > 1.25
        or orders["rerun_events"] != 0
        or orders["distinct_keys"] != orders["orders"]
        or products["ratio"] > 1.1
        or products["distinct_keys"] != products["skus"]
        or products["peak_rss_mb"] > 256
        or stock["changed_calls"] != 1
        or stock["unchanged_calls"] != 0
        or stock["levels_right"] != stock["skus"]
        or shipments["calls_per_shipment"] != 2.0
        or shipments["orders_with_exactly_one_shipment"] != shipments["shipments"]
        or rush["lag_p95_seconds"] > rush["target_lag_p95_seconds"]
        or rush["too_many_requests"] != 0
        or rush["distinct_keys"] != rush["orders"]
        or rush["aws_core_usd_per_1000_orders"] > rush["target_usd_per_1000_orders"]
        or any(figures["ratio_to_boto3"] > imports["target_ratio_to_boto3"] for figures in imports["handlers"].values())
        or not results["readback"]["ok"]
    )
    # --- fulfillment requests (bench/fulfilment.py): its line, and its floor kept ---
    print("{:<50} {!s:>9} {!s:>9}  {}".format(*fulfilment.row(results["fulfilment"])))
    failed = failed or not fulfilment.at_floor(results["fulfilment"])
    # --- 500 stores (bench/stores_500.py): its lines, and its targets kept ---
    stores_500 = __import__("stores_500")
    for line in stores_500.row(results["stores_500"]):
        print("{:<50} {!s:>9} {!s:>9}  {}".format(*line))
    failed = failed or not stores_500.met(results["stores_500"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
