"""Returns as deployed: ReturnsInbound → the real handler → the sandbox's staff notes and payment actions."""

from __future__ import annotations

import io
import json
from typing import Any

from bcsync.backbone import cutpoints
from bcsync.cli import main as bcsync_cli
from bcsync.orders.state import OrderState
from bcsync.store.problems import ProblemLog
from bigcommerce_sandbox import Fault, Sandbox, SandboxStore, add_order
from bigcommerce_sandbox.payments import refunds_of
from local_runtime import LocalDeployment
from tests.aws import drain, reason_of
from tests.stores import calls_since, connected_store, mark

World = tuple[LocalDeployment, Sandbox]
STORE = "ret111"
PARTIALLY_REFUNDED, SHIPPED = 14, 2
REFUNDS_ON = {"refunds_enabled": True, "refund_lines": "resellable", "refund_limit_per_order": "100"}


def _shipped_orders(world: World, store: SandboxStore, *orders: list[int]) -> list[tuple[int, list[int]]]:
    """Orders bcsync sent to the warehouse (one run of the real order import), then shipped whole in BigCommerce."""
    stack, _ = world
    sellable = [(p, v) for p in store.products.values() for v in p["variants"] if p["is_visible"]]
    ids = [add_order(store, lines=[(*sellable[n], q) for n, q in enumerate(quantities)]) for quantities in orders]
    importer = stack.load_handler("OrderImportFunction")
    stack.clock.advance(300)  # type: ignore[attr-defined]  # the store's 5-minute scan interval passes
    importer({"action": "tick"}, stack.context("OrderImportFunction"))
    stack.deliver_sqs("OrderImportJobs", importer)
    drain(stack, "WarehouseOutbound")
    records = OrderState(stack.resource("dynamodb").Table(stack.outputs()["StateTableName"]), store.store_hash)
    shipped = []
    for order_id in ids:
        lines = store.order_products[order_id]
        items = [{"order_product_id": line["id"], "quantity": line["quantity"]} for line in lines]
        # What the tracking writeback leaves: the shipment in BigCommerce and on bcsync's order record.
        address = store.shipping_addresses[order_id][0]["id"]
        store.record_shipment(order_id, {"order_address_id": address, "items": items})
        records.record_shipment(
            order_id, f"WH-{order_id}", {item["order_product_id"]: item["quantity"] for item in items}
        )
        shipped.append((order_id, [line["id"] for line in lines]))
    return shipped


def _return(order_id: int, return_id: str, lines: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {"type": "Return Received", "schema_version": 1, "store_hash": STORE, "order_id": order_id,
            "warehouse_return_id": return_id, "lines": lines, **fields}  # fmt: skip


def _send(world: World, *messages: dict[str, Any], **delivery: Any) -> Any:
    stack, _ = world
    sqs, url = stack.client("sqs"), stack.physical["ReturnsInbound"]["Ref"]
    for message in messages:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))
    return stack.deliver_sqs("ReturnsInbound", stack.load_handler("ReturnsFunction"), **delivery)


def _events(stack: LocalDeployment) -> list[tuple[str, dict[str, Any]]]:
    return [(event["detail-type"], event["detail"]["data"]) for event in drain(stack, "WarehouseOutbound")]


def test_each_return_is_noted_once_and_refunded_once_under_duplicates_lost_answers_and_cuts(
    local_world: World,
) -> None:
    stack, sandbox = local_world
    store = connected_store(local_world, STORE, f"tok-{STORE}-rt", products=4, **REFUNDS_ON)
    (lost, (a, b)), (cut_before, (c,)), (cut_after, (d,)) = _shipped_orders(local_world, store, [2, 1], [1], [1])
    sandbox.faults[STORE].queue(Fault.SERVER_500, path=r"/payment_actions/refund_quotes$", method="POST")
    sandbox.faults[STORE].queue(Fault.DROP_AFTER, path=r"/payment_actions/refunds$", method="POST")
    before = mark(sandbox)
    message = _return(lost, "RMA-1", [
        {"order_product_id": a, "quantity": 1, "condition": "resellable"},
        {"order_product_id": b, "quantity": 1, "condition": "damaged", "notes": "torn box"},
    ], notes="customer changed their mind")  # fmt: skip

    report = _send(local_world, message, message)  # the warehouse sent it twice; the refund's answer is lost
    for point, order_id, line, rid in ((cutpoints.BEFORE_REFUND_POST, cut_before, c, "RMA-2"),
                                       (cutpoints.AFTER_REFUND_POST, cut_after, d, "RMA-3")):  # fmt: skip
        with stack.cut_at(point) as hits:
            cut = _send(local_world, _return(order_id, rid, [{"order_product_id": line, "quantity": 1,
                                                                "condition": "resellable"}]))  # fmt: skip
        assert hits == [point] and cut.cut == 1 and cut.delivered == 1

    assert report.delivered == 2 and report.failed == 1  # the lost answer failed once; the retry found the refund
    (refund,) = refunds_of(store)[lost]
    assert refund["total_amount"] == 19.99 and [(i["item_id"], i["quantity"]) for i in refund["items"]] == [(a, 1)]
    assert [len(refunds_of(store)[order_id]) for order_id in (cut_before, cut_after)] == [1, 1]
    notes = store.orders[lost]["staff_notes"]
    assert notes.count("[bcsync return RMA-1]") == 1 and "(damaged: torn box)" in notes
    assert store.orders[lost]["status_id"] == PARTIALLY_REFUNDED  # BigCommerce's own move on a refund
    calls = calls_since(sandbox, STORE, before)
    assert calls.count(f"POST /v3/orders/{lost}/payment_actions/refunds") == 1
    assert calls.count(f"GET /v3/orders/{lost}/payment_actions/refunds") == 1  # only after the lost answer
    assert calls.count(f"POST /v3/orders/{lost}/payment_actions/refund_quotes") == 2  # a quote writes nothing: retried
    assert not any("inventory" in call for call in calls)  # resellable units come back with the next Stock Level
    events = [(kind, data["warehouse_return_id"], data) for kind, data in _events(stack)]
    assert sorted((kind, rid) for kind, rid, _ in events) == [
        ("Refund Issued", "RMA-1"), ("Refund Issued", "RMA-2"), ("Refund Issued", "RMA-3"),
        ("Return Recorded", "RMA-1"), ("Return Recorded", "RMA-2"), ("Return Recorded", "RMA-3"),
    ]  # fmt: skip
    assert {data["amount"] for kind, _, data in events if kind == "Refund Issued"} == {"19.99"}

    out = io.StringIO()
    assert bcsync_cli(["status", STORE], out=out) == 0
    assert (
        "returns: 3 recorded, 3 refunded (59.97); refunds on (resellable lines, up to 100 an order)" in out.getvalue()
    )


def test_refunds_are_off_by_default_and_bad_returns_are_dead_lettered_with_their_reason(local_world: World) -> None:
    stack, sandbox = local_world
    store = connected_store(local_world, STORE, f"tok-{STORE}-rt", products=4)
    (noted, (a, b)), (refused, (c,)), (late, (e,)) = _shipped_orders(local_world, store, [1, 1], [1], [1])
    line = {"quantity": 1, "condition": "resellable"}
    before = mark(sandbox)

    _send(local_world, _return(noted, "RMA-N", [{**line, "sku": store.order_products[noted][0]["sku"]}]))

    assert calls_since(sandbox, STORE, before) == [
        f"GET /v2/orders/{noted}/products", f"GET /v2/orders/{noted}", f"PUT /v2/orders/{noted}",
    ]  # fmt: skip
    assert "[bcsync return RMA-N] returned to the warehouse: 1 x" in store.orders[noted]["staff_notes"]
    assert store.orders[noted]["status_id"] == SHIPPED and refunds_of(store).get(noted) is None
    ((kind, data),) = _events(stack)
    assert (kind, data["refunded"], data["no_refund_reason"]) == ("Return Recorded", False,
                                                                  "refunds are off for this store")  # fmt: skip

    # The next scan reads the order (its notes changed): bcsync's own note is no change for the warehouse.
    importer = stack.load_handler("OrderImportFunction")
    stack.clock.advance(300)  # type: ignore[attr-defined]
    importer({"action": "tick"}, stack.context("OrderImportFunction"))
    stack.deliver_sqs("OrderImportJobs", importer)
    assert _events(stack) == []

    table = stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])
    bcsync_cli(["stores", "configure", STORE, "--set", "refunds_enabled=true"], out=io.StringIO())
    store.order_products[refused][0]["quantity_refunded"] = 1  # refunded by hand: BigCommerce refuses it again
    bad = [
        _return(noted, "RMA-B1", [{**line, "order_product_id": b, "quantity": 2}]),
        _return(noted, "RMA-B2", [{**line, "order_product_id": 999}]),
        _return(noted, "RMA-B3", [{**line, "order_product_id": a}], store_hash="ret222"),
        _return(refused, "RMA-B4", [{**line, "order_product_id": c}]),
        _return(noted, "RMA-B5", [{**line, "order_product_id": a}]),  # a was returned already (RMA-N)
    ]
    report = _send(local_world, *bad)

    assert report.failed == 0 and report.delivered == 5
    dead = stack.take_messages("ReturnsInboundDLQ")
    reasons = {json.loads(m["Body"])["warehouse_return_id"]: reason_of(m) for m in dead}
    assert "2 returned, but 1 shipped" in reasons["RMA-B1"]
    assert "line 999 is not on order" in reasons["RMA-B2"]
    assert "store ret222 is not connected" in reasons["RMA-B3"]
    assert "no refund was made" in reasons["RMA-B4"] and "left to refund" in reasons["RMA-B4"]
    assert "1 shipped and 1 returned before" in reasons["RMA-B5"]
    assert refunds_of(store) == {}
    kinds = {(p["kind"], p["subject"]) for p in ProblemLog(table, STORE).list()}
    assert {("return_refused", "RMA-B1"), ("return_refused", "RMA-B2"), ("refund_refused", "RMA-B4")} <= kinds

    # A refund made, its answer lost with the invocation; refunds turned off before the message comes back: the
    # redelivery still finds the refund BigCommerce made, and says so.
    drain(stack, "WarehouseOutbound")
    with stack.cut_at(cutpoints.AFTER_REFUND_POST):
        _send(local_world, _return(late, "RMA-L", [{**line, "order_product_id": e}]), max_invocations=1)
    bcsync_cli(["stores", "configure", STORE, "--set", "refunds_enabled=false"], out=io.StringIO())
    _send(local_world)

    assert len(refunds_of(store)[late]) == 1 and stack.take_messages("ReturnsInboundDLQ") == []
    assert sorted(kind for kind, _ in _events(stack)) == ["Refund Issued", "Return Recorded"]


def test_a_return_for_a_disabled_store_is_kept_with_the_reason_to_redrive_not_dropped(local_world: World) -> None:
    stack, _ = local_world
    connected_store(local_world, "ret222", "tok-ret222-rt", products=2)
    assert bcsync_cli(["stores", "disable", "ret222"], out=io.StringIO()) == 0
    message = {**_return(1001, "RMA-OFF", [{"sku": "SKU-1", "quantity": 1, "condition": "resellable"}]),
               "store_hash": "ret222"}  # fmt: skip

    _send(local_world, message)

    (dead,) = stack.take_messages("ReturnsInboundDLQ")
    assert "store ret222 is disabled" in reason_of(dead) and "redrive" in reason_of(dead)
