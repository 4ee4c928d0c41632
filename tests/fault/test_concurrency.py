"""Two invocations of one store's work at the same moment, in two containers: still one version, one shipment."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bcsync.backbone import cutpoints
from bcsync.backbone.messages import JobMessage
from bcsync.cli import main as bcsync_cli
from bcsync.shipments.state import marker
from bigcommerce_sandbox import Sandbox, SandboxStore, add_order, seed_catalog
from local_runtime import LocalDeployment
from local_runtime.warehouse import SimulatedWarehouse
from tests.conftest import KNOWN_TOKENS

World = tuple[LocalDeployment, Sandbox]
STORE = "twin111"


def _store(world: World, orders: int) -> SandboxStore:
    _, sandbox = world
    KNOWN_TOKENS.add("tok-twin111-cc")
    store = sandbox.add_store(STORE, token="tok-twin111-cc")
    seed_catalog(store, products=6, variants_per_product=2)
    sellable = [(p, v) for p in store.products.values() for v in p["variants"] if p["is_visible"] and v["sku"]]
    for n in range(orders):
        add_order(store, lines=[(*sellable[n % len(sellable)], 3)], at=store.clock.now() - orders + n)
    assert bcsync_cli(["stores", "connect", STORE, "--no-webhooks"], stdin=io.StringIO("tok-twin111-cc"),
                      out=io.StringIO()) == 0  # fmt: skip
    return store


def _records(stack: LocalDeployment, queue: str, bodies: list[str]) -> list[dict[str, Any]]:
    """The same work delivered twice: two messages, each handed to its own container."""
    sqs, url = stack.client("sqs"), stack.physical[queue]["Ref"]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert len(messages) == len(bodies)
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    arn = stack.physical[queue]["Arn"]
    return [
        {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
         "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
         "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "us-east-1"}
        for m in messages
    ]  # fmt: skip


@pytest.fixture
def held_at() -> Iterator[Callable[[str], tuple[threading.Event, threading.Event]]]:
    """`held_at(point)`: the first invocation to reach `point` waits there until released; the events say
    when it got there and let it go."""
    holds: list[tuple[str, threading.Event, threading.Event]] = []

    def hook(name: str) -> None:
        for point, arrived, release in holds:
            if name == point and not arrived.is_set():
                arrived.set()
                assert release.wait(30), "the held invocation was never released"

    def hold(point: str) -> tuple[threading.Event, threading.Event]:
        arrived, release = threading.Event(), threading.Event()
        holds.append((point, arrived, release))
        return arrived, release

    cutpoints.install(hook)
    yield hold
    cutpoints.install(None)


def _posts(sandbox: Sandbox, order_id: int) -> list[Any]:
    exchanges = sandbox.recorder.exchanges  # type: ignore[attr-defined]
    return [e for e in exchanges if (e.method, e.api_path) == ("POST", f"/v2/orders/{order_id}/shipments")]


def _run_beside(
    first: Callable[[], Any], second: Callable[[], Any], arrived: threading.Event, release: threading.Event
) -> tuple[Any, Any]:
    """`first` runs in a thread until it is held; `second` runs meanwhile; then `first` goes on."""
    results: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: results.update(first=first()))
    thread.start()
    assert arrived.wait(30), "the first invocation never reached the point it is held at"
    results["second"] = second()
    release.set()
    thread.join(30)
    return results["first"], results["second"]


def test_two_containers_running_one_stores_import_at_once_publish_each_version_once(
    local_world: World, held_at: Callable[[str], tuple[threading.Event, threading.Event]]
) -> None:
    stack, _ = local_world
    _store(local_world, orders=30)
    body = JobMessage(job="order_import", store_hash=STORE, trigger="webhook").model_dump_json()
    one, two = _records(stack, "OrderImportJobs", [body, body])
    container_a = stack.load_handler("OrderImportFunction")
    container_b = stack.load_handler("OrderImportFunction", container=1)
    arrived, release = held_at(cutpoints.AFTER_OUTBOX_PENDING)  # A holds the lease, its events not yet sent

    answer_a, answer_b = _run_beside(
        lambda: container_a({"Records": [one]}, stack.context("OrderImportFunction")),
        lambda: container_b({"Records": [two]}, stack.context("OrderImportFunction")),
        arrived,
        release,
    )

    assert answer_a == answer_b == {"batchItemFailures": []}
    warehouse = SimulatedWarehouse(STORE)
    warehouse.receive(stack)
    assert len(warehouse.orders) == 30 and warehouse.duplicates == 0
    delayed = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.physical["OrderImportJobs"]["Ref"], AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]["ApproximateNumberOfMessagesDelayed"]
    assert delayed == "1"  # B did not run beside A: its message comes back after A's run


def test_two_containers_given_one_shipment_at_once_write_it_once(
    local_world: World,
    held_at: Callable[[str], tuple[threading.Event, threading.Event]],
) -> None:
    stack, sandbox = local_world
    store = _store(local_world, orders=1)
    importer = stack.load_handler("OrderImportFunction")
    importer({"action": "tick"}, stack.context("OrderImportFunction"))
    stack.deliver_sqs("OrderImportJobs", importer)
    warehouse = SimulatedWarehouse(STORE)
    warehouse.receive(stack)
    (shipment, *_) = warehouse.ship_all()
    one, two = _records(stack, "ShipmentsInbound", [json.dumps(shipment)] * 2)
    container_a = stack.load_handler("TrackingWritebackFunction")
    container_b = stack.load_handler("TrackingWritebackFunction", container=1)
    arrived, release = held_at(cutpoints.BEFORE_SHIPMENT_POST)  # A said "posting", has not posted yet

    def second() -> dict[str, Any]:
        return dict(container_b({"Records": [two]}, stack.context("TrackingWritebackFunction")))

    answer_a, answer_b = _run_beside(
        lambda: container_a({"Records": [one]}, stack.context("TrackingWritebackFunction")),
        second,
        arrived,
        release,
    )

    assert answer_a == {"batchItemFailures": []}
    # B found A's shipment in progress: its record goes back to SQS, to be retried once A is done.
    assert answer_b == {"batchItemFailures": [{"itemIdentifier": two["messageId"]}]}
    tag = marker(shipment["warehouse_shipment_id"])
    assert len(_posts(sandbox, shipment["order_id"])) == 1
    assert sum(tag in row["comments"] for rows in store.shipments.values() for row in rows) == 1

    retried = container_b({"Records": [two]}, stack.context("TrackingWritebackFunction"))  # SQS brings it back

    assert retried == {"batchItemFailures": []}
    assert len(_posts(sandbox, shipment["order_id"])) == 1
