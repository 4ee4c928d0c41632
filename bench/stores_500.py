"""`make bench`'s 500 stores: a compressed day of a deployment serving many stores, priced from the wire.

500 stores (at BENCH_SCALE=1; a tenth of them run, each standing for ten: `STORE_SAMPLE`), each on a
Standard-plan quota whose other apps use half of it (`other_apps=75`), 80 ms a call, webhooks registered
and every schedule of the template running (`fire_schedules`). The day is simulated in three measured
parts, each with its own `AwsUsage`:

- the quiet slice: `IDLE_WINDOW_HOURS` of every store at a quiet store's pace (3 orders a day), the
  schedules ticking; its cost per store, times 720 / the slice's hours, is a quiet store's month;
- the nightly round: the template's daily rules (the full product sync, the inventory drift) once, times
  30 in the month;
- the busy window: `BUSY_WINDOW_SECONDS` in which 50 of the stores take `BUSY_ORDERS_PER_HOUR` each at
  random moments (seeded), the rest staying quiet; its cost over its orders is the cost per 1,000 orders,
  each order's lag (created -> its Order Ready's PutEvents) gives a p95 per store.

The clock jumps from one event to the next (an arrival, a schedule tick, a delayed SQS message coming
due): a quiet hour costs what happens in it, not 3,600 steps. `.venv/bin/python bench/run.py stores_500`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math
import os
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import harness  # type: ignore[import-not-found]  # bench/harness.py: this script's folder is on sys.path

STORES, BUSY_STORES = 500, 50
# The share of those stores simulated, each standing for 1 / STORE_SAMPLE of its kind. A store's figures
# (its lag, its month, its orders' cost) do not depend on how many others there are: what a tick shares
# (the registry's read, a batch of job messages) grows with the stores and is divided among them. All 500
# on moto would take hours (docs/performance.md); STORES_500_SAMPLE=1 runs them all.
STORE_SAMPLE = float(os.environ.get("STORES_500_SAMPLE", "0.1"))
QUIET_ORDERS_PER_DAY = 3
BUSY_ORDERS_PER_HOUR = 600  # per busy store: ten a minute, a store's Black-Friday evening
BUSY_WINDOW_SECONDS = 15 * 60
IDLE_WINDOW_HOURS = 2.0
OTHER_APPS = 75  # of each store's 150 requests a window: half
DAY = 86_400
MIDNIGHT = 1_700_006_400.0  # a UTC midnight (2023-11-15): the daily cron rules fire on multiples of a day
STEP_SECONDS = 1.0  # arrivals of the same second are delivered together, as the Black-Friday hour does
JOB_QUEUES = {
    "OrderImportJobs": "OrderImportFunction",
    "ProductSyncJobs": "ProductSyncFunction",
    "InventoryPushJobs": "InventoryPushFunction",
    "ReadbackJobs": "ReadbackFunction",
}
LAG_TARGET_SECONDS = 60
TARGET_USD_PER_1000_ORDERS = 0.005
TARGET_IDLE_USD_PER_STORE_MONTH = 0.05
MONTH_DAYS = 30


class LatencyLedger:
    """The sandbox's clock: the runtime's time, but BigCommerce's latency is owed, not slept.

    One shared compressed clock and handlers run one after another: were each call's 80 ms slept on it,
    every store's latency would add up on every other store's time (50 busy stores make the clock run
    faster than their orders arrive), where in AWS each store's runs wait on their own. So each
    invocation's latency is added to its own billed time (`charge`) and to the lag of the orders it
    publishes (`StorePublishTimes`), not to the clock."""

    def __init__(self, clock: Any) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.owed = 0.0
        self.run_started: float | None = None  # `owed` when the running invocation began

    def now(self) -> float:
        return float(self._clock.now())

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.owed += max(seconds, 0.0)

    def in_run(self) -> float:
        """The latency the running invocation has met so far."""
        return 0.0 if self.run_started is None else self.owed - self.run_started

    def charge(self, stack: Any, handler: Callable[[dict[str, Any], Any], Any]) -> Callable[[dict[str, Any], Any], Any]:
        """`handler` (a recorded one), its invocation's record charged with the latency it met."""

        def call(event: dict[str, Any], context: Any) -> Any:
            self.run_started = self.owed
            try:
                return handler(event, context)
            finally:
                met, self.run_started = self.in_run(), None
                if met and stack.invocations:
                    last = stack.invocations[-1]
                    stack.invocations[-1] = dataclasses.replace(last, clock_seconds=last.clock_seconds + met)

        return call


class StorePublishTimes:
    """When each order's event left the function (its PutEvents), by store and order, on the runtime's clock."""

    def __init__(self, clock: Any, ledger: LatencyLedger) -> None:
        self._clock = clock
        self._ledger = ledger
        self.at: dict[tuple[str, int], float] = {}

    def observe(self, request: Any) -> None:
        if request.service != "events" or not request.operation.endswith("PutEvents"):
            return
        now = self._clock.now() + self._ledger.in_run()  # the latency its run met before this PutEvents
        for entry in json.loads(request.body)["Entries"]:
            key = json.loads(entry["Detail"]).get("idempotency_key", "")
            if key.startswith("order:"):
                _, store_hash, order_id, _ = key.split(":", 3)
                self.at.setdefault((store_hash, int(order_id)), now)


def next_sqs_due(now: float) -> float | None:
    """The earliest moment a delayed message of any queue comes due after `now` (moto runs in this process)."""
    from moto.sqs.models import sqs_backends

    from local_runtime.template import ACCOUNT, REGION

    due = [
        message.bcsync_due_at  # type: ignore[attr-defined]  # set by the local runtime (moto_server)
        for queue in sqs_backends[ACCOUNT][REGION].queues.values()
        for message in list(queue._messages)
        if getattr(message, "bcsync_due_at", -math.inf) > now
    ]
    return min(due, default=None)


def waiting(queue_url: str) -> bool:
    """Whether a queue holds a message a receive would return now: the harness asks moto in this process
    instead of sending a receive that finds nothing (a poller's idle cost, never billed) at every step."""
    from moto.sqs.models import sqs_backends

    from local_runtime.template import ACCOUNT, REGION

    queue = sqs_backends[ACCOUNT][REGION].queues.get(queue_url.rstrip("/").rpartition("/")[2])
    return queue is None or any(m.visible and not m.delayed for m in list(queue._messages))


def next_tick(periods: Iterable[float], now: float) -> float:
    """The next moment any schedule rule fires after `now`."""
    return min((now // period + 1) * period for period in periods)


@contextlib.contextmanager
def moto_queries_by_partition() -> Iterator[None]:
    """moto answers a Query by sorting every item of the table and keeping the partition's (O(table) per
    query) where DynamoDB reads the partition alone: with 500 stores' rows in one table the run would grow
    with the square of the stores. Here a Query without an index reads its partition alone: the same
    items in the same order, so the same answers and the same request units, at DynamoDB's pace."""
    from moto.dynamodb.models.table import Table

    local = threading.local()
    all_items, query = Table.all_items, Table.query

    def partition_items(self: Table) -> list[Any]:
        key = getattr(local, "hash_key", None)
        if key is None or not self.range_key_attr:
            return all_items(self)
        return sorted(self.items.get(key, {}).values(), key=lambda item: item.range_key)

    def partition_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        local.hash_key = hash_key if index_name is None else None
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            local.hash_key = None

    Table.all_items, Table.query = partition_items, partition_query  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.all_items, Table.query = all_items, query  # type: ignore[method-assign]


def _daily(event: dict[str, Any]) -> bool:
    """The daily cron rules' inputs: the nightly full product sync and the inventory drift read."""
    return event.get("mode") == "full" or bool(event.get("drift"))


def _progress(what: str, started: float) -> None:
    print(f"stores_500: {what} ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)


def bench_stores_500() -> dict[str, Any]:
    import requests

    from bigcommerce_client import VirtualClock
    from bigcommerce_sandbox import Exchange, Sandbox, add_order, seed_catalog
    from local_runtime import LocalDeployment
    from local_runtime.schedules import fire_schedules
    from local_runtime.usage import MEMORY_SIZES_MB, AwsUsage, cheapest_memory, gb_seconds_by_memory, lambda_seconds

    busy_count = max(round(BUSY_STORES * harness.SCALE * STORE_SAMPLE), 3)
    store_count = max(round(STORES * harness.SCALE * STORE_SAMPLE), busy_count + 5)
    rng = random.Random(20261128)
    clock = VirtualClock(start=MIDNIGHT - 3_600)
    ledger = LatencyLedger(clock)
    started = time.monotonic()
    logs = io.StringIO()
    with (
        LocalDeployment(clock=clock) as stack,
        Sandbox(clock=ledger, latency_seconds=0.08) as sandbox,
        stack.environ() as env,
        moto_queries_by_partition(),
        contextlib.redirect_stdout(logs),  # the handlers' JSON logs and EMF lines: counted as log bytes
    ):
        os.environ["BIGCOMMERCE_API_URL"] = sandbox.url
        hashes = [f"s5{n:04d}" for n in range(store_count)]
        busy = set(hashes[:busy_count])
        stores = {}
        for store_hash in hashes:
            store = sandbox.add_store(store_hash, token=harness.TOKEN, quota=150, other_apps=OTHER_APPS)
            seed_catalog(store, products=5, variants_per_product=2)
            harness.connect(store_hash, webhooks=True)
            stores[store_hash] = store
        sellable = {store_hash: harness.sellable_of(store) for store_hash, store in stores.items()}
        exchanges: list[Exchange] = []
        sandbox.observers.append(exchanges.append)
        session = requests.Session()  # BigCommerce's deliveries keep their connections, as a sender would
        periods = stack.schedules().values()
        handlers = {function: ledger.charge(stack, stack.load_handler(function)) for function in JOB_QUEUES.values()}
        warehouse = harness.Warehouse(stack)  # taken from at each settled moment: a thread would poll moto all along
        published = StorePublishTimes(clock, ledger)
        stack.observe_aws(published.observe)
        deliveries = 0

        def invoke(keep: Callable[[dict[str, Any]], bool]) -> Callable[[str, dict[str, Any], Any], Any]:
            def call(function: str, event: dict[str, Any], context: Any) -> Any:
                return ledger.charge(stack, stack.load_handler(function))(event, context) if keep(event) else None

            return call

        def settle() -> None:
            """Every webhook delivered, every job queue drained: what is due now has run."""
            nonlocal deliveries
            for store in stores.values():
                if store.webhooks.pending:
                    results = store.webhooks.fire(verify=env["BCSYNC_LOCAL_CA_BUNDLE"], session=session)
                    deliveries += len(results)
                    if any(result.status != 200 for result in results):
                        raise SystemExit(f"bench: a webhook was refused: {results}")
            for queue, function in JOB_QUEUES.items():
                if not waiting(stack.physical[queue]["Ref"]):
                    continue
                report = stack.deliver_sqs(queue, handlers[function], max_invocations=10_000)
                if report.failed or report.errors:
                    raise SystemExit(f"bench: {function} failed: {report}")
            while waiting(stack.physical["WarehouseOutbound"]["Ref"]) and warehouse._take():
                pass

        def simulate(
            arrivals: list[tuple[float, str]], until: float, keep: Callable[[dict[str, Any]], bool]
        ) -> dict[tuple[str, int], float]:
            """From now to `until` and then until every order created has been published, event to event."""
            created: dict[tuple[str, int], float] = {}
            last, next_arrival = clock.now(), 0
            while True:
                now = clock.now()
                while next_arrival < len(arrivals) and arrivals[next_arrival][0] <= now:
                    at, store_hash = arrivals[next_arrival]
                    order_id = add_order(stores[store_hash], lines=[(*rng.choice(sellable[store_hash]), 1)], at=at)
                    created[(store_hash, order_id)] = at
                    next_arrival += 1
                settle()
                if fire_schedules(stack, last, now, invoke(keep)):
                    settle()
                last = now
                done = next_arrival == len(arrivals) and all(key in published.at for key in created)
                if now >= until and done:
                    return created
                if now > until + 900:
                    missing = sum(1 for key in created if key not in published.at)
                    raise SystemExit(f"bench: {missing} orders never published")
                candidates = [next_tick(periods, now)]
                if next_arrival < len(arrivals):
                    candidates.append(max(arrivals[next_arrival][0], now + STEP_SECONDS))
                if (due := next_sqs_due(clock.now())) is not None:
                    candidates.append(due)
                if now < until:
                    candidates.append(until)
                clock.advance(max(min(candidates) - clock.now(), 0.001))

        def measured(
            phase: Callable[[], Any],
        ) -> tuple[Any, AwsUsage, list[Any], list[Exchange], float, dict[str, Any]]:
            nonlocal deliveries
            usage = AwsUsage()
            stack.observe_aws(usage.observe)
            stack.invocations.clear()
            before, wall, delivered, log_before = len(exchanges), time.monotonic(), deliveries, logs.tell()
            deliveries = 0
            outcome = phase()
            stack.unobserve_aws(usage.observe)
            phase_deliveries = deliveries
            deliveries = delivered + deliveries
            bill = usage.bill(stack.invocations, http_api_requests=phase_deliveries, log_bytes=logs.tell() - log_before)
            return outcome, usage, list(stack.invocations), exchanges[before:], time.monotonic() - wall, bill

        _progress(f"{store_count} stores connected", started)
        # Warm-up, not measured: every rule fires once at the first midnight (the first scans and full syncs).
        clock.advance(max(MIDNIGHT - clock.now(), 0))
        fire_schedules(stack, MIDNIGHT - 0.5, MIDNIGHT, invoke(lambda event: True))
        settle()
        setup_wall = time.monotonic() - started

        _progress("warmed up", started)
        # The quiet slice: every store at a quiet store's pace, the daily rules left to the nightly round.
        slice_seconds = IDLE_WINDOW_HOURS * 3_600
        slice_start = clock.now()
        quiet_orders = round(store_count * QUIET_ORDERS_PER_DAY * IDLE_WINDOW_HOURS / 24)
        quiet_arrivals = sorted((slice_start + rng.uniform(0, slice_seconds), rng.choice(hashes))
                                for _ in range(quiet_orders))  # fmt: skip
        quiet_created, quiet_usage, quiet_runs, quiet_exchanges, quiet_wall, quiet_bill = measured(
            lambda: simulate(quiet_arrivals, slice_start + slice_seconds, lambda event: not _daily(event))
        )

        _progress(f"quiet slice done, {len(quiet_created)} orders", started)
        # The busy window: the busy stores at their Black-Friday rate, the others still quiet.
        window_start = clock.now()
        arrivals = [
            (window_start + rng.uniform(0, BUSY_WINDOW_SECONDS), store_hash)
            for store_hash in sorted(busy)
            for _ in range(round(BUSY_ORDERS_PER_HOUR * BUSY_WINDOW_SECONDS / 3_600))
        ]
        arrivals += [
            (window_start + rng.uniform(0, BUSY_WINDOW_SECONDS), rng.choice(sorted(set(hashes) - busy)))
            for _ in range(round((store_count - busy_count) * QUIET_ORDERS_PER_DAY * BUSY_WINDOW_SECONDS / DAY))
        ]
        arrivals.sort()
        busy_created, busy_usage, busy_runs, busy_exchanges, busy_wall, busy_bill = measured(
            lambda: simulate(arrivals, window_start + BUSY_WINDOW_SECONDS, lambda event: not _daily(event))
        )

        _progress(f"busy window done, {len(busy_created)} orders", started)
        # The nightly round: the next midnight's daily rules alone (the rate rules' ticks there belong to the day).
        next_midnight = (clock.now() // DAY + 1) * DAY
        clock.advance(next_midnight - clock.now())

        def nightly() -> None:
            fire_schedules(stack, next_midnight - 0.5, next_midnight, invoke(_daily))
            settle()

        _, nightly_usage, nightly_runs, nightly_exchanges, nightly_wall, nightly_bill = measured(nightly)
        warehouse.counted()
    wall = time.monotonic() - started

    # The busy window's figures: lag per store, cost per 1,000 orders.
    lags: dict[str, list[float]] = {}
    for (store_hash, order_id), at in busy_created.items():
        lags.setdefault(store_hash, []).append(published.at[(store_hash, order_id)] - at)
    p95_by_store = {
        store_hash: harness.percentile(values, 0.95) for store_hash, values in lags.items() if store_hash in busy
    }
    worst_store = max(p95_by_store, key=lambda store_hash: p95_by_store[store_hash])
    every_lag = [lag for values in lags.values() for lag in values]
    busy_orders = len(busy_created)
    every_exchange = quiet_exchanges + busy_exchanges + nightly_exchanges

    # A quiet store's month: the slice per store, times the month's slices, and the nightly round 30 times.
    slice_factor = MONTH_DAYS * 24 / IDLE_WINDOW_HOURS
    slice_per_store = quiet_bill["core_total_usd"] / store_count
    nightly_per_store = nightly_bill["core_total_usd"] / store_count
    idle_month = slice_per_store * slice_factor + nightly_per_store * MONTH_DAYS
    secrets_calls_month = (
        quiet_usage.secrets_manager_calls * slice_factor + nightly_usage.secrets_manager_calls * MONTH_DAYS
    ) / store_count

    # Memory by measurement: each function's GB-s at each size, and the lag the import's CPU would add.
    every_run = quiet_runs + busy_runs + nightly_runs
    by_memory = gb_seconds_by_memory(every_run)

    def added_lag(function: str, memory_mb: int) -> float:
        """The p95 of a function's runs in the busy window at `memory_mb`, off the compressed clock: the local
        runtime's wall time does not move that clock, so the lag measured left it out; this errs high (an
        order is published before its run ends)."""
        durations = [lambda_seconds(r, memory_mb) - r.clock_seconds for r in busy_runs if r.function == function]
        return harness.percentile(durations, 0.95) if durations else 0.0

    worst_p95 = p95_by_store[worst_store]
    lag_at: dict[int, float] = {
        size: round(worst_p95 + added_lag("OrderImportFunction", size) + added_lag("WebhookReceiverFunction", size), 1)
        for size in MEMORY_SIZES_MB
    }
    memory = {}
    template = stack.template["Resources"]
    for function, table in sorted(by_memory.items()):
        allowed = [
            size for size in MEMORY_SIZES_MB if function not in LAG_FUNCTIONS or lag_at[size] <= LAG_TARGET_SECONDS
        ]
        memory[function] = {
            "gb_seconds_by_memory": table,
            "template_mb": int(template[function]["Properties"].get("MemorySize", 128)),
            "cheapest_keeping_lag_mb": cheapest_memory(table, allowed or [max(MEMORY_SIZES_MB)]),
            "cpu_seconds": round(sum(r.cpu_seconds for r in every_run if r.function == function), 2),
            "wall_seconds": round(sum(r.wall_seconds for r in every_run if r.function == function), 2),
            "clock_seconds": round(sum(r.clock_seconds for r in every_run if r.function == function), 2),
            "invocations": sum(1 for r in every_run if r.function == function),
        }

    def where(usage: AwsUsage, bill: dict[str, Any]) -> dict[str, Any]:
        return {
            "write_units_by_operation": dict(usage.write_units_by_operation.most_common(12)),
            "lambda_gb_seconds_by_function": bill["counted"]["lambda_gb_seconds_by_function"],
            "core_usd": {service: round(usd, 6) for service, usd in bill["core_usd"].items()},
        }

    return {
        "stores": round(STORES * harness.SCALE),
        "stores_simulated": store_count,
        "store_sample": STORE_SAMPLE,
        "busy_stores_simulated": busy_count,
        "quiet_stores_simulated": store_count - busy_count,
        "usd_per_1000_orders": round(busy_bill["core_total_usd"] * 1000 / busy_orders, 5),
        "idle_usd_per_store_month": round(idle_month, 4),
        "p95_lag_seconds_worst_store": round(worst_p95, 1),
        "too_many_requests": sum(1 for e in every_exchange if e.status == 429),
        "wall_seconds": round(wall, 1),
        "targets": {
            "usd_per_1000_orders": TARGET_USD_PER_1000_ORDERS,
            "idle_usd_per_store_month": TARGET_IDLE_USD_PER_STORE_MONTH,
            "p95_lag_seconds_worst_store": LAG_TARGET_SECONDS,
            "too_many_requests": 0,
        },
        "busy": {
            "window_seconds": BUSY_WINDOW_SECONDS,
            "orders_per_hour_per_busy_store": BUSY_ORDERS_PER_HOUR,
            "orders": busy_orders,
            "orders_of_busy_stores": sum(1 for store_hash, _ in busy_created if store_hash in busy),
            "simulated_seconds": round(clock_span(busy_created, published.at, window_start), 1),
            "worst_store": worst_store,
            "lag_p50_seconds_all": round(harness.percentile(every_lag, 0.50), 1),
            "lag_p95_seconds_all": round(harness.percentile(every_lag, 0.95), 1),
            "lag_max_seconds": round(max(every_lag), 1),
            "bigcommerce_calls": len(busy_exchanges),
            "lowest_requests_left": min(stores[store_hash].rate.lowest_left for store_hash in busy),
            "webhook_deliveries": busy_bill["counted"]["http_api_requests"],
            "invocations": dict(Counter(r.function for r in busy_runs)),
            "wall_seconds": round(busy_wall, 1),
            "aws": busy_bill,
            "where": where(busy_usage, busy_bill),
            "usd_per_1000_orders_all_services": round(busy_bill["total_usd"] * 1000 / busy_orders, 5),
        },
        "idle": {
            "idle_window_hours": IDLE_WINDOW_HOURS,
            "slice_factor_to_month": round(slice_factor, 1),
            "nightly_rounds_in_month": MONTH_DAYS,
            "orders_in_slice": len(quiet_created),
            "usd_per_store_slice": round(slice_per_store, 7),
            "usd_per_store_nightly_round": round(nightly_per_store, 7),
            "secrets_manager_calls_per_store_month": round(secrets_calls_month, 1),
            "secrets_manager_calls_usd_per_store_month": round(secrets_calls_month * 0.05 / 1e4, 5),
            "bigcommerce_calls_in_slice": len(quiet_exchanges),
            "invocations_in_slice": dict(Counter(r.function for r in quiet_runs)),
            "invocations_in_nightly_round": dict(Counter(r.function for r in nightly_runs)),
            "wall_seconds_slice": round(quiet_wall, 1),
            "wall_seconds_nightly": round(nightly_wall, 1),
            "aws_slice": quiet_bill,
            "aws_nightly": nightly_bill,
            "where_slice": where(quiet_usage, quiet_bill),
            "where_nightly": where(nightly_usage, nightly_bill),
        },
        "memory": {
            "model": "GB-s at M MB = M/1024 x (waiting + cpu x max(1, 1769/M)); waiting = wall - cpu + clock waits",
            "worst_store_p95_lag_at_mb": lag_at,
            "functions": memory,
        },
        "setup_wall_seconds": round(setup_wall, 1),
    }


LAG_FUNCTIONS = {"OrderImportFunction", "WebhookReceiverFunction"}  # an order's lag runs through these two


def clock_span(created: dict[tuple[str, int], float], published: dict[tuple[str, int], float], start: float) -> float:
    """From the window's start to the last of its orders' publication."""
    return max((published[key] for key in created), default=start) - start


def row(result: dict[str, Any]) -> list[tuple[str, Any, Any, str]]:
    """Its lines of `make bench`'s table."""
    targets = result["targets"]
    stores = f"{result['stores']} stores ({result.get('stores_simulated', result['stores'])} run)"
    return [
        (f"{stores}: USD per 1,000 orders (busy window)", result["usd_per_1000_orders"], "-",
         f"<= {targets['usd_per_1000_orders']}"),
        (f"{stores}: USD per quiet store a month", result["idle_usd_per_store_month"], "-",
         f"<= {targets['idle_usd_per_store_month']}"),
        (f"{stores}: p95 lag of the worst busy store (s)", result["p95_lag_seconds_worst_store"], "-",
         f"<= {targets['p95_lag_seconds_worst_store']}"),
        (f"{stores}: 429s", result["too_many_requests"], "-", "0"),
    ]  # fmt: skip


def met(result: dict[str, Any]) -> bool:
    targets = result["targets"]
    return bool(
        result["usd_per_1000_orders"] <= targets["usd_per_1000_orders"]
        and result["idle_usd_per_store_month"] <= targets["idle_usd_per_store_month"]
        and result["p95_lag_seconds_worst_store"] <= targets["p95_lag_seconds_worst_store"]
        and result["too_many_requests"] == 0
    )


if __name__ == "__main__":
    print(json.dumps(bench_stores_500()))
