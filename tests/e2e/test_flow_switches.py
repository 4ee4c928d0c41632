"""Per-flow switches as deployed: a store with inventory push and tracking writeback off still imports its
orders; the warehouse's stock level is not pushed and the operator is told; its shipment waits in the DLQ and
is written back by a redrive once the writeback is on again."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from bcsync.cli import main as bcsync_cli
from bcsync.store.problems import ProblemLog
from bigcommerce_sandbox import Sandbox, add_order
from local_runtime import LocalDeployment
from tests.aws import drain, reason_of
from tests.stores import calls_since, connected_store, mark

World = tuple[LocalDeployment, Sandbox]
STORE = "flw111"


def _deliver(stack: LocalDeployment, queue: str, logical: str, *messages: dict[str, Any]) -> None:
    for message in messages:
        stack.client("sqs").send_message(QueueUrl=stack.physical[queue]["Ref"], MessageBody=json.dumps(message))
    stack.deliver_sqs(queue, stack.load_handler(logical))


def test_a_store_with_two_flows_off_runs_the_others_and_loses_nothing_silently(
    local_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, sandbox = local_world
    store = connected_store(
        local_world,
        STORE,
        f"tok-{STORE}-fl",
        products=3,
        inventory_push_enabled=False,
        tracking_writeback_enabled=False,
    )
    table = stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])
    # Order import is on: the paid order reaches the warehouse.
    product = next(p for p in store.products.values() if p["is_visible"])
    order_id = add_order(store, lines=[(product, product["variants"][0], 1)])
    importer = stack.load_handler("OrderImportFunction")
    importer({"action": "tick"}, stack.context("OrderImportFunction"))
    stack.deliver_sqs("OrderImportJobs", importer)
    assert [event["detail-type"] for event in drain(stack, "WarehouseOutbound")] == ["Order Ready"]
    before = mark(sandbox)

    # Inventory push is off: its tick skips the store, a stock level is not pushed and is named as a problem.
    push = stack.load_handler("InventoryPushFunction")
    assert push({"action": "tick"}, stack.context("InventoryPushFunction"))["queued"] == []
    stock = {"type": "Stock Level", "schema_version": 1, "store_hash": STORE, "as_of": "2026-11-23T10:00:00Z",
             "mode": "delta", "items": [{"sku": product["variants"][0]["sku"], "location": "MAIN", "fulfillable": 4}]}  # fmt: skip
    _deliver(stack, "StockInbound", "InventoryPushFunction", stock)
    stack.deliver_sqs("InventoryPushJobs", push)
    # Tracking writeback is off: the shipment goes to the DLQ with the reason, nothing is written.
    line = store.order_products[order_id][0]
    shipment = {"type": "Shipment Confirmed", "schema_version": 1, "store_hash": STORE, "order_id": order_id,
                "warehouse_shipment_id": "WH-F1", "tracking_number": "1ZF1", "carrier": "UPS",
                "lines": [{"order_product_id": line["id"], "quantity": 1}]}  # fmt: skip
    _deliver(stack, "ShipmentsInbound", "TrackingWritebackFunction", shipment)

    assert calls_since(sandbox, STORE, before) == []  # neither a push nor a shipment reached BigCommerce
    assert stack.take_messages("StockInboundDLQ") == []
    problems = {problem["subject"]: problem["text"] for problem in ProblemLog(table, STORE).list()}
    assert "inventory push is off for store flw111" in problems["inventory_push"]
    assert "--set inventory_push_enabled=true" in problems["inventory_push"]
    assert "tracking writeback is off" in problems["tracking_writeback"]
    # An on-demand push says why it will not run, instead of queueing a message that would be skipped.
    assert bcsync_cli(["inventory", "push", STORE], out=io.StringIO()) == 1
    assert "inventory push is off for store flw111" in capsys.readouterr().err

    (dead,) = stack.take_messages("ShipmentsInboundDLQ")
    assert reason_of(dead).startswith("tracking writeback is off for store flw111")
    stack.client("sqs").send_message(QueueUrl=stack.physical["ShipmentsInboundDLQ"]["Ref"], MessageBody=dead["Body"])
    configure = ["stores", "configure", STORE, "--set", "tracking_writeback_enabled=true"]
    assert bcsync_cli(configure, out=io.StringIO()) == 0
    assert bcsync_cli(["dlq", "redrive", "ShipmentsInbound"], out=io.StringIO()) == 0
    stack.deliver_sqs("ShipmentsInbound", stack.load_handler("TrackingWritebackFunction"))

    assert [s["tracking_number"] for s in store.shipments[order_id]] == ["1ZF1"]
