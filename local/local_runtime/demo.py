"""`make demo`: the whole loop on this machine - moto on 127.0.0.1 and the BigCommerce sandbox.

No AWS account, no network. A demo store is connected through the CLI (webhooks included); product
sync sends its catalog to a simulated warehouse; orders arrive by schedule and by webhook; the
warehouse acknowledges, ships (one package or two) and reports stock; the tracking writeback and
the inventory push write back to BigCommerce. It prints what each stage did, exits 1 if any stage
did not do what it should, and stops every server it started.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from bcsync.cli import main as bcsync_cli
from bcsync.store.dynamo import scan_all
from bcsync.store.jobs import JobState
from bigcommerce_sandbox import Sandbox, SandboxStore, add_order, seed_catalog, seed_orders

from .demo_readback import shipment_by_hand_comes_back
from .deployment import LocalDeployment
from .warehouse import SimulatedWarehouse

STORE = "demo123"
DEMO_TOKEN = "demo-token-sandbox-only"  # noqa: S105 - valid on the local sandbox and nowhere else
DEBOUNCE_SECONDS = 1.0  # 5 s in a deployment; the rule is the same


class Demo:
    def __init__(self, stack: LocalDeployment, sandbox: Sandbox, store: SandboxStore) -> None:
        self.stack, self.sandbox, self.store = stack, sandbox, store
        self.warehouse = SimulatedWarehouse(STORE)
        self.problems: list[str] = []
        self.table = stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])

    def check(self, ok: bool, problem: str) -> None:
        if not ok:
            self.problems.append(problem)

    def run(self, function: str, event: dict[str, Any] | None, *queues: str, wait: float = 0.0) -> None:
        """A function's trigger (a schedule tick, or nothing), then its queues drained as Lambda would."""
        handler = self.stack.load_handler(function)
        with contextlib.redirect_stdout(io.StringIO()):  # the handlers' JSON log lines and EMF metrics
            if event is not None:
                handler(event, self.stack.context(function))
            if wait:
                time.sleep(wait)  # SQS holds a debounced job message until its window ends
            for queue in queues:
                report = self.stack.deliver_sqs(queue, handler)
                self.check(report.failed == 0 and report.errors == 0, f"{function} on {queue}: {report}")

    def send(self, queue: str, messages: list[dict[str, Any]]) -> None:
        sqs, url = self.stack.client("sqs"), self.stack.physical[queue]["Ref"]
        for message in messages:
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))

    def calls(self, function: str, counter: Callable[[Any], Any]) -> int:
        return int(counter(self.stack.function_module(function)).total(STORE))

    def run_figure(self, job: str, figure: str) -> int:
        run = JobState(self.table).last_run(STORE, job)
        return run.figures.get(figure, 0) if run else 0

    def order_records(self) -> dict[str, int]:
        """released / cancelled / skipped / held, from bcsync's own order records."""
        counts: dict[str, int] = {}
        for item in scan_all(
            self.table,
            FilterExpression="begins_with(pk, :prefix) AND sk = :sk",
            ExpressionAttributeValues={":prefix": f"STORE#{STORE}#ORDER#", ":sk": "ORDER"},
        ):
            counts[str(item["state"])] = counts.get(str(item["state"]), 0) + 1
        return counts


def main() -> int:
    started = time.monotonic()
    os.environ["BCSYNC_WEBHOOK_DEBOUNCE_SECONDS"] = str(DEBOUNCE_SECONDS)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    # The webhook receiver answers on the local HTTP API's thread: its metric lines would land in the summary.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    with Sandbox() as sandbox, LocalDeployment() as stack, stack.environ() as env:
        os.environ["BIGCOMMERCE_API_URL"] = sandbox.url
        store = sandbox.add_store(STORE, token=DEMO_TOKEN)
        seed_catalog(store, products=200, variants_per_product=2)
        seed_orders(store, orders=40)
        print(f"BigCommerce sandbox on {sandbox.url}; AWS (moto) on {stack.endpoint}")
        print(f"Stack: {len(stack.created)} resources from template.yaml ({len(stack.not_emulated)} not emulated)")
        demo = Demo(stack, sandbox, store)
        problems = demo.problems

        out = io.StringIO()
        if bcsync_cli(["stores", "connect", STORE], stdin=io.StringIO(DEMO_TOKEN), out=out) != 0:
            print("demo failed: bcsync stores connect did not connect the demo store", file=sys.stderr)
            return 1
        print(f"$ bcsync stores connect {STORE}   (token on stdin)")
        print("  " + out.getvalue().strip().replace("\n", "\n  "))

        # 1. Product sync: the catalog becomes the warehouse's SKU master.
        demo.run("ProductSyncFunction", {"action": "tick", "mode": "full"}, "ProductSyncJobs")
        demo.warehouse.receive(stack)
        sync_calls = demo.calls("ProductSyncFunction", lambda module: module.FUNCTION.calls)
        sync_floor = math.ceil(len(store.products) / 250) + 3
        skus = len(demo.warehouse.skus)
        demo.check(skus > 0, "product sync sent no SKU")
        print(
            f"1. Product sync: {skus} SKUs sent to the warehouse; {sync_calls} BigCommerce calls (floor {sync_floor})"
        )

        # 2. Orders by schedule: the backlog of paid orders.
        demo.run("OrderImportFunction", {"action": "tick"}, "OrderImportJobs")
        demo.warehouse.receive(stack)
        by_schedule = len(demo.warehouse.orders)
        demo.check(by_schedule > 0, "the scheduled order import released no order")
        print(f"2. Order import (schedule tick): {by_schedule} paid orders released to the warehouse")

        # 3. Orders by webhook: BigCommerce tells bcsync, which imports them within seconds.
        sellable = [(p, v) for p in store.products.values() for v in p["variants"] if p["is_visible"] and v["sku"]]
        for n in range(8):
            add_order(store, lines=[(*sellable[(7 * n + k) % len(sellable)], 1 + k) for k in range(1 + n % 3)])
        delivered = store.webhooks.fire(verify=env["BCSYNC_LOCAL_CA_BUNDLE"])
        demo.run("OrderImportFunction", None, "OrderImportJobs", wait=DEBOUNCE_SECONDS + 0.3)
        demo.warehouse.receive(stack)
        by_webhook = len(demo.warehouse.orders) - by_schedule
        demo.check(by_webhook == 8, f"8 orders placed, {by_webhook} came in by webhook")
        print(f"3. Order import (webhooks): {len(delivered)} deliveries answered "
              f"{sorted({d.status for d in delivered})} → {by_webhook} more orders released")  # fmt: skip

        # 4. An operator sets a hold window: new orders wait 30 minutes before the warehouse sees them.
        out = io.StringIO()
        bcsync_cli(["stores", "configure", STORE, "--set", "hold_minutes=30"], out=out)
        print(f"$ bcsync stores configure {STORE} --set hold_minutes=30\n  {out.getvalue().strip()}")
        for n in range(3):
            add_order(store, lines=[(*sellable[n], 2)])
        store.webhooks.fire(verify=env["BCSYNC_LOCAL_CA_BUNDLE"])
        demo.run("OrderImportFunction", None, "OrderImportJobs", wait=DEBOUNCE_SECONDS + 0.3)
        demo.warehouse.receive(stack)
        records = demo.order_records()
        demo.check(records.get("held", 0) == 3, f"3 orders placed in the hold window, {records.get('held', 0)} held")
        import_calls = demo.calls("OrderImportFunction", lambda module: module.FUNCTION.calls)
        print(f"4. Orders now: {records.get('released', 0)} released, {records.get('held', 0)} held, "
              f"{records.get('skipped', 0)} skipped (digital-only, unreadable, before release); "
              f"order import made {import_calls} BigCommerce calls in 3 runs (floor: 1 a run)")  # fmt: skip

        # 5. The warehouse acknowledges, ships and counts its stock.
        shipments = demo.warehouse.ship_all()
        demo.send("ShipmentsInbound", demo.warehouse.acknowledgements() + shipments)
        demo.send("StockInbound", [demo.warehouse.stock(stack.clock.now())])
        packages = [s for s in shipments if not s["pickup"]]
        two_package_orders = len({s["order_id"] for s in packages if s["warehouse_shipment_id"].endswith("B")})
        print(f"5. Warehouse: {len(demo.warehouse.orders)} orders acknowledged, {len(packages)} packages shipped "
              f"({two_package_orders} orders in two), stock of {skus} SKUs reported")  # fmt: skip

        # 6. Tracking writeback: one BigCommerce shipment per package, exactly once.
        demo.run("TrackingWritebackFunction", None, "ShipmentsInbound")
        written = sum(len(rows) for rows in store.shipments.values())
        writeback_calls = demo.calls("TrackingWritebackFunction", lambda module: module.FUNCTION.calls)
        pickups = len(shipments) - len(packages)
        demo.check(written == len(packages), f"{len(packages)} packages shipped, {written} BigCommerce shipments")
        statuses = [store.orders[order_id]["status_id"] for order_id in demo.warehouse.shipped]
        floor = len(packages) + pickups
        print(f"6. Tracking writeback: {written} BigCommerce shipments with tracking numbers, {pickups} pickup "
              f"ready; {statuses.count(2)} orders Shipped; {writeback_calls} calls (floor {floor})")  # fmt: skip

        # 7. Inventory push: BigCommerce shows what the warehouse can sell, less what it sold meanwhile.
        demo.run("InventoryPushFunction", None, "StockInbound")
        demo.run("InventoryPushFunction", None, "InventoryPushJobs", wait=DEBOUNCE_SECONDS + 0.3)
        pushed = demo.run_figure("inventory_push", "items_pushed")
        push_calls = demo.calls("InventoryPushFunction", lambda module: module.FUNCTION.calls)
        held_away = demo.run_figure("inventory_push", "skus_with_problems")
        demo.check(pushed > 0, "the inventory push pushed nothing")
        print(f"7. Inventory push: {pushed} items set in {push_calls} BigCommerce calls "
              f"(floor {math.ceil(max(pushed, 1) / 2000)}); {held_away} SKUs reported, not pushed")  # fmt: skip

        shipment_by_hand_comes_back(demo, env, debounce_seconds=DEBOUNCE_SECONDS)  # 8. read back

        dead = _dead_letters(stack)
        demo.check(not dead, f"messages dead-lettered: {dead}")
        demo.check(demo.warehouse.duplicates == 0, f"{demo.warehouse.duplicates} events delivered twice")
        out = io.StringIO()
        bcsync_cli(["status", STORE], out=out)
        jobs = [line for line in out.getvalue().splitlines() if not line.lstrip().startswith("!")]
        print(f"$ bcsync status {STORE}   (problems left out)\n  " + "\n  ".join(jobs))
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    verdict = "every stage did its work" if not problems else f"{len(problems)} stage(s) did not do their work"
    print(f"Done in {time.monotonic() - started:.1f} s: {verdict}; every server it started is stopped.")
    return 1 if problems else 0


def _dead_letters(stack: LocalDeployment) -> dict[str, str]:
    sqs, found = stack.client("sqs"), {}
    for logical, spec in stack.physical.items():
        if logical.endswith("DLQ") and "QueueUrl" in spec:
            depth = sqs.get_queue_attributes(QueueUrl=spec["QueueUrl"], AttributeNames=["ApproximateNumberOfMessages"])
            if depth["Attributes"]["ApproximateNumberOfMessages"] != "0":
                found[logical] = depth["Attributes"]["ApproximateNumberOfMessages"]
    return found


if __name__ == "__main__":
    sys.exit(main())
