"""`make bench`'s read back: BigCommerce calls per shipment read back, against its floor of one list per order
with news.

1,000 imported orders (at BENCH_SCALE=1). bcsync writes back a shipment for a fifth of them; a merchant ships
another fifth by hand, with webhooks: each `store/shipment/created` notes its order, and one list per order
follows. Then, without webhooks (their hooks deleted), a merchant ships another fifth and the scheduled scan
finds them: order pages, and one list per order whose shipped units are news - bcsync's own cost none.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import harness  # type: ignore[import-not-found]  # bench/harness.py: this script's folder is on sys.path


def bench_readback() -> dict[str, Any]:
    from bigcommerce_sandbox import add_order, seed_catalog
    from bigcommerce_sandbox.readback import merchant_ship

    orders = max(int(1_000 * harness.SCALE), 20)
    fifth = orders // 5
    with harness.bench_store("bench07", webhooks=True) as (clock, stack, sandbox, store, env):
        seed_catalog(store, products=20, variants_per_product=2)
        sellable = harness.sellable_of(store)
        order_ids = [
            add_order(store, lines=[(*sellable[n % len(sellable)], 1), (*sellable[(n + 1) % len(sellable)], 2)],
                      at=clock.now() - orders + n)
            for n in range(orders)
        ]  # fmt: skip
        warehouse = harness.Warehouse(stack)
        warehouse.start()
        harness.run_job(stack, "OrderImportFunction", "OrderImportJobs", {"action": "tick"})
        store.webhooks.pending.clear()
        sqs, url = stack.client("sqs"), stack.physical["ShipmentsInbound"]["Ref"]
        writeback = stack.load_handler("TrackingWritebackFunction")
        with contextlib.redirect_stdout(io.StringIO()):  # at a warehouse's pace, as the writeback's bench
            for order_id in order_ids[:fifth]:
                body = harness.shipment_message("bench07", order_id, store.order_products[order_id])
                sqs.send_message(QueueUrl=url, MessageBody=body)
                stack.deliver_sqs("ShipmentsInbound", writeback, max_invocations=100)
                clock.advance(2.0)
        written = sum(1 for order_id in order_ids[:fifth] if store.shipments.get(order_id))
        if written != fifth:
            raise SystemExit(f"bench: the writeback made {written} of {fifth} shipments")
        warehouse.counted()
        warehouse = harness.Warehouse(stack)
        readback = stack.load_handler("ReadbackFunction")
        exchanges: list[Any] = []
        sandbox.observers.append(exchanges.append)

        def lists(since: int) -> int:
            return sum(1 for e in exchanges[since:] if e.method == "GET" and e.api_path.endswith("/shipments"))

        # With webhooks: a merchant ships a fifth by hand; bcsync's own shipments fired theirs too.
        for order_id in order_ids[fifth : 2 * fifth]:
            merchant_ship(store, order_id)
        before = len(exchanges)
        with contextlib.redirect_stdout(io.StringIO()):
            deliveries = store.webhooks.fire(verify=env["BCSYNC_LOCAL_CA_BUNDLE"])
        clock.advance(10)
        _until_done(stack, clock, readback)
        webhook_calls, webhook_lists = len(exchanges) - before, lists(before)
        webhook_events = warehouse.counted()
        # Without webhooks: the scan finds the next fifth.
        store.hooks.clear()
        for order_id in order_ids[2 * fifth : 3 * fifth]:
            merchant_ship(store, order_id)
        before = len(exchanges)
        warehouse = harness.Warehouse(stack)
        clock.advance(300)
        with contextlib.redirect_stdout(io.StringIO()):
            readback({"action": "tick"}, stack.context("ReadbackFunction"))
        _until_done(stack, clock, readback)
        scan_calls, scan_lists = len(exchanges) - before, lists(before)
        scan_events = warehouse.counted()
        before = len(exchanges)
        clock.advance(300)
        with contextlib.redirect_stdout(io.StringIO()):
            readback({"action": "tick"}, stack.context("ReadbackFunction"))
        _until_done(stack, clock, readback)
        rescan_lists = lists(before)
        rescan_events = harness.Warehouse(stack).counted()
    news = 2 * fifth  # orders a webhook named: the merchant's, and bcsync's own (it cannot tell them apart)
    return {
        "orders": orders,
        "shipments_by_bcsync": fifth,
        "webhook_deliveries": len(deliveries),
        "by_hand_with_webhooks": fifth,
        "orders_with_news_by_webhook": news,
        "calls_with_webhooks": webhook_calls,
        "calls_per_order_with_news": round(webhook_calls / news, 3),
        "calls_per_shipment_read_back_with_webhooks": round(webhook_calls / fifth, 3),
        "events_with_webhooks": webhook_events[1],
        "by_hand_found_by_scan": fifth,
        "calls_of_scan": scan_calls,
        "lists_of_scan": scan_lists,
        "order_pages_of_scan": scan_calls - scan_lists,
        "calls_per_shipment_read_back_by_scan": round(scan_calls / fifth, 3),
        "events_by_scan": scan_events[1],
        "lists_when_scanned_again": rescan_lists,
        "events_when_scanned_again": rescan_events[0],
        "floor_per_order_with_news": 1,  # one list
        "ok": webhook_lists == news
        and webhook_calls == news
        and webhook_events[1] == fifth
        and scan_lists == fifth  # the scan lists no order only bcsync shipped
        and scan_events[1] == fifth
        and rescan_lists == 0
        and rescan_events[0] == 0,
    }


def _until_done(stack: Any, clock: Any, handler: Any) -> None:
    """ReadbackJobs delivered until empty: a run that spent the store's budget continues in a message delayed
    until its window resets (the runner's continuation), so the clock moves on between deliveries."""
    sqs, url = stack.client("sqs"), stack.physical["ReadbackJobs"]["Ref"]
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesDelayed",
        "ApproximateNumberOfMessagesNotVisible",
    ]
    for _ in range(1_000):
        with contextlib.redirect_stdout(io.StringIO()):
            report = stack.deliver_sqs("ReadbackJobs", handler, max_invocations=10_000)
        if report.failed or report.errors:
            raise SystemExit(f"bench: read back failed: {report}")
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        if not any(int(attributes[name]) for name in names):
            return
        clock.advance(31)
    raise SystemExit("bench: read back never finished")


def row(result: dict[str, Any]) -> tuple[str, Any, Any, str]:
    """Its line of `make bench`'s table."""
    return (
        f"calls per shipment read back, per order with news ({result['orders_with_news_by_webhook']:,})",
        result["calls_per_order_with_news"],
        result["floor_per_order_with_news"],
        f"= 1; scan: {result['lists_of_scan']} lists + {result['order_pages_of_scan']} pages",
    )


if __name__ == "__main__":
    print(json.dumps(bench_readback()))
