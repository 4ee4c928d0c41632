"""The warehouse answers "too late" (a cancel or an update after the parcel left) on ShipmentsInbound, through
the real handler: the store's operator sees it in `bcsync status`, with what to do."""

from __future__ import annotations

import io
import json
from typing import Any

from bcsync.cli import main as bcsync_cli
from bigcommerce_sandbox import Sandbox, SandboxStore, add_order
from local_runtime import LocalDeployment
from tests.aws import drain, reason_of
from tests.stores import calls_since, connected_store, mark

World = tuple[LocalDeployment, Sandbox]
STORE = "ans111"
CANCELLED = 5


def _world(world: World) -> SandboxStore:
    return connected_store(world, STORE, f"tok-{STORE}-wa", products=4)


def _import(world: World) -> list[dict[str, Any]]:
    """One order import run, as scheduled; the events it sent the warehouse."""
    stack, _ = world
    importer = stack.load_handler("OrderImportFunction")
    stack.clock.advance(300)  # type: ignore[attr-defined]  # the store's 5-minute scan interval passes
    importer({"action": "tick"}, stack.context("OrderImportFunction"))
    stack.deliver_sqs("OrderImportJobs", importer)
    return drain(stack, "WarehouseOutbound")


def _order(world: World, store: SandboxStore) -> int:
    sellable = [(p, v) for p in store.products.values() for v in p["variants"] if p["is_visible"]]
    order_id = add_order(store, lines=[(*sellable[0], 1)])
    assert [e["detail-type"] for e in _import(world)] == ["Order Ready"]
    return order_id


def _too_late(order_id: int, version: int, change: str, **fields: Any) -> dict[str, Any]:
    return {"type": "Order Change Too Late", "schema_version": 1, "store_hash": STORE, "order_id": order_id,
            "version": version, "change": change, "reason": "the parcel left at 14:02", **fields}  # fmt: skip


def _send(world: World, *messages: dict[str, Any]) -> Any:
    stack, _ = world
    sqs, url = stack.client("sqs"), stack.physical["ShipmentsInbound"]["Ref"]
    for message in messages:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))
    return stack.deliver_sqs("ShipmentsInbound", stack.load_handler("TrackingWritebackFunction"))


def _problems() -> list[str]:
    out = io.StringIO()
    assert bcsync_cli(["status", STORE], out=out) == 0
    return [line for line in out.getvalue().splitlines() if line.startswith("  ! warehouse_too_late")]


def test_a_cancel_after_the_parcel_left_is_one_problem_saying_what_to_do(local_world: World) -> None:
    stack, sandbox = local_world
    store = _world(local_world)
    order_id = _order(local_world, store)
    store.set_order_status(order_id, CANCELLED)  # the customer cancelled; the warehouse had shipped
    (cancel,) = _import(local_world)
    assert cancel["detail-type"] == "Order Cancelled"
    version = cancel["detail"]["data"]["version"]
    answer = _too_late(order_id, version, "cancel", warehouse_shipment_id="WS-77")
    before = mark(sandbox)

    report = _send(local_world, answer, answer)  # delivered twice

    assert report.failed == 0 and report.errors == 0
    assert stack.take_messages("ShipmentsInboundDLQ") == []
    (problem,) = _problems()
    assert f"warehouse_too_late {order_id} v{version}:" in problem
    assert "could not cancel it" in problem and "WS-77" in problem and "the parcel left at 14:02" in problem
    assert "contact the customer" in problem and "return" in problem
    assert calls_since(sandbox, STORE, before) == []  # nothing written on the BigCommerce order
    assert store.orders[order_id]["status_id"] == CANCELLED


def test_an_update_after_the_parcel_left_is_a_problem_of_its_own_version(local_world: World) -> None:
    store = _world(local_world)
    order_id = _order(local_world, store)
    store.orders[order_id]["customer_message"] = "please deliver to the back door"
    store.touch_order(order_id)
    (update,) = _import(local_world)
    assert update["detail-type"] == "Order Updated"
    version = update["detail"]["data"]["version"]

    report = _send(local_world, _too_late(order_id, version, "update", reason="already on the truck"))

    assert report.failed == 0
    (problem,) = _problems()
    assert f"{order_id} v{version}:" in problem and "could not apply its update" in problem
    assert "already on the truck" in problem and "see what changed in BigCommerce" in problem


def test_answers_about_what_bcsync_never_sent_are_dead_lettered_with_their_reason(local_world: World) -> None:
    stack, _ = local_world
    store = _world(local_world)
    order_id = _order(local_world, store)  # version 1 only
    store.orders[order_id]["customer_message"] = "gift wrap, please"
    store.touch_order(order_id)
    assert [e["detail-type"] for e in _import(local_world)] == ["Order Updated"]  # version 2
    bad = {
        "unknown order": _too_late(999_999, 2, "cancel"),
        "version never sent": _too_late(order_id, 3, "update"),
        "not what was sent": _too_late(order_id, 2, "cancel"),
        "the order itself": _too_late(order_id, 1, "update"),
        "no reason": _too_late(order_id, 2, "update", reason=""),
        "unknown change": _too_late(order_id, 2, "refund"),
    }

    report = _send(local_world, *[{**message, "warehouse_shipment_id": name} for name, message in bad.items()])

    assert report.failed == 0 and report.delivered == len(bad)
    reasons = {
        json.loads(message["Body"])["warehouse_shipment_id"]: reason_of(message)
        for message in stack.take_messages("ShipmentsInboundDLQ")
    }
    assert reasons["unknown order"].startswith("order 999999 is not one bcsync sent")
    assert "never sent version 3 (the last is 2)" in reasons["version never sent"]
    assert "version 2 was Order Updated, not a cancel" in reasons["not what was sent"]
    assert "version" in reasons["the order itself"] and reasons["the order itself"].startswith("not a shipments")
    assert "reason" in reasons["no reason"] and "change" in reasons["unknown change"]
    assert _problems() == []
