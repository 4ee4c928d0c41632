"""Transient AWS errors - throttling, a 5xx, a call never answered - on the calls the flows make: the
message is retried, never dead-lettered, and the work is done once AWS answers again; a webhook met by one
is answered 500, for BigCommerce to deliver again, never refused as not genuine.

Each fault is injected at the local AWS's gate (`inject_aws_fault`) for a number of calls. The SDK retries
a call itself (its standard mode: three attempts, four for DynamoDB): a fault that outlasts one call's
attempts fails the message, which comes back through `batchItemFailures`; the next delivery meets the
last one, which the SDK's retry absorbs. Each SDK retry waits (up to seconds for throttling): a test here
takes a few seconds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests
from botocore.retries import standard

from bcsync.errors import AwsUnavailableError
from bcsync.webhooks.receiver import SECRET_HEADER
from bigcommerce_sandbox import Sandbox, SandboxStore, add_order
from bigcommerce_sandbox.webhooks import payload
from local_runtime import LocalDeployment
from local_runtime.limits import NO_ANSWER
from local_runtime.shortcuts import catalog_as_synced
from tests.aws import drain, reason_of
from tests.conftest import KNOWN_TOKENS
from tests.stores import connected_store

World = tuple[LocalDeployment, Sandbox]
STORE = "thr111"
TOKEN = f"tok-{STORE}-throttled"


def _sdk_attempts(service: str) -> int:
    """How often the SDK tries one call of `service` before it gives up, as the functions' clients are
    configured (the standard retry mode: three attempts, DynamoDB's four)."""
    client = boto3.session.Session(region_name="us-east-1").client(service)  # type: ignore[call-overload]
    retries = client.meta.config.retries or {}
    if "total_max_attempts" in retries:
        return int(retries["total_max_attempts"])
    assert retries.get("mode") == "standard", f"the faults below are counted for the standard retry mode: {retries}"
    by_service: dict[str, int] = getattr(standard, "_SERVICE_MAX_ATTEMPTS", {})
    return by_service.get(client.meta.service_model.service_id.hyphenize(), standard.DEFAULT_MAX_ATTEMPTS)


ATTEMPTS = {service: _sdk_attempts(service) for service in ("dynamodb", "secretsmanager", "events", "sqs")}


@pytest.fixture(autouse=True)
def _sdk_backoff_not_waited(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK retries as often as it would in Lambda; only its back-off, which sleeps on the wall clock (up
    to seconds for a throttle), is not waited out here."""
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)


@dataclass
class Work:
    """Work a flow has waiting: the queues that carry it (with the function each feeds), and what shows
    it was done, as a user would see it."""

    queues: list[tuple[str, str]]
    done: Callable[[], bool]


def _sellable(store: SandboxStore) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(p, v) for p in store.products.values() for v in p["variants"] if p["is_visible"]]


def _order_waiting(world: World, monkeypatch: pytest.MonkeyPatch) -> Work:
    """A paid order, and the tick that queued its store's import: done when the warehouse has it."""
    stack, _ = world
    store = connected_store(world, STORE, TOKEN, products=3)
    order_id = add_order(store, lines=[(*_sellable(store)[0], 1)], at=stack.clock.now() - 600)
    stack.load_handler("OrderImportFunction")({"action": "tick"}, stack.context("OrderImportFunction"))

    def done() -> bool:
        events = drain(stack, "WarehouseOutbound")
        return [(e["detail-type"], e["detail"]["data"]["order_id"]) for e in events] == [("Order Ready", order_id)]

    return Work(queues=[("OrderImportJobs", "OrderImportFunction")], done=done)


def _shipment_waiting(world: World, monkeypatch: pytest.MonkeyPatch) -> Work:
    """The warehouse's shipment of an imported order: done when BigCommerce shows it."""
    stack, _ = world
    store = connected_store(world, STORE, TOKEN, products=3)
    order_id = add_order(store, lines=[(*_sellable(store)[0], 2)], at=stack.clock.now() - 600)
    importer = stack.load_handler("OrderImportFunction")
    importer({"action": "tick"}, stack.context("OrderImportFunction"))
    stack.deliver_sqs("OrderImportJobs", importer)
    drain(stack, "WarehouseOutbound")
    (line,) = store.order_products[order_id]
    shipment = {
        "type": "Shipment Confirmed", "schema_version": 1, "store_hash": STORE, "order_id": order_id,
        "warehouse_shipment_id": "WH-1", "tracking_number": "1ZWH1", "carrier": "UPS", "service": "Ground",
        "lines": [{"order_product_id": line["id"], "quantity": 2}],
    }  # fmt: skip
    stack.client("sqs").send_message(
        QueueUrl=stack.physical["ShipmentsInbound"]["Ref"], MessageBody=json.dumps(shipment)
    )
    return Work(
        queues=[("ShipmentsInbound", "TrackingWritebackFunction")],
        done=lambda: [s["tracking_number"] for s in store.shipments.get(order_id, [])] == ["1ZWH1"],
    )


def _stock_waiting(world: World, monkeypatch: pytest.MonkeyPatch) -> Work:
    """The warehouse's stock level of one SKU: done when BigCommerce shows it."""
    stack, _ = world
    monkeypatch.setenv("BCSYNC_WEBHOOK_DEBOUNCE_SECONDS", "0")  # the push is due at once
    store = connected_store(world, STORE, TOKEN, products=3)
    catalog_as_synced(stack.resource("dynamodb").Table(stack.outputs()["StateTableName"]), store, list(store.products))
    variant = next(v for p, v in _sellable(store) if p["inventory_tracking"] == "variant" and v["sku"])
    stock = {
        "type": "Stock Level", "schema_version": 1, "store_hash": STORE, "as_of": "2026-11-23T10:00:00Z",
        "mode": "delta", "items": [{"sku": variant["sku"], "location": "MAIN", "fulfillable": 7, "exception": 0}],
    }  # fmt: skip
    stack.client("sqs").send_message(QueueUrl=stack.physical["StockInbound"]["Ref"], MessageBody=json.dumps(stock))
    return Work(
        queues=[("StockInbound", "InventoryPushFunction"), ("InventoryPushJobs", "InventoryPushFunction")],
        done=lambda: store.inventory.get((1, "variant", variant["id"])) == 7,
    )


FLOWS = {"order import": _order_waiting, "tracking writeback": _shipment_waiting, "inventory push": _stock_waiting}


def _run(stack: LocalDeployment, work: Work) -> tuple[int, int]:
    """Every queue of the work delivered until empty: (records failed and retried, handlers that raised)."""
    reports = [stack.deliver_sqs(queue, stack.load_handler(function)) for queue, function in work.queues]
    return sum(r.failed for r in reports), sum(r.errors for r in reports)


def _dead_letters(stack: LocalDeployment) -> list[str]:
    """Every message on any of the stack's DLQs, by its reason (SQS's own redrive gives none)."""
    return [
        reason_of(message, "moved by SQS after maxReceiveCount")
        for logical in stack.physical
        if logical.endswith("DLQ")
        for message in stack.take_messages(logical)
    ]


# (service, operation, AWS's code, HTTP status, the flow it is met in)
FAULTS = [
    ("secretsmanager", "GetSecretValue", "ThrottlingException", 400, "order import"),
    ("secretsmanager", "GetSecretValue", "InternalServiceError", 500, "tracking writeback"),
    ("secretsmanager", "GetSecretValue", NO_ANSWER, 0, "inventory push"),
    ("dynamodb", "GetItem", "ProvisionedThroughputExceededException", 400, "order import"),
    ("dynamodb", "GetItem", "ThrottlingException", 400, "tracking writeback"),
    ("dynamodb", "GetItem", "RequestLimitExceeded", 400, "inventory push"),
    ("dynamodb", "GetItem", "InternalServerError", 500, "order import"),
]


@pytest.mark.parametrize(
    ("service", "operation", "code", "status", "flow"), FAULTS, ids=[f"{f[0]}-{f[2]}-{f[4]}" for f in FAULTS]
)
def test_a_fault_outlasting_the_sdks_retries_fails_the_message_which_comes_back_and_is_done(
    local_world: World, monkeypatch: pytest.MonkeyPatch, service: str, operation: str, code: str, status: int, flow: str
) -> None:
    stack, _ = local_world
    work = FLOWS[flow](local_world, monkeypatch)
    # Every attempt of the first call fails, and the first attempt of the next: the message fails once.
    stack.inject_aws_fault(service, operation, code, times=ATTEMPTS[service] + 1, status=status)

    failed, raised = _run(stack, work)

    assert _dead_letters(stack) == []
    assert stack.aws_faults_left() == 0  # each injected fault was met
    assert (failed, raised) == (1, 0)  # back once through batchItemFailures; no handler raised
    assert work.done()


@pytest.mark.parametrize(
    ("service", "operation", "code"),
    [("secretsmanager", "GetSecretValue", "ThrottlingException"), ("dynamodb", "GetItem", "ThrottlingException")],
)
def test_a_fault_within_the_sdks_retries_fails_no_message(
    local_world: World, monkeypatch: pytest.MonkeyPatch, service: str, operation: str, code: str
) -> None:
    stack, _ = local_world
    work = _order_waiting(local_world, monkeypatch)
    stack.inject_aws_fault(service, operation, code, times=ATTEMPTS[service] - 1)

    failed, raised = _run(stack, work)

    assert _dead_letters(stack) == []
    assert stack.aws_faults_left() == 0
    assert (failed, raised) == (0, 0)
    assert work.done()


# Every AWS operation each flow's functions call while they do the work (the event source mapping's own
# ReceiveMessage and DeleteMessage aside), and AWS's 5xx for its service.
SERVER_ERRORS = {
    "dynamodb": "InternalServerError",
    "secretsmanager": "InternalServiceError",
    "events": "InternalException",
    "sqs": "InternalError",
}
CALLS = {
    "order import": [
        ("secretsmanager", "GetSecretValue"),
        *[("dynamodb", op) for op in ("GetItem", "Query", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem")],
        ("events", "PutEvents"),
    ],
    "tracking writeback": [
        ("secretsmanager", "GetSecretValue"),
        *[("dynamodb", op) for op in ("GetItem", "PutItem", "UpdateItem")],
    ],
    "inventory push": [
        ("secretsmanager", "GetSecretValue"),
        ("sqs", "SendMessage"),
        *[("dynamodb", op) for op in ("GetItem", "Query", "PutItem", "BatchWriteItem", "UpdateItem", "DeleteItem")],
    ],
}
EVERY_CALL = [(flow, service, operation) for flow, calls in CALLS.items() for service, operation in calls]
# make fault (FAULT_SCALE=1) sweeps every call; make test the first call of each service in each flow (the
# retries are the SDK's and the consumer's, the same for every operation of a service).
SWEEP = (
    EVERY_CALL
    if float(os.environ.get("FAULT_SCALE", "0")) >= 1
    else [case for n, case in enumerate(EVERY_CALL) if case[:2] not in {c[:2] for c in EVERY_CALL[:n]}]
)


@pytest.mark.parametrize(("flow", "service", "operation"), SWEEP, ids=[" ".join(case) for case in SWEEP])
def test_every_call_a_flow_makes_may_fail_for_a_while_and_the_work_is_still_done_once(
    local_world: World, monkeypatch: pytest.MonkeyPatch, flow: str, service: str, operation: str
) -> None:
    stack, _ = local_world
    work = FLOWS[flow](local_world, monkeypatch)
    stack.inject_aws_fault(service, operation, SERVER_ERRORS[service], times=ATTEMPTS[service] + 1, status=500)

    _, raised = _run(stack, work)

    assert _dead_letters(stack) == []
    assert stack.aws_faults_left() == 0
    assert raised == 0
    assert work.done()


@pytest.mark.parametrize(
    ("service", "operation", "code"),
    [
        ("secretsmanager", "GetSecretValue", "ThrottlingException"),
        ("secretsmanager", "GetSecretValue", NO_ANSWER),
        ("dynamodb", "GetItem", "ProvisionedThroughputExceededException"),
        ("dynamodb", "UpdateItem", "ThrottlingException"),
        ("sqs", "SendMessage", "InternalError"),
    ],
)
def test_a_webhook_met_by_a_transient_fault_is_answered_5xx_for_bigcommerce_to_retry_never_refused(
    local_world: World, monkeypatch: pytest.MonkeyPatch, service: str, operation: str, code: str
) -> None:
    """A refusal (401, 400) tells BigCommerce the delivery is not genuine; a fault of AWS's is the API's
    500, and BigCommerce's retry of the same delivery is taken, once."""
    stack, _ = local_world
    monkeypatch.setenv("BCSYNC_WEBHOOK_DEBOUNCE_SECONDS", "0")
    connected_store(local_world, STORE, TOKEN, products=1)
    secret = stack.credentials().get(STORE).webhook_secret.get_secret_value()
    KNOWN_TOKENS.add(secret)
    delivery = json.dumps(
        payload(store_hash=STORE, scope="store/order/created", data={"type": "order", "id": 7}, created_at=5)
    )

    def post() -> requests.Response:
        return requests.post(
            f"{os.environ['BCSYNC_WEBHOOK_URL']}/{STORE}",
            data=delivery,
            headers={"Content-Type": "application/json", SECRET_HEADER: secret},
            verify=os.environ["BCSYNC_LOCAL_CA_BUNDLE"],
            timeout=30,
        )

    stack.inject_aws_fault(
        service, operation, code, times=ATTEMPTS[service], status=500 if code.startswith("Internal") else 400
    )
    during = post()
    assert stack.aws_faults_left() == 0
    assert (during.status_code, during.json()) == (500, {"message": "Internal Server Error"})
    assert drain(stack, "OrderImportJobs") == []

    again = post()  # BigCommerce delivers it again

    assert (again.status_code, again.json()["outcome"]) == (200, "accepted")
    assert [message["store_hash"] for message in drain(stack, "OrderImportJobs")] == [STORE]


def test_a_call_never_answered_is_a_connection_the_sdk_retries_then_a_read_retried_later(
    local_world: World,
) -> None:
    stack, _ = local_world
    connected_store(local_world, STORE, TOKEN, products=1)
    stack.inject_aws_fault("secretsmanager", "GetSecretValue", NO_ANSWER, times=ATTEMPTS["secretsmanager"])

    with pytest.raises(AwsUnavailableError, match="ConnectionClosedError"):
        stack.credentials().get(STORE)

    assert stack.aws_faults_left() == 0  # every attempt met it
    assert stack.credentials().get(STORE).store_hash == STORE
