"""`make bench`: BigCommerce calls against their floor, and the handlers' memory, on the local runtime.

Not part of `make test`: the full sizes take minutes. `BENCH_SCALE=0.1 make bench` runs a tenth.
Results go to bench/results.json and are printed as a table (docs/performance.md quotes them).

- order import: 10,000 paid orders (one a second, as a busy store's traffic), Standard-plan quota
  (150 requests / 30 s), 80 ms per call, on the compressed clock; everything in this process.
- product sync: 10,000 products x 3 variants; moto and the sandbox run in processes of their own, so the
  peak RSS measured is this process's: the handler, its clients, and the local runtime's SQS loop.
- inventory push: 100,000 SKUs stocked, then 1,000 changed, then nothing; the catalog index is written
  as product sync would have written it (its own cost is the product-sync figure).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bcsync.cli import main as bcsync_cli
from bcsync.state import JobState
from bigcommerce_client import VirtualClock
from bigcommerce_sandbox import Exchange, Sandbox, add_order, seed_catalog, seed_variants
from local_runtime import LocalStack
from local_runtime.shortcuts import catalog_as_synced

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
TOKEN = "bench-token-0000"  # noqa: S105 - the sandbox's, never a real store's


def _connect(store_hash: str) -> None:
    out = io.StringIO()
    if bcsync_cli(["stores", "connect", store_hash, "--no-webhooks"], stdin=io.StringIO(TOKEN), out=out) != 0:
        raise SystemExit(f"bench: connecting {store_hash} failed: {out.getvalue()}")


class Warehouse(threading.Thread):
    """Consumes WarehouseOutbound while the job runs, as a warehouse does: moto scans a whole queue on
    every send and every delete, so a queue left to fill with 30,000 events makes the run quadratic."""

    def __init__(self, stack: LocalStack) -> None:
        super().__init__(daemon=True)
        self._sqs, self._url = stack.client("sqs"), stack.physical["WarehouseOutbound"]["Ref"]
        self._stop = threading.Event()
        self.total = 0
        self.keys: set[str] = set()

    def run(self) -> None:
        while not self._stop.is_set():
            if not self._take():
                self._stop.wait(0.05)

    def _take(self) -> int:
        batch = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10).get("Messages", [])
        for message in batch:
            self.total += 1
            self.keys.add(json.loads(message["Body"])["detail"]["idempotency_key"])
        if batch:
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)],
            )
        return len(batch)

    def counted(self) -> tuple[int, int]:
        """(events, distinct idempotency keys) since the last call, once the queue is empty."""
        self._stop.set()
        if self.ident is not None:  # started
            self.join()
        while self._take():
            pass
        counted = (self.total, len(self.keys))
        self.total, self.keys = 0, set()
        return counted


def _drain_count(stack: LocalStack, logical: str) -> tuple[int, int]:
    """(messages, distinct idempotency keys) left on a queue."""
    assert logical == "WarehouseOutbound"
    return Warehouse(stack).counted()


def _run_job(stack: LocalStack, function: str, queue: str, event: dict[str, Any]) -> int:
    """Runs a tick and its job messages; returns how many invocations the queue took."""
    handler = stack.load_handler(function)
    with contextlib.redirect_stdout(io.StringIO()):  # the handlers' JSON logs and EMF lines
        handler(event, stack.context(function))
        report = stack.deliver_sqs(queue, handler, max_invocations=10_000)
    if report.failed or report.errors:
        raise SystemExit(f"bench: {function} failed: {report}")
    return report.invocations


def bench_order_import() -> dict[str, Any]:
    orders = int(10_000 * SCALE)
    clock = VirtualClock()
    with LocalStack(clock=clock) as stack, Sandbox(clock=clock, latency_seconds=0.08) as sandbox, stack.environ():
        os.environ["BIGCOMMERCE_API_URL"] = sandbox.url
        store = sandbox.add_store("bench01", token=TOKEN, quota=150)
        seed_catalog(store, products=50, variants_per_product=2)
        _connect("bench01")
        sellable = [(p, v) for p in store.products.values() for v in p["variants"] if p["is_visible"]]
        for n in range(orders):
            add_order(store, lines=[(*sellable[n % len(sellable)], 1)], at=clock.now() - orders + n)
        exchanges: list[Exchange] = []
        sandbox.observers.append(exchanges.append)
        started, simulated = time.monotonic(), clock.now()
        warehouse = Warehouse(stack)
        warehouse.start()
        _run_job(stack, "OrderImportFunction", "OrderImportJobs", {"action": "tick"})
        wall = time.monotonic() - started
        calls = sum(1 for e in exchanges if (e.method, e.api_path) == ("GET", "/v2/orders"))
        events, keys = warehouse.counted()
        rerun_before = len(exchanges)
        clock.advance(600)
        _run_job(stack, "OrderImportFunction", "OrderImportJobs", {"action": "tick"})
        rerun_events, _ = _drain_count(stack, "WarehouseOutbound")
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
        with LocalStack(moto_endpoint=f"http://127.0.0.1:{moto_port}") as stack, stack.environ():
            os.environ["BIGCOMMERCE_API_URL"] = sandbox_url
            _connect("bench02")
            stack.load_handler("ProductSyncFunction")  # imported: what a cold start holds
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            started = time.monotonic()
            warehouse = Warehouse(stack)
            warehouse.start()
            invocations = _run_job(stack, "ProductSyncFunction", "ProductSyncJobs", {"action": "tick", "mode": "full"})
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
    debounce as in AWS (1 s here, real time): a burst of messages is one push."""
    skus = int(100_000 * SCALE) // 2 * 2
    clock = VirtualClock()
    os.environ["BCSYNC_WEBHOOK_DEBOUNCE_SECONDS"] = "1"
    with LocalStack(clock=clock) as stack, Sandbox(clock=clock, latency_seconds=0.08) as sandbox, stack.environ():
        os.environ["BIGCOMMERCE_API_URL"] = sandbox.url
        store = sandbox.add_store("bench03", token=TOKEN, quota=150)
        product_ids = seed_variants(store, products=skus // 2, variants_per_product=2)
        _connect("bench03")
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
                time.sleep(1.5)  # SQS holds the debounced job message for its delay (real time in moto)
                clock.advance(1.5)  # and the window closes on the handlers' clock
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
        _run_job(stack, "InventoryPushFunction", "InventoryPushJobs", {"action": "tick"})
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


COLD_IMPORT_RUNS = 5
COLD_IMPORT_TARGET_MS = 400


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
        return str(raw)

    variables = resources[function]["Properties"].get("Environment", {}).get("Variables", {})
    return {key: value(raw) for key, raw in variables.items()}


def _import_ms(function_dir: Path, environment: dict[str, str]) -> float:
    """`python -X importtime -c "import app"` in the function's folder: the handler module's cumulative
    import time, its module-level clients and configuration included (what a cold start pays)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import app"],
        cwd=function_dir,
        env={**os.environ, **environment, "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench",
             "AWS_SECRET_ACCESS_KEY": "bench", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"},  # never dialled
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"bench: importing {function_dir.name}/app.py failed:\n{done.stderr[-2000:]}")
    for line in done.stderr.splitlines():
        fields = [field.strip() for field in line.removeprefix("import time:").split("|")]
        if len(fields) == 3 and fields[2] == "app":
            return int(fields[1]) / 1000
    raise SystemExit(f"bench: no import time for {function_dir.name}/app.py")


def bench_cold_imports() -> dict[str, Any]:
    """Each function's handler module, imported in a fresh interpreter; the median of several runs."""
    from local_runtime.runtime import expanded_template

    template = expanded_template()
    functions = {
        logical: Path(spec["Properties"]["Code"]["S3Key"]).name
        for logical, spec in template["Resources"].items()
        if spec["Type"] == "AWS::Lambda::Function" and "S3Key" in spec["Properties"].get("Code", {})
    }
    result: dict[str, Any] = {}
    for logical, folder in sorted(functions.items(), key=lambda item: item[1]):
        environment = _deployed_environment(template, logical)
        runs = sorted(_import_ms(ROOT / "functions" / folder, environment) for _ in range(COLD_IMPORT_RUNS))
        result[folder] = {"median_ms": round(runs[len(runs) // 2], 1), "runs_ms": [round(r, 1) for r in runs]}
    return {"handlers": result, "runs": COLD_IMPORT_RUNS, "target_ms": COLD_IMPORT_TARGET_MS}


def _in_own_process(name: str) -> dict[str, Any]:
    """Each benchmark in a fresh process: peak RSS is a process's lifetime peak."""
    done = subprocess.run([sys.executable, __file__, name], capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(f"bench: {name} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    if len(sys.argv) == 2:  # one benchmark, in this (child) process
        os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        benchmarks = {
            "order_import": bench_order_import,
            "product_sync": bench_product_sync,
            "inventory_push": bench_inventory_push,
            "cold_imports": bench_cold_imports,
        }
        result = benchmarks[sys.argv[1]]()
        print(json.dumps(result))
        return 0
    orders, products = _in_own_process("order_import"), _in_own_process("product_sync")
    stock, imports = _in_own_process("inventory_push"), _in_own_process("cold_imports")
    results = {
        "scale": SCALE,
        "order_import": orders,
        "product_sync": products,
        "inventory_push": stock,
        "cold_imports": imports,
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    rows = [
        ("figure", "measured", "floor", "target"),
        (f"calls to import {orders['orders']:,} orders", orders["calls"], orders["floor"], "<= 1.25 x floor"),
        ("  the same, run again (nothing new)", orders["rerun_calls"], 1, "1, 0 events"),
        (f"calls for a full sync of {products['skus']:,} SKUs", products["calls"], products["floor"],
         "<= 1.1 x floor"),
        ("peak RSS of that sync's process (MB)", products["peak_rss_mb"], "-", "<= 256"),
        (f"calls to push {stock['changed']:,} changed of {stock['skus']:,} SKUs", stock["changed_calls"], 1, "= 1"),
        ("  the same, nothing changed", stock["unchanged_calls"], 0, "= 0"),
        *((f"cold import of {name}/app.py (ms, median)", figures["median_ms"], "-", f"<= {imports['target_ms']}")
          for name, figures in imports["handlers"].items()),
    ]  # fmt: skip
    for row in rows:
        print(f"{row[0]:<46} {row[1]!s:>9} {row[2]!s:>6}  {row[3]}")
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
        or any(figures["median_ms"] > imports["target_ms"] for figures in imports["handlers"].values())
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
