"""Tracking writeback as deployed: ShipmentsInbound → the real handler → the sandbox's shipments."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from bcsync.backbone import cutpoints
from bcsync.cli import main as bcsync_cli
from bigcommerce_sandbox import Fault, Sandbox, SandboxStore, add_order
from bigcommerce_sandbox.store import ORDER_STATUSES
from local_runtime import LocalDeployment
from tests.aws import drain, load_template, reason_of
from tests.stores import calls_since, connected_store, mark

World = tuple[LocalDeployment, Sandbox]
STORE = "trk111"
SHIPPED, PARTIALLY_SHIPPED, COMPLETED, AWAITING_PICKUP = 2, 3, 10, 8


def _world(world: World, **settings: Any) -> SandboxStore:
    return connected_store(world, STORE, f"tok-{STORE}-tw", products=6, **settings)


def _order(world: World, store: SandboxStore, quantities: list[int], **options: Any) -> int:
    """An order the warehouse has: created in the sandbox and imported by the real order import."""
    stack, _ = world
    sellable = [(p, v) for p in store.products.values() for v in p["variants"] if p["is_visible"]]
    order_id = add_order(store, lines=[(*sellable[n], q) for n, q in enumerate(quantities)], **options)
    importer = stack.load_handler("OrderImportFunction")
    stack.clock.advance(300)  # type: ignore[attr-defined]  # the store's 5-minute scan interval passes
    importer({"action": "tick"}, stack.context("OrderImportFunction"))
    stack.deliver_sqs("OrderImportJobs", importer)
    drain(stack, "WarehouseOutbound")
    return order_id


def _shipment(order_id: int, shipment_id: str, lines: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {
        "type": "Shipment Confirmed", "schema_version": 1, "store_hash": STORE, "order_id": order_id,
        "warehouse_shipment_id": shipment_id, "tracking_number": f"1Z{shipment_id}", "carrier": "UPS",
        "service": "Ground", "lines": lines, **fields,
    }  # fmt: skip


def _send(world: World, *messages: dict[str, Any], **delivery: Any) -> Any:
    stack, _ = world
    sqs, url = stack.client("sqs"), stack.physical["ShipmentsInbound"]["Ref"]
    for message in messages:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))
    return stack.deliver_sqs("ShipmentsInbound", stack.load_handler("TrackingWritebackFunction"), **delivery)


def _lines(store: SandboxStore, order_id: int) -> list[dict[str, Any]]:
    return store.order_products[order_id]


def _calls(sandbox: Sandbox, since: int) -> list[str]:
    return calls_since(sandbox, STORE, since)


_mark = mark


def test_three_lines_in_two_packages_are_two_shipments_and_the_order_ends_shipped(local_world: World) -> None:
    _, sandbox = local_world
    store = _world(local_world)
    order_id = _order(local_world, store, [1, 2, 1])
    a, b, c = (line["id"] for line in _lines(store, order_id))
    before = _mark(sandbox)

    report = _send(
        local_world,
        _shipment(order_id, "WH-1", [{"order_product_id": a, "quantity": 1}, {"order_product_id": b, "quantity": 2}]),
        _shipment(order_id, "WH-2", [{"order_product_id": c, "quantity": 1}], carrier="FedEx"),
    )

    assert report.failed == 0
    shipments = store.shipments[order_id]
    assert sorted(s["tracking_number"] for s in shipments) == ["1ZWH-1", "1ZWH-2"]
    assert sorted(s["tracking_carrier"] for s in shipments) == ["fedex", "ups"]
    assert all("[bcsync shipment WH-" in s["comments"] for s in shipments)
    assert store.orders[order_id]["status_id"] == SHIPPED
    # Two calls per shipment: the order read first (cancelled since bcsync last looked?), then the POST.
    assert _calls(sandbox, before) == [f"GET /v2/orders/{order_id}", f"POST /v2/orders/{order_id}/shipments"] * 2


def test_one_of_three_lines_leaves_the_order_partially_shipped(local_world: World) -> None:
    store = _world(local_world)
    order_id = _order(local_world, store, [1, 1, 1])
    first = _lines(store, order_id)[0]

    _send(local_world, _shipment(order_id, "WH-P", [{"sku": first["sku"], "quantity": 1}]))  # by SKU

    assert [s["items"][0]["order_product_id"] for s in store.shipments[order_id]] == [first["id"]]
    assert store.orders[order_id]["status_id"] == PARTIALLY_SHIPPED


def test_every_message_delivered_twice_still_makes_exactly_two_shipments(local_world: World) -> None:
    _, sandbox = local_world
    store = _world(local_world)
    order_id = _order(local_world, store, [1, 1])
    a, b = (line["id"] for line in _lines(store, order_id))
    before = _mark(sandbox)

    messages = [
        _shipment(order_id, "WH-A", [{"order_product_id": a, "quantity": 1}]),
        _shipment(order_id, "WH-B", [{"order_product_id": b, "quantity": 1}]),
    ]
    report = _send(local_world, *messages, *messages, reorder=True, seed=5)  # each one delivered twice

    assert report.delivered == 4 and report.failed == 0
    assert len(store.shipments[order_id]) == 2
    assert _calls(sandbox, before).count(f"POST /v2/orders/{order_id}/shipments") == 2


def test_a_connection_dropped_after_bigcommerce_created_the_shipment_still_leaves_exactly_one(
    local_world: World,
) -> None:
    _, sandbox = local_world
    store = _world(local_world)
    order_id = _order(local_world, store, [2])
    (line,) = _lines(store, order_id)
    sandbox.faults[STORE].queue(Fault.DROP_AFTER, path=r"/shipments$", method="POST")
    before = _mark(sandbox)

    report = _send(local_world, _shipment(order_id, "WH-D", [{"order_product_id": line["id"], "quantity": 2}]))

    assert report.failed == 1 and report.delivered == 1  # failed once, then the retry found it
    assert len(store.shipments[order_id]) == 1
    assert _calls(sandbox, before) == [
        f"GET /v2/orders/{order_id}",
        f"POST /v2/orders/{order_id}/shipments",  # created, answer lost
        f"GET /v2/orders/{order_id}/shipments",  # the retry looks for our marker first
    ]


@pytest.mark.parametrize("point", [cutpoints.BEFORE_SHIPMENT_POST, cutpoints.AFTER_SHIPMENT_POST])
def test_an_invocation_that_dies_around_the_post_never_doubles_the_shipment(local_world: World, point: str) -> None:
    stack, _ = local_world
    store = _world(local_world)
    order_id = _order(local_world, store, [1])
    (line,) = _lines(store, order_id)
    message = _shipment(order_id, "WH-C", [{"order_product_id": line["id"], "quantity": 1}])

    with stack.cut_at(point) as hits:
        report = _send(local_world, message)

    assert hits == [point] and report.cut == 1 and report.delivered == 1
    assert len(store.shipments[order_id]) == 1


def test_the_completed_option_costs_one_more_call_and_ends_completed(local_world: World) -> None:
    _, sandbox = local_world
    store = _world(local_world, complete_orders=True)
    order_id = _order(local_world, store, [1, 1])
    a, b = (line["id"] for line in _lines(store, order_id))

    _send(local_world, _shipment(order_id, "WH-1", [{"order_product_id": a, "quantity": 1}]))
    assert store.orders[order_id]["status_id"] == PARTIALLY_SHIPPED  # not complete yet: no extra call
    before = _mark(sandbox)
    _send(local_world, _shipment(order_id, "WH-2", [{"order_product_id": b, "quantity": 1}]))

    assert _calls(sandbox, before) == [
        f"GET /v2/orders/{order_id}",
        f"POST /v2/orders/{order_id}/shipments",
        f"PUT /v2/orders/{order_id}",
    ]
    assert store.orders[order_id]["status_id"] == COMPLETED


def test_an_unknown_carrier_goes_without_one_but_with_its_tracking_link(local_world: World) -> None:
    store = _world(local_world)
    order_id = _order(local_world, store, [1])
    (line,) = _lines(store, order_id)
    link = "https://track.acme.example/1ZWH-U"

    _send(local_world, _shipment(order_id, "WH-U", [{"order_product_id": line["id"], "quantity": 1}],
                                 carrier="Acme Freight", tracking_link=link))  # fmt: skip

    (shipment,) = store.shipments[order_id]
    assert (shipment["tracking_carrier"], shipment["tracking_link"]) == ("", link)


def test_a_pickup_moves_the_order_to_awaiting_pickup_without_a_shipment(local_world: World) -> None:
    store = _world(local_world)
    order_id = _order(local_world, store, [1], pickup=True)
    (line,) = _lines(store, order_id)

    _send(local_world, _shipment(order_id, "WH-K", [{"order_product_id": line["id"], "quantity": 1}], pickup=True))

    assert store.shipments[order_id] == [] and store.orders[order_id]["status_id"] == AWAITING_PICKUP


def test_messages_that_can_never_succeed_are_dead_lettered_with_a_reason_and_the_rest_is_written(
    local_world: World,
) -> None:
    stack, _ = local_world
    store = _world(local_world)
    good = _order(local_world, store, [1])
    other = _order(local_world, store, [3])
    cancelled = _order(local_world, store, [1])
    store.set_order_status(cancelled, 5)
    stack.clock.advance(600)  # type: ignore[attr-defined]
    _order(local_world, store, [1])  # the import that sees the cancellation
    (good_line,) = _lines(store, good)
    (other_line,) = _lines(store, other)
    bad = {
        "unknown order": _shipment(999_999, "WH-X1", [{"order_product_id": 1, "quantity": 1}]),
        "line not on the order": _shipment(good, "WH-X2", [{"order_product_id": other_line["id"], "quantity": 1}]),
        "over quantity": _shipment(other, "WH-X3", [{"order_product_id": other_line["id"], "quantity": 4}]),
        "cancelled order": _shipment(cancelled, "WH-X4", [{"order_product_id": _lines(store, cancelled)[0]["id"], "quantity": 1}]),
        "no tracking number": _shipment(other, "WH-X5", [{"order_product_id": other_line["id"], "quantity": 1}], tracking_number=""),
        "malformed": {"type": "Shipment Confirmed", "store_hash": STORE, "order_id": "soon"},
    }  # fmt: skip

    report = _send(
        local_world, *bad.values(), _shipment(good, "WH-OK", [{"order_product_id": good_line["id"], "quantity": 1}])
    )

    assert report.failed == 0 and report.delivered == 7
    assert len(store.shipments[good]) == 1 and store.shipments[other] == [] and store.shipments[cancelled] == []
    reasons = {
        json.loads(message["Body"]).get("warehouse_shipment_id", "malformed"): reason_of(message)
        for message in stack.take_messages("ShipmentsInboundDLQ")
    }
    assert reasons["WH-X1"].startswith("order 999999 is not one bcsync sent")
    assert "is not on order" in reasons["WH-X2"]
    assert "4 shipped, 3 left to ship" in reasons["WH-X3"]
    assert "was cancelled" in reasons["WH-X4"]
    assert "no tracking number" in reasons["WH-X5"]
    assert reasons["malformed"].startswith("not a shipments message")
    assert ORDER_STATUSES[store.orders[good]["status_id"]] == "Shipped"


def test_acknowledgement_and_rejection_are_recorded_and_shown_by_status(local_world: World) -> None:
    store = _world(local_world, awaiting_shipment_on_ack=True)
    acknowledged = _order(local_world, store, [1])
    rejected = _order(local_world, store, [1])
    envelope = {"schema_version": 1, "store_hash": STORE}

    report = _send(
        local_world,
        {**envelope, "type": "Order Acknowledged", "order_id": acknowledged},
        {**envelope, "type": "Order Rejected", "order_id": rejected, "reason": "SKU blocked: hazmat"},
    )

    assert report.failed == 0
    assert store.orders[acknowledged]["status_id"] == 9  # Awaiting Shipment, the store's option
    assert store.orders[rejected]["status_id"] == 11  # untouched
    out = io.StringIO()
    assert bcsync_cli(["status", STORE], out=out) == 0
    text = out.getvalue()
    assert f"warehouse_rejection {rejected}: SKU blocked: hazmat" in text
    assert "order_import" in text and "orders_released" in text


def test_status_shows_what_the_writeback_did_in_its_last_batch_and_since_its_first(local_world: World) -> None:
    store = _world(local_world)
    order_id = _order(local_world, store, [1, 1])
    a, b = (line["id"] for line in _lines(store, order_id))
    first = _shipment(order_id, "WH-S1", [{"order_product_id": a, "quantity": 1}])
    _send(local_world, first, _shipment(order_id, "WH-S2", [{"order_product_id": b, "quantity": 1}], carrier="Owl"))
    _send(local_world, first)  # the warehouse sent one again
    out, as_json = io.StringIO(), io.StringIO()

    assert bcsync_cli(["status", STORE], out=out) == 0
    assert bcsync_cli(["status", STORE, "--json"], out=as_json) == 0

    text = out.getvalue()
    assert "tracking_writeback  never ran" not in text
    assert "tracking_writeback  last batch at " in text and "duplicates_suppressed 1" in text
    (flow,) = [report["flows"]["tracking_writeback"] for report in json.loads(as_json.getvalue())]
    assert flow["last_run"]["figures"]["shipments_written"] == 0  # the last batch: the repeat alone
    assert flow["totals"]["shipments_written"] == 2 and flow["totals"]["carriers_unmapped"] == 1
    assert flow["totals"]["duplicates_suppressed"] == 1 and flow["totals_since"]


def test_a_late_acknowledgement_never_moves_a_cancelled_or_shipped_order_back(local_world: World) -> None:
    store = _world(local_world, awaiting_shipment_on_ack=True)
    cancelled, shipped = _order(local_world, store, [1]), _order(local_world, store, [1])
    store.set_order_status(cancelled, 5)  # the customer cancelled; the warehouse's ack was still on its way
    (line,) = _lines(store, shipped)
    _send(local_world, _shipment(shipped, "WH-L1", [{"order_product_id": line["id"], "quantity": 1}]))
    envelope = {"schema_version": 1, "store_hash": STORE, "type": "Order Acknowledged"}

    report = _send(local_world, {**envelope, "order_id": cancelled}, {**envelope, "order_id": shipped})

    assert report.failed == 0
    assert (store.orders[cancelled]["status_id"], store.orders[shipped]["status_id"]) == (5, SHIPPED)


def test_an_order_to_two_addresses_ships_as_one_shipment_per_address(local_world: World) -> None:
    store = _world(local_world)
    order_id = _order(local_world, store, [1, 1, 1, 1], addresses=2)
    by_address: dict[int, list[int]] = {}
    for line in _lines(store, order_id):
        by_address.setdefault(line["order_address_id"], []).append(line["id"])
    first, second = by_address.values()

    mixed = [{"order_product_id": first[0], "quantity": 1}, {"order_product_id": second[0], "quantity": 1}]
    _send(local_world, _shipment(order_id, "WH-MX", mixed))  # one package to two addresses: refused
    assert store.shipments[order_id] == []
    dead = drain(local_world[0], "ShipmentsInboundDLQ")
    assert [message["warehouse_shipment_id"] for message in dead] == ["WH-MX"]
    _send(local_world, _shipment(order_id, "WH-M1", [{"order_product_id": i, "quantity": 1} for i in first]))
    assert store.orders[order_id]["status_id"] == PARTIALLY_SHIPPED
    _send(local_world, _shipment(order_id, "WH-M2", [{"order_product_id": i, "quantity": 1} for i in second]))

    shipments = store.shipments[order_id]
    assert sorted(s["order_address_id"] for s in shipments) == sorted(by_address)
    assert store.orders[order_id]["status_id"] == SHIPPED


def _failing_status_puts(sandbox: Sandbox, order_id: int, times: int) -> None:
    """BigCommerce answers the order's status `PUT`s with a 500, `times` over: five is one delivery's worth
    of the client's attempts."""
    sandbox.faults[STORE].queue(Fault.SERVER_500, times=times, path=rf"^/v2/orders/{order_id}$", method="PUT")


def test_a_completing_put_that_fails_through_its_retries_is_made_by_the_redelivery_without_a_second_shipment(
    local_world: World,
) -> None:
    _, sandbox = local_world
    store = _world(local_world, complete_orders=True)
    order_id = _order(local_world, store, [1])
    (line,) = _lines(store, order_id)
    _failing_status_puts(sandbox, order_id, 5)
    before = _mark(sandbox)

    report = _send(local_world, _shipment(order_id, "WH-F", [{"order_product_id": line["id"], "quantity": 1}]))

    assert report.failed == 1 and report.delivered == 1  # the first delivery failed on the PUT, its redelivery moved
    assert len(store.shipments[order_id]) == 1 and store.orders[order_id]["status_id"] == COMPLETED
    assert _calls(sandbox, before) == [
        f"GET /v2/orders/{order_id}",
        f"POST /v2/orders/{order_id}/shipments",
        *[f"PUT /v2/orders/{order_id}"] * 5,  # through the client's retries
        f"GET /v2/orders/{order_id}",  # the redelivery reads the status first: it may have moved since
        f"PUT /v2/orders/{order_id}",
    ]
    assert drain(local_world[0], "ShipmentsInboundDLQ") == []


def test_an_acknowledgement_whose_move_failed_moves_the_order_when_redelivered(local_world: World) -> None:
    _, sandbox = local_world
    store = _world(local_world, awaiting_shipment_on_ack=True)
    order_id = _order(local_world, store, [1])
    _failing_status_puts(sandbox, order_id, 5)

    report = _send(
        local_world, {"schema_version": 1, "store_hash": STORE, "type": "Order Acknowledged", "order_id": order_id}
    )

    assert report.failed == 1 and report.delivered == 1
    assert store.orders[order_id]["status_id"] == 9  # Awaiting Shipment, though the status was recorded first


def test_an_owed_move_is_declined_when_the_order_was_cancelled_before_the_redelivery(local_world: World) -> None:
    _, sandbox = local_world
    store = _world(local_world, awaiting_shipment_on_ack=True)
    order_id = _order(local_world, store, [1])
    _failing_status_puts(sandbox, order_id, 5)
    puts: list[int] = []

    def cancel_after_the_last_failed_put(exchange: Any) -> None:
        if (exchange.store_hash, exchange.method, exchange.api_path) == (STORE, "PUT", f"/v2/orders/{order_id}"):
            puts.append(1)
            if len(puts) == 5:
                store.set_order_status(order_id, 5)  # the customer cancels while the message waits

    sandbox.observers.append(cancel_after_the_last_failed_put)
    try:
        report = _send(
            local_world, {"schema_version": 1, "store_hash": STORE, "type": "Order Acknowledged", "order_id": order_id}
        )
    finally:
        sandbox.observers.remove(cancel_after_the_last_failed_put)

    assert report.failed == 1 and report.delivered == 1
    assert store.orders[order_id]["status_id"] == 5 and len(puts) == 5  # never moved out of Cancelled


def test_a_move_that_keeps_failing_is_dead_lettered_with_its_reason_on_the_last_receive(local_world: World) -> None:
    stack, sandbox = local_world
    store = _world(local_world, awaiting_shipment_on_ack=True)
    order_id = _order(local_world, store, [1])
    _failing_status_puts(sandbox, order_id, 100)
    receives = load_template()["Resources"]["ShipmentsInbound"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]

    report = _send(
        local_world, {"schema_version": 1, "store_hash": STORE, "type": "Order Acknowledged", "order_id": order_id}
    )

    assert report.failed == receives - 1 and report.delivered == 1  # the last receive dead-letters it itself
    (dead,) = stack.take_messages("ShipmentsInboundDLQ")
    assert json.loads(dead["Body"])["order_id"] == order_id
    assert f"order {order_id}: moving it to status 9 failed" in reason_of(dead)
    assert store.orders[order_id]["status_id"] == 11
    out = io.StringIO()
    assert bcsync_cli(["status", STORE], out=out) == 0
    assert f"status_move_failed {order_id}: order {order_id}: moving it to status 9 failed" in out.getvalue()


def test_a_shipment_for_an_order_cancelled_since_the_last_scan_is_not_written_and_the_operator_is_told(
    local_world: World,
) -> None:
    """The customer cancelled after order import last looked, and the warehouse shipped anyway: posting the
    shipment would move the cancelled order to Shipped and e-mail its tracking number. It is dead-lettered with
    what to do, shown by `bcsync status`, and the order stays cancelled."""
    stack, _ = local_world
    store = _world(local_world)
    order_id = _order(local_world, store, [1])
    (line,) = _lines(store, order_id)
    store.set_order_status(order_id, 5)  # no scan since: bcsync's record still says released

    report = _send(local_world, _shipment(order_id, "WH-X", [{"order_product_id": line["id"], "quantity": 1}]))

    assert report.failed == 0
    assert store.orders[order_id]["status_id"] == 5 and store.shipments.get(order_id, []) == []
    (dead,) = stack.take_messages("ShipmentsInboundDLQ")
    assert "after order" in reason_of(dead) and "recover the parcel" in reason_of(dead)
    status = io.StringIO()
    assert bcsync_cli(["status", STORE], out=status) == 0
    assert f"shipped_after_cancel {order_id}" in status.getvalue()


def test_a_shipment_for_an_order_staff_completed_is_written_and_the_order_stays_completed(
    local_world: World,
) -> None:
    """BigCommerce moves an order to Shipped when a shipment is written to it; staff had completed this one
    (the store does not complete orders itself): bcsync puts it back, and its tracking number is recorded."""
    _, sandbox = local_world
    store = _world(local_world)
    order_id = _order(local_world, store, [1])
    (line,) = _lines(store, order_id)
    store.set_order_status(order_id, COMPLETED)
    before = _mark(sandbox)

    report = _send(local_world, _shipment(order_id, "WH-K", [{"order_product_id": line["id"], "quantity": 1}]))

    assert report.failed == 0
    assert [s["tracking_number"] for s in store.shipments[order_id]] == ["1ZWH-K"]
    assert store.orders[order_id]["status_id"] == COMPLETED
    assert _calls(sandbox, before) == [
        f"GET /v2/orders/{order_id}",
        f"POST /v2/orders/{order_id}/shipments",
        f"PUT /v2/orders/{order_id}",  # back to Completed
    ]


def test_a_scan_between_a_lost_post_answer_and_its_redelivery_leaves_the_warehouse_order_alone(
    local_world: World,
) -> None:
    """BigCommerce created the shipment but its answer was lost; order import scans before SQS redelivers the
    message. The units are bcsync's (recorded before the POST), not shipped by hand: no new version, and the
    redelivery finds the shipment, once."""
    stack, sandbox = local_world
    store = _world(local_world)
    order_id = _order(local_world, store, [1])
    (line,) = _lines(store, order_id)
    sandbox.faults[STORE].queue(Fault.DROP_AFTER, path=r"/shipments$", method="POST")
    sqs, url = stack.client("sqs"), stack.physical["ShipmentsInbound"]["Ref"]
    sqs.send_message(
        QueueUrl=url,
        MessageBody=json.dumps(_shipment(order_id, "WH-L", [{"order_product_id": line["id"], "quantity": 1}])),
    )
    handler = stack.load_handler("TrackingWritebackFunction")
    assert stack.deliver_sqs("ShipmentsInbound", handler, max_invocations=1).failed == 1

    importer = stack.load_handler("OrderImportFunction")
    stack.clock.advance(300)  # type: ignore[attr-defined]
    importer({"action": "tick"}, stack.context("OrderImportFunction"))
    stack.deliver_sqs("OrderImportJobs", importer)
    assert drain(stack, "WarehouseOutbound") == []  # no Order Cancelled for a parcel on its way

    assert stack.deliver_sqs("ShipmentsInbound", handler).failed == 0
    assert len(store.shipments[order_id]) == 1
    assert drain(stack, "ShipmentsInboundDLQ") == []


def test_a_late_acknowledgement_never_erases_the_completion_a_failed_put_still_owes(local_world: World) -> None:
    """The completing PUT failed; before the shipment comes back, a late `Order Acknowledged` is handled (its
    move declined: the order is Shipped). The completion is still owed, and the redelivery makes it."""
    stack, sandbox = local_world
    store = _world(local_world, complete_orders=True, awaiting_shipment_on_ack=True)
    order_id = _order(local_world, store, [1])
    (line,) = _lines(store, order_id)
    _failing_status_puts(sandbox, order_id, 5)
    sqs, url = stack.client("sqs"), stack.physical["ShipmentsInbound"]["Ref"]
    handler = stack.load_handler("TrackingWritebackFunction")
    shipment = _shipment(order_id, "WH-O", [{"order_product_id": line["id"], "quantity": 1}])
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(shipment))
    assert stack.deliver_sqs("ShipmentsInbound", handler, max_invocations=1).failed == 1
    (waiting,) = sqs.receive_message(QueueUrl=url, VisibilityTimeout=600)["Messages"]  # not back yet

    ack = {"schema_version": 1, "store_hash": STORE, "type": "Order Acknowledged", "order_id": order_id}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(ack))
    assert stack.deliver_sqs("ShipmentsInbound", handler).failed == 0
    assert store.orders[order_id]["status_id"] == SHIPPED  # the ack's move declined
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=waiting["ReceiptHandle"], VisibilityTimeout=0)
    assert stack.deliver_sqs("ShipmentsInbound", handler).failed == 0

    assert store.orders[order_id]["status_id"] == COMPLETED and len(store.shipments[order_id]) == 1


def test_a_shipment_whose_store_has_no_budget_left_comes_back_when_the_window_resets(local_world: World) -> None:
    stack, _ = local_world
    store = _world(local_world)
    order_id = _order(local_world, store, [1])
    store.rate.consume_elsewhere(store.quota)  # the store's other apps spent the window
    shipment = _shipment(order_id, "BUDGET-1", [{"order_product_id": _lines(store, order_id)[0]["id"], "quantity": 1}])

    first = _send(local_world, shipment)

    assert (first.delivered, first.failed) == (1, 0), "not a failure: nothing creeps towards the DLQ"
    assert store.shipments.get(order_id, []) == []
    waiting = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.physical["ShipmentsInbound"]["Ref"], AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    assert waiting["ApproximateNumberOfMessagesDelayed"] == "1", "sent again, delayed until the window resets"
    assert _send(local_world).delivered == 0, "not before the reset"

    stack.clock.advance(store.window_ms / 1000)  # type: ignore[attr-defined]
    again = stack.deliver_sqs("ShipmentsInbound", stack.load_handler("TrackingWritebackFunction"))

    assert again.delivered == 1
    assert [s["tracking_number"] for s in store.shipments[order_id]] == ["1ZBUDGET-1"]
    assert drain(stack, "ShipmentsInboundDLQ") == []
