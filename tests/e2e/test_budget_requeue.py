"""A store with no API budget left, as deployed: the warehouse's message goes back onto its queue until the rate
window resets - never a failed record creeping towards the DLQ - and then makes exactly one order, one refund."""

from __future__ import annotations

import json
import math
from typing import Any

from bcsync.orders.state import OrderState
from bcsync.store.jobs import JobState
from bigcommerce_sandbox import Fault, Sandbox, SandboxStore, add_order
from bigcommerce_sandbox.payments import refunds_of
from local_runtime import LocalDeployment
from tests.aws import drain
from tests.stores import calls_since, connected_store, mark

World = tuple[LocalDeployment, Sandbox]
SOURCE, SALES = "bud111", "bud222"
ADDRESS = {"first_name": "Ada", "last_name": "Lovelace", "street_1": "12 Analytical Row", "city": "Austin",
           "state": "TX", "zip": "78751", "country_iso2": "US", "phone": "555-0199"}  # fmt: skip


def _send(world: World, queue: str, function: str, *messages: dict[str, Any]) -> Any:
    stack, _ = world
    sqs, url = stack.client("sqs"), stack.physical[queue]["Ref"]
    for message in messages:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))
    return stack.deliver_sqs(queue, stack.load_handler(function))


def _delayed(stack: LocalDeployment, queue: str) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.physical[queue]["Ref"], AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessagesDelayed"])


def _new_window(stack: LocalDeployment, store: SandboxStore) -> None:
    """The last window is over: the next request opens a full one (30 s to its reset)."""
    stack.clock.advance(store.window_ms / 1000)  # type: ignore[attr-defined]


def test_a_fulfillment_request_whose_store_has_no_budget_is_requeued_then_makes_one_order(local_world: World) -> None:
    stack, sandbox = local_world
    store = connected_store(local_world, SOURCE, f"tok-{SOURCE}-bq", products=2, role="source")
    sync = stack.load_handler("ProductSyncFunction")  # the catalog index: the SKU needs no call of its own
    sync({"action": "tick"}, stack.context("ProductSyncFunction"))
    stack.deliver_sqs("ProductSyncJobs", sync)
    drain(stack, "WarehouseOutbound")
    sku = next(v["sku"] for p in store.products.values() if p["is_visible"] for v in p["variants"] if v.get("sku"))
    request = {
        "type": "Fulfillment Request", "schema_version": 1, "store_hash": SOURCE, "request_id": "REQ-BUDGET",
        "lines": [{"sku": sku, "quantity": 1, "price": "12.50"}], "ship_to": ADDRESS, "bill_to": ADDRESS,
        "email": "ada@example.com", "carrier": "UPS", "ship_method": "Ground",
    }  # fmt: skip
    _new_window(stack, store)
    store.rate.consume_elsewhere(store.quota)  # the store's other apps spent the whole window

    first = _send(local_world, "FulfillmentRequestsInbound", "FulfilmentFunction", request)

    assert (first.delivered, first.failed) == (1, 0), "not a failure: nothing creeps towards the DLQ"
    assert _delayed(stack, "FulfillmentRequestsInbound") == 1, "sent again, delayed until the window resets"
    assert [o for o in store.orders.values() if o.get("external_order_id")] == []
    assert _send(local_world, "FulfillmentRequestsInbound", "FulfilmentFunction").delivered == 0, "not before"

    _new_window(stack, store)
    before = mark(sandbox)
    again = _send(local_world, "FulfillmentRequestsInbound", "FulfilmentFunction")

    assert (again.delivered, again.failed) == (1, 0)
    (order,) = [o for o in store.orders.values() if o.get("external_order_id") == "REQ-BUDGET"]
    # Its intent was recorded before the 429: the copy looks for the order before it creates one.
    assert calls_since(sandbox, SOURCE, before) == ["GET /v2/orders", "POST /v2/orders"]
    answers = [(e["detail-type"], e["detail"]["data"]) for e in drain(stack, "WarehouseOutbound")]
    assert [(kind, data["order_id"]) for kind, data in answers] == [("Fulfillment Request Accepted", order["id"])]
    assert drain(stack, "FulfillmentRequestsInboundDLQ") == []


def test_a_return_whose_refund_meets_a_spent_window_is_requeued_then_refunded_once(local_world: World) -> None:
    stack, sandbox = local_world
    store = connected_store(local_world, SALES, f"tok-{SALES}-bq", products=2, refunds_enabled=True)
    product = next(p for p in store.products.values() if p["is_visible"])
    order_id = add_order(store, lines=[(product, product["variants"][0], 1)])
    importer = stack.load_handler("OrderImportFunction")
    stack.clock.advance(300)  # type: ignore[attr-defined]  # the store's 5-minute scan interval passes
    importer({"action": "tick"}, stack.context("OrderImportFunction"))
    stack.deliver_sqs("OrderImportJobs", importer)
    drain(stack, "WarehouseOutbound")
    (line,) = store.order_products[order_id]
    items = [{"order_product_id": line["id"], "quantity": 1}]
    store.record_shipment(order_id, {"order_address_id": store.shipping_addresses[order_id][0]["id"], "items": items})
    orders = OrderState(stack.resource("dynamodb").Table(stack.outputs()["StateTableName"]), SALES)
    orders.record_shipment(order_id, "WH-BUDGET", {line["id"]: 1})
    message = {"type": "Return Received", "schema_version": 1, "store_hash": SALES, "order_id": order_id,
               "warehouse_return_id": "RMA-BUDGET",
               "lines": [{"order_product_id": line["id"], "quantity": 1, "condition": "resellable"}]}  # fmt: skip
    _new_window(stack, store)
    # The store's other apps spend the window between bcsync's quote and its refund: BigCommerce answers the
    # refund's POST with a 429 and the window's reset (30 s), and nothing is refunded.
    sandbox.faults[SALES].queue(Fault.RATE_LIMIT, path=r"/payment_actions/refunds$", method="POST")

    first = _send(local_world, "ReturnsInbound", "ReturnsFunction", message)

    assert (first.delivered, first.failed) == (1, 0), "not a failure: nothing creeps towards the DLQ"
    assert _delayed(stack, "ReturnsInbound") == 1, "sent again, delayed until the window resets"
    assert refunds_of(store).get(order_id) is None
    assert _send(local_world, "ReturnsInbound", "ReturnsFunction").delivered == 0, "not before the reset"

    _new_window(stack, store)
    before = mark(sandbox)
    again = _send(local_world, "ReturnsInbound", "ReturnsFunction")

    assert (again.delivered, again.failed) == (1, 0)
    assert len(refunds_of(store)[order_id]) == 1
    assert store.orders[order_id]["staff_notes"].count("[bcsync return RMA-BUDGET]") == 1
    calls = calls_since(sandbox, SALES, before)
    refunds = f"/v3/orders/{order_id}/payment_actions/refunds"
    # The intent said "refunding": the copy lists the order's refunds for its marker before it posts again.
    assert calls.index(f"GET {refunds}") < calls.index(f"POST {refunds}") and calls.count(f"POST {refunds}") == 1
    kinds = sorted(e["detail-type"] for e in drain(stack, "WarehouseOutbound"))
    assert kinds == ["Refund Issued", "Return Recorded"]
    assert drain(stack, "ReturnsInboundDLQ") == []


def test_an_order_scan_paused_for_the_budget_resumes_after_what_it_read(local_world: World) -> None:
    stack, _ = local_world
    store = connected_store(local_world, "bud333", "tok-bud333-bq", products=1, order_page_size=5)
    product = next(p for p in store.products.values() if p["is_visible"])
    start = stack.clock.now()
    ids = [add_order(store, lines=[(product, product["variants"][0], 1)], at=start - 60 + n) for n in range(12)]
    importer = stack.load_handler("OrderImportFunction")
    stack.clock.advance(300)  # type: ignore[attr-defined]  # the store's 5-minute scan interval passes
    _new_window(stack, store)
    # The other apps leave bcsync one call above the reserve it keeps for them: one page, then a pause.
    store.rate.consume_elsewhere(store.quota - math.ceil(store.quota * 0.5) - 1)
    importer({"action": "tick"}, stack.context("OrderImportFunction"))
    stack.deliver_sqs("OrderImportJobs", importer)
    table = stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])
    paused = JobState(table).last_run("bud333", "order_import")
    assert paused is not None and paused.outcome == "continued" and paused.figures["orders_seen"] == 5

    _new_window(stack, store)
    stack.deliver_sqs("OrderImportJobs", importer)

    resumed = JobState(table).last_run("bud333", "order_import")
    assert resumed is not None and resumed.outcome == "done"
    assert resumed.figures["orders_seen"] == 7, "the 7 orders after the pause, not the 5th again"
    ready = [e["detail"]["data"]["order_id"] for e in drain(stack, "WarehouseOutbound")]
    assert sorted(ready) == ids
