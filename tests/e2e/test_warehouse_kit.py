"""The warehouse integration kit on the local stack: the reference consumer (examples/wms_consumer.py) takes
an imported order from WarehouseOutbound, answers with a shipment that reaches BigCommerce, never deletes what
its callback did not handle, reads a claim-checked event from the payload bucket, and needs nothing the
stack's WmsPolicy does not grant. The samples in docs/warehouse.md are checked against what the queue really
delivered, so they cannot drift."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3

from bigcommerce_sandbox import Sandbox, add_order
from local_runtime import LocalDeployment, expanded_template, iam
from local_runtime.moto_server import AwsRequest
from local_runtime.template import REGION
from tests.stores import connected_store

World = tuple[LocalDeployment, Sandbox]
STORE = "kit111"
REPO = Path(__file__).resolve().parents[2]
WMS_KEY = "wms-reference-consumer"  # the consumer signs with a key of its own: its calls are told apart


def _consumer_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wms_consumer", REPO / "examples" / "wms_consumer.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["wms_consumer"] = module
    spec.loader.exec_module(module)
    return module


def _samples() -> dict[str, Any]:
    """The JSON samples of docs/warehouse.md, by the name in the comment before each."""
    text = (REPO / "docs" / "warehouse.md").read_text(encoding="utf-8")
    found = re.findall(r"<!-- sample: ([\w-]+) -->\s*```json\n(.*?)\n```", text, flags=re.DOTALL)
    return {name: json.loads(body) for name, body in found}


def _shape(value: Any) -> Any:
    """A JSON value's structure: keys and types, not the values (ids, times and ARNs differ per run)."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__ if value is not None else "null"


def _import(stack: LocalDeployment) -> None:
    importer = stack.load_handler("OrderImportFunction")
    stack.clock.advance(300)  # type: ignore[attr-defined]  # the store's scan interval passes
    importer({"action": "tick"}, stack.context("OrderImportFunction"))
    assert stack.deliver_sqs("OrderImportJobs", importer).failed == 0


def _product_sync(stack: LocalDeployment) -> None:
    sync = stack.load_handler("ProductSyncFunction")
    sync({"action": "tick", "mode": "full"}, stack.context("ProductSyncFunction"))
    assert stack.deliver_sqs("ProductSyncJobs", sync).failed == 0


def test_the_reference_consumer_takes_an_order_and_its_shipment_reaches_bigcommerce(local_world: World) -> None:
    stack, _ = local_world
    store = connected_store(local_world, STORE, f"tok-{STORE}-kit", products=1)
    wms = _consumer_module()
    outputs = stack.outputs()
    session = boto3.session.Session(aws_access_key_id=WMS_KEY, aws_secret_access_key="x", region_name=REGION)
    calls: list[AwsRequest] = []

    def observer(request: AwsRequest) -> None:
        if request.caller == WMS_KEY:
            calls.append(request)

    stack.observe_aws(observer)
    bodies: list[dict[str, Any]] = []  # every SQS body the consumer received, as the queue delivered it
    received: list[Any] = []
    fail_once: set[str] = set()

    def handle(event: Any) -> None:
        if event.idempotency_key in fail_once:
            fail_once.discard(event.idempotency_key)
            raise RuntimeError("the warehouse database is down")
        received.append(event)

    consumer = wms.WmsConsumer(
        handle=handle,
        outbound_url=outputs["WarehouseOutboundQueueUrl"],
        shipments_url=outputs["ShipmentsInboundQueueUrl"],
        stock_url=outputs["StockInboundQueueUrl"],
        sqs=session.client("sqs", endpoint_url=stack.endpoint),
        s3=session.client("s3", endpoint_url=stack.endpoint),
        wait_seconds=0,
        visibility_timeout=0,  # a message left is visible again at once (the queue's own is 120 s)
    )
    original_event_of = consumer.event_of

    def recording_event_of(message: dict[str, Any]) -> Any:
        bodies.append(json.loads(message["Body"]))
        return original_event_of(message)

    consumer.event_of = recording_event_of
    try:
        _product_sync(stack)
        while consumer.poll().handled:
            pass
        sellable = [(p, v) for p in store.products.values() for v in p["variants"] if p["is_visible"]]
        gate = [{"name": "Gate code", "value": "4411"}]
        order_id = add_order(store, lines=[(*sellable[0], 2)], form_fields=gate)
        big = add_order(store, lines=[(*sellable[1], 1)], customer_message="x" * 210_000)  # over the 200 KB claim check
        fail_once.add(f"order:{STORE}:{order_id}:v1")
        _import(stack)

        first = consumer.poll()
        assert first.failed and f"order:{STORE}:{order_id}:v1" not in first.handled  # raised: left on the queue
        while consumer.poll().handled:
            pass  # delivered again, handled, deleted

        orders = {e.data["order_id"]: e for e in received if e.detail_type == "Order Ready"}
        assert set(orders) == {order_id, big}
        ready = orders[order_id]
        assert ready.schema_version == 3 and ready.receive_count == 2
        (request,) = ready.data["shipments"]
        (line,) = request["lines"]
        assert request["form_fields"] == gate and request["ship_to"]["state_code"] == "TX"
        assert (line["hs_code"], line["country_of_origin"], line["sku_in_catalog"]) == ("6109.10", "PT", True)
        assert len(orders[big].data["customer_message"]) == 210_000  # read from the payload bucket

        # A duplicate (as a republish would bring) is deleted, never handed to the callback again.
        duplicate = next(body for body in bodies if body["detail"].get("idempotency_key") == ready.idempotency_key)
        stack.client("sqs").send_message(QueueUrl=consumer.outbound_url, MessageBody=json.dumps(duplicate))
        again = consumer.poll()
        assert again.duplicates == [ready.idempotency_key] and again.handled == []

        consumer.confirm_shipment(
            STORE, order_id, warehouse_shipment_id="WS-1", lines=[(line["order_product_id"], line["quantity"])],
            tracking_number="1Z999AA10123456784", carrier="UPS", order_address_id=request["order_address_id"],
        )  # fmt: skip
        consumer.send_stock_levels(STORE, [(line["sku"], "MAIN", 7)])
        report = stack.deliver_sqs("ShipmentsInbound", stack.load_handler("TrackingWritebackFunction"))
        assert report.failed == 0 and stack.take_messages("ShipmentsInboundDLQ") == []
        (shipment,) = store.shipments[order_id]
        assert (shipment["tracking_number"], shipment["tracking_carrier"]) == ("1Z999AA10123456784", "ups")
        sent = {
            m["type"]: m for m in (json.loads(m["Body"]) for q in ("StockInbound",) for m in stack.take_messages(q))
        }
    finally:
        stack.unobserve_aws(observer)

    _check_the_samples(bodies, sent)
    _check_the_policy(stack, calls)


def _check_the_samples(bodies: list[dict[str, Any]], sent: dict[str, dict[str, Any]]) -> None:
    """Each sample of docs/warehouse.md has the shape of a message the queue delivered (or the consumer sent)."""
    by_kind = {
        "order-ready": next(b for b in bodies if b["detail-type"] == "Order Ready" and "data" in b["detail"]),
        "order-ready-data-ref": next(b for b in bodies if "data_ref" in b["detail"]),
        "product-upserted": next(b for b in bodies if b["detail-type"] == "Product Upserted"),
        "stock-level": sent["Stock Level"],
    }
    samples = _samples()
    assert set(by_kind) <= set(samples), f"docs/warehouse.md lacks samples {set(by_kind) - set(samples)}"
    for name, real in by_kind.items():
        sample = dict(samples[name])
        if "detail" in real:  # AWS's envelope names the account; the local bus leaves it out
            assert sample.pop("account", None) is not None, f"{name}: EventBridge's envelope has `account`"
        assert _shape(sample) == _shape(real), f"docs/warehouse.md's {name} sample has drifted from the queue's"
        # What names the message is the same as delivered, not only its shape.
        for key in ("source", "detail-type", "version", "type", "schema_version", "mode"):
            assert sample.get(key) == real.get(key), f"{name}: {key}"
        if "detail" in real:
            assert sample["detail"]["schema_version"] == real["detail"]["schema_version"], name


def _check_the_policy(stack: LocalDeployment, calls: list[AwsRequest]) -> None:
    """Every call the consumer made is one the WmsPolicy grants, on the resource it names."""
    names = iam.logical_names(stack.physical, str(stack.outputs()["SecretPrefix"]))
    used = {(iam.resource_of(name, names), iam.action_of(call)) for call in calls for name in iam.named_resources(call)}
    statements = expanded_template()["Resources"]["WmsPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    granted = set()
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for target in targets:
            if "Fn::GetAtt" in target:
                resource = target["Fn::GetAtt"][0]
            else:  # the payload bucket's claim checks, under events/
                assert target == {"Fn::Sub": "${PayloadBucket.Arn}/events/*"}, target
                resource = "PayloadBucket/*"
            granted |= {(resource, action) for action in actions}
    assert used, "the consumer's calls were not seen"
    assert used <= granted, f"the WMS policy lacks {sorted(used - granted)}"
    assert {("WarehouseOutbound", "sqs:DeleteMessage"), ("PayloadBucket/*", "s3:GetObject")} <= used
    read = [call.path for call in calls if call.service == "s3"]
    assert read and all("/events/" in path for path in read)  # only claim checks, where the policy allows
