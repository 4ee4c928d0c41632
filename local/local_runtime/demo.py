"""`make demo`: the whole loop on this machine - moto on 127.0.0.1 and the BigCommerce sandbox.

No AWS account, no network. A demo store is connected through the CLI (webhooks included); product
sync sends its catalog to a simulated warehouse; orders arrive by schedule and by webhook; the
warehouse acknowledges, ships (one package or two) and reports stock; the tracking writeback and
the inventory push write back to BigCommerce. Orders held by a hold window are released when it ends
(the demo moves its clock on). It prints what each stage did in plain words, exits 1 if any stage
did not do what it should, and stops every server it started.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
import time
from typing import Any

from bcsync.cli import main as bcsync_cli
from bigcommerce_sandbox import Sandbox, add_order, seed_catalog, seed_orders

from .demo_kit import STORE, Demo, DemoClock
from .demo_readback import shipment_by_hand_comes_back
from .deployment import LocalDeployment
from .resources import NOT_EMULATED

DEMO_TOKEN = "demo-token-sandbox-only"  # noqa: S105 - valid on the local sandbox and nowhere else
DEBOUNCE_SECONDS = 1.0  # 15 s in a deployment; the rule is the same
HOLD_MINUTES = 30
# What `make demo` seeds; the demo's own test sets fewer (every stage the same, less to sync and check).
PRODUCTS = int(os.environ.get("BCSYNC_DEMO_PRODUCTS", "200"))


# What each resource kind the local runtime does not create is replaced by, for a reader new to it.
PLAYED_BY = {
    "AWS::Lambda::Function": "their handlers run in this process",
    "AWS::Lambda::EventSourceMapping": "this process reads each queue and calls its function, as Lambda would",
    "AWS::Lambda::LayerVersion": "the layers' code is imported from the repository",
    "AWS::Lambda::Permission": "nothing to permit: this process calls the handlers itself",
    "AWS::IAM::Role": "not enforced here; the tests hold every AWS call to the template's grants instead",
    "AWS::SQS::QueuePolicy": "not enforced here",
    "AWS::S3::BucketPolicy": "not enforced here",
    "AWS::ApiGatewayV2::Stage": "a local HTTPS server takes the webhook deliveries",
}


def stack_summary(stack: LocalDeployment) -> list[str]:
    """What of template.yaml runs here, and what is played by this process instead (and how), in plain words."""
    played: dict[str, int] = {}
    for logical in stack.not_emulated:
        kind = str(stack.template["Resources"][logical]["Type"])
        played[kind] = played.get(kind, 0) + 1
    lines = [
        f"Stack: template.yaml's {len(stack.created) + len(stack.not_emulated)} resources - {len(stack.created)} "
        f"created in the local AWS (queues, tables, the event bus, rules, secrets), {len(stack.not_emulated)} "
        "played by this process instead of created:"
    ]
    for kind, count in sorted(played.items()):
        lines.append(f"  {count} {kind.split('::', 1)[1]}: {PLAYED_BY.get(kind, NOT_EMULATED[kind])}")
    return lines


class WithoutMetricLines(io.TextIOBase):
    """The demo's stdout without CloudWatch metric lines: Powertools publishes a metric set that reaches 100
    values even with metrics disabled, and the webhook receiver answers on the local HTTP API's thread, where
    its output cannot be captured apart. In AWS those lines go to CloudWatch, not to a person."""

    def __init__(self, out: Any) -> None:
        self._out = out
        self._line = ""

    def write(self, text: str) -> int:
        self._line += text
        *lines, self._line = self._line.split("\n")
        for line in lines:
            if not line.startswith('{"_aws"'):
                self._out.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        self._out.flush()


def main() -> int:
    started = time.monotonic()
    os.environ["BCSYNC_WEBHOOK_DEBOUNCE_SECONDS"] = str(DEBOUNCE_SECONDS)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    # The webhook receiver answers on the local HTTP API's thread: its metric lines would land in the summary.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    sys.stdout = WithoutMetricLines(sys.stdout)
    clock = DemoClock()
    # One clock for both: when the demo moves it on, the store's API windows move on with it.
    with Sandbox(clock=clock) as sandbox, LocalDeployment(clock=clock) as stack, stack.environ() as env:
        os.environ["BIGCOMMERCE_API_URL"] = sandbox.url
        store = sandbox.add_store(STORE, token=DEMO_TOKEN)
        seed_catalog(store, products=PRODUCTS, variants_per_product=2)
        seed_orders(store, orders=40)
        print(f"BigCommerce sandbox on {sandbox.url}; AWS (moto) on {stack.endpoint}")
        print("\n".join(stack_summary(stack)))
        demo = Demo(stack, sandbox, store)
        problems = demo.problems

        out = io.StringIO()
        if bcsync_cli(["stores", "connect", STORE, "--token-stdin"], stdin=io.StringIO(DEMO_TOKEN), out=out) != 0:
            print("demo failed: bcsync stores connect did not connect the demo store", file=sys.stderr)
            return 1
        print(f"$ bcsync stores connect {STORE} --token-stdin   (the token on standard input)")
        print("  " + out.getvalue().strip().replace("\n", "\n  "))

        # 1. Product sync: the catalog becomes the warehouse's SKU master.
        demo.run("ProductSyncFunction", {"action": "tick", "mode": "full"}, "ProductSyncJobs")
        demo.warehouse.receive(stack)
        sync_calls = demo.calls("ProductSyncFunction", lambda module: module.FUNCTION.calls)
        sync_floor = math.ceil(len(store.products) / 250) + 3
        skus = len(demo.warehouse.skus)
        demo.check(skus > 0, "product sync sent no SKU")
        print(f"1. Product sync: {skus} SKUs sent to the warehouse in {sync_calls} BigCommerce calls "
              f"(the fewest that can read {len(store.products)} products: {sync_floor})")  # fmt: skip

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
        bcsync_cli(["stores", "configure", STORE, "--set", f"hold_minutes={HOLD_MINUTES}"], out=out)
        print(f"$ bcsync stores configure {STORE} --set hold_minutes={HOLD_MINUTES}   (new orders wait "
              f"{HOLD_MINUTES} minutes, time for the shopper to change them)\n  {out.getvalue().strip()}")  # fmt: skip
        for n in range(3):
            add_order(store, lines=[(*sellable[n], 2)])
        store.webhooks.fire(verify=env["BCSYNC_LOCAL_CA_BUNDLE"])
        demo.run("OrderImportFunction", None, "OrderImportJobs", wait=DEBOUNCE_SECONDS + 0.3)
        demo.warehouse.receive(stack)
        records = demo.order_records()
        demo.check(records.get("held", 0) == 3, f"3 orders placed in the hold window, {records.get('held', 0)} held")
        import_calls = demo.calls("OrderImportFunction", lambda module: module.FUNCTION.calls)
        skipped = demo.skipped()
        print(f"4. Orders now: {records.get('released', 0)} sent to the warehouse, {records.get('held', 0)} held "
              f"for {HOLD_MINUTES} minutes, {len(skipped)} not sent; order import made {import_calls} BigCommerce "
              "calls in 3 runs")  # fmt: skip
        for order_id, reason in skipped:
            print(f"   order {order_id} not sent: {reason}")

        # 4a. The consoles, while 3 orders are held: the merchant's, opened by the app's load callback through
        # the local HTTP API, and the operator's (`bcsync console`) on 127.0.0.1.
        # BCSYNC_DEMO_CONSOLE_SECONDS=600 keeps them open.
        merchant, operator = _consoles(stack, sandbox, demo)
        print(f"4a. Consoles: the merchant's shows {merchant} held orders to release now; the operator's lists "
              f"{operator} store(s) and the dead-letter queues")  # fmt: skip

        # 4b. The hold window ends: the held orders go out at the next run, from what was read (no call).
        sent_before = len(demo.warehouse.orders)
        clock.advance((HOLD_MINUTES + 1) * 60)
        demo.run("OrderImportFunction", {"action": "tick"}, "OrderImportJobs")
        demo.warehouse.receive(stack)
        released = len(demo.warehouse.orders) - sent_before
        still_held = demo.order_records().get("held", 0)
        demo.check(released == 3 and still_held == 0, f"3 orders held, {released} released, {still_held} still held")
        print(f"   {HOLD_MINUTES} minutes later (the demo moves its clock on): the {released} held orders sent to "
              f"the warehouse, {still_held} still held")  # fmt: skip

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
        # The store keeps half of each 30-second window of its API quota for its other apps: what did not fit
        # waits on the queue for the next window (sent again, delayed), and the demo moves its clock on to it.
        windows = 0
        while demo.delayed("ShipmentsInbound") and windows < 5:
            clock.advance(store.window_ms / 1000)
            demo.run("TrackingWritebackFunction", None, "ShipmentsInbound")
            windows += 1
        written = sum(len(rows) for rows in store.shipments.values())
        writeback_calls = demo.calls("TrackingWritebackFunction", lambda module: module.FUNCTION.calls)
        pickups = len(shipments) - len(packages)
        demo.check(written == len(packages), f"{len(packages)} packages shipped, {written} BigCommerce shipments")
        statuses = [store.orders[order_id]["status_id"] for order_id in demo.warehouse.shipped]
        floor = len(packages) + pickups
        print(f"6. Tracking writeback: {written} BigCommerce shipments with tracking numbers, {pickups} pickup "
              f"ready; {statuses.count(2)} orders Shipped; {writeback_calls} BigCommerce calls (for each of the "
              f"{floor} packages and pickups: the order read - cancelled meanwhile? - then written)")  # fmt: skip
        if windows:
            print(f"   {windows} more API window(s): the store's other apps keep half of each, so what did not fit "
                  "waited on the queue for the next one")  # fmt: skip

        # 7. Inventory push: BigCommerce shows what the warehouse can sell, less what it sold meanwhile.
        demo.run("InventoryPushFunction", None, "StockInbound")
        demo.run("InventoryPushFunction", None, "InventoryPushJobs", wait=DEBOUNCE_SECONDS + 0.3)
        pushed = demo.run_figure("inventory_push", "items_pushed")
        push_calls = demo.calls("InventoryPushFunction", lambda module: module.FUNCTION.calls)
        held_away = demo.run_figure("inventory_push", "skus_with_problems")
        demo.check(pushed > 0, "the inventory push pushed nothing")
        print(f"7. Inventory push: {pushed} stock levels set in {push_calls} BigCommerce calls (up to 2,000 a "
              f"call: {math.ceil(max(pushed, 1) / 2000)} needed); {held_away} SKUs the warehouse reported could "
              "not be pushed")  # fmt: skip

        # 8. The other direction: the store fulfils orders another channel sends it (a fulfillment request).
        clock.advance(store.window_ms / 1000)  # a fresh API window: the writeback may have spent the last one
        out = io.StringIO()
        bcsync_cli(["stores", "configure", STORE, "--set", "role=source"], out=out)
        print(f"$ bcsync stores configure {STORE} --set role=source\n  {out.getvalue().strip()}")
        address = {"first_name": "Ada", "last_name": "Lovelace", "street_1": "12 Analytical Row", "city": "Austin",
                   "state": "TX", "zip": "78751", "country_iso2": "US"}  # fmt: skip
        request = {"type": "Fulfillment Request", "store_hash": STORE, "request_id": "MKT-10045",
                   # made an hour ago: the store's 30-minute hold (step 4) has passed for it
                   "requested_at": _iso(stack.clock.now() - 3_600), "ship_to": address, "bill_to": address,
                   "lines": [{"sku": sellable[0][1]["sku"], "quantity": 2, "price": "12.50"}],
                   "carrier": "UPS", "ship_method": "Ground"}  # fmt: skip
        demo.send("FulfillmentRequestsInbound", [request, request])  # sent twice, as a retrying channel does
        demo.run("FulfilmentFunction", None, "FulfillmentRequestsInbound")
        made = [order for order in store.orders.values() if order.get("external_order_id") == "MKT-10045"]
        answers = [e for e in stack.take_messages("WarehouseOutbound") if "Fulfillment Request" in e["Body"]]
        fulfil_calls = demo.calls("FulfilmentFunction", lambda module: module.FUNCTION.calls)
        demo.check(len(made) == 1 and len(answers) == 1, f"1 request, {len(made)} orders, {len(answers)} answers")
        order_text = f"order {made[0]['id']} ({made[0]['status']})" if made else "no order"
        print(f"8. Fulfillment request MKT-10045 (sent twice) → BigCommerce {order_text}, answered once; "
              f"{fulfil_calls} BigCommerce calls (the fewest possible: the lookup by request id, "
              "the create)")  # fmt: skip

        shipment_by_hand_comes_back(demo, env, debounce_seconds=DEBOUNCE_SECONDS)  # 9. read back

        dead = _dead_letters(stack)
        demo.check(not dead, f"messages dead-lettered: {dead}")
        demo.check(demo.warehouse.duplicates == 0, f"{demo.warehouse.duplicates} events delivered twice")
        out = io.StringIO()
        bcsync_cli(["status", STORE], out=out)
        jobs = [line for line in out.getvalue().splitlines() if not line.lstrip().startswith("!")]
        print(f"$ bcsync status {STORE}   (problems left out; the lags count the {HOLD_MINUTES} minutes the demo "
              "skipped)\n  " + "\n  ".join(jobs))  # fmt: skip
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    verdict = "every stage did its work" if not problems else f"{len(problems)} stage(s) did not do their work"
    print(f"Done in {time.monotonic() - started:.1f} s: {verdict}; every server it started is stopped.")
    return 1 if problems else 0


DEMO_APP_SECRET = "demo-app-secret-sandbox-only-0123456789"  # noqa: S105 - the local sandbox's app alone


def _consoles(stack: LocalDeployment, sandbox: Sandbox, demo: Demo) -> tuple[int, int]:
    """Opens both consoles as a person would, and says where (they stay open BCSYNC_DEMO_CONSOLE_SECONDS)."""
    import argparse

    import requests

    from bcsync.cli.console import console_data
    from bcsync.console.local import OperatorConsole
    from bigcommerce_sandbox.app import register_app

    stack.client("secretsmanager").create_secret(
        Name=f"bcsync/{stack.stack_name}/app",
        SecretString=json.dumps({"client_id": "demo-app", "client_secret": DEMO_APP_SECRET}),
    )
    app = register_app(sandbox, client_id="demo-app", client_secret=DEMO_APP_SECRET,
                       redirect_uri=f"{stack.http_api.url}/app/auth")  # fmt: skip
    browser = requests.Session()
    browser.verify, browser.trust_env = str(stack.http_api.ca_path), False
    load = f"{stack.http_api.url}/app/load"
    opened = browser.get(load, params={"signed_payload_jwt": app.signed_payload(STORE, "load")}, timeout=30)
    demo.check(opened.status_code == 200, f"the merchant's console did not open: {opened.status_code}")
    held = browser.get(f"{stack.http_api.url}/console/stores/{STORE}/orders", timeout=30).text.count("Release now")
    demo.check(held == 3, f"the merchant's console shows {held} held orders, not 3")
    with OperatorConsole(console_data(argparse.Namespace(stack=None, state_table=None))) as console:
        operator = requests.Session()
        operator.trust_env = False
        stores = operator.get(console.login_url, timeout=30)
        demo.check(stores.status_code == 200 and STORE in stores.text, "the operator's console did not list the store")
        linger = float(os.environ.get("BCSYNC_DEMO_CONSOLE_SECONDS", "0") or 0)
        if linger > 0:
            print(f"   merchant: {load}?signed_payload_jwt={app.signed_payload(STORE, 'load')}")
            print(f"   (the local HTTP API's certificate is signed by {stack.http_api.ca_path})")
            print(f"   operator: {console.login_url}\n   open for {linger:.0f} s ...", flush=True)
            time.sleep(linger)
        return held, stores.text.count('id="store-')


def _iso(moment: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(moment, tz=UTC).isoformat()


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
