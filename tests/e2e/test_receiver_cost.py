"""What the webhook receiver costs a store in DynamoDB, counted on the wire and priced as DynamoDB bills it
(local_runtime.usage: a refused conditional write is a write too), and the one scope that keeps an
idempotency record: a product deletion, delivered twice or retried after an error."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.retries import standard

from bcsync.webhooks.receiver import SECRET_HEADER
from bigcommerce_sandbox import Sandbox
from bigcommerce_sandbox.webhooks import payload
from local_runtime import LocalDeployment, iam
from local_runtime.moto_server import AwsRequest
from local_runtime.usage import AwsUsage
from tests.aws import drain
from tests.conftest import KNOWN_TOKENS
from tests.stores import connected_store

World = tuple[LocalDeployment, Sandbox]
RECEIVER = "WebhookReceiverFunction"
ORDER_SCOPES = ("store/order/created", "store/order/updated", "store/order/statusUpdated")


def _store(world: World, store_hash: str) -> Callable[[dict[str, object]], requests.Response]:
    """A connected store, and how BigCommerce delivers one of its webhooks to the local API."""
    stack, _ = world
    connected_store(world, store_hash, f"tok-{store_hash}-rc", products=1)
    secret = stack.credentials().get(store_hash).webhook_secret.get_secret_value()
    KNOWN_TOKENS.add(secret)

    def post(body: dict[str, object]) -> requests.Response:
        return requests.post(
            f"{os.environ['BCSYNC_WEBHOOK_URL']}/{store_hash}",
            data=json.dumps(body),
            headers={"Content-Type": "application/json", SECRET_HEADER: secret},
            verify=os.environ["BCSYNC_LOCAL_CA_BUNDLE"],
            timeout=30,
        )

    return post


@pytest.fixture
def receiver_usage(local_stack: LocalDeployment) -> Iterator[Callable[[], AwsUsage]]:
    """`start()`: a fresh count of what the receiver's own requests cost from now on (the test's and the
    CLI's requests are no delivery's)."""
    counts: list[AwsUsage] = []

    def observe(request: AwsRequest) -> None:
        caller = iam.caller_of(request.caller)
        if counts and caller == (local_stack.stack_name, RECEIVER):
            counts[-1].observe(request)

    def start() -> AwsUsage:
        counts.append(AwsUsage())
        return counts[-1]

    local_stack.observe_aws(observe)
    yield start
    local_stack.unobserve_aws(observe)


def test_deliveries_inside_one_window_cost_one_write_unit_in_all_and_never_more_than_one_each(
    local_world: World, receiver_usage: Callable[[], AwsUsage], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy hour is mostly deliveries into a window already open: each costs a read, and only the
    delivery that opens the window writes. (Before, each paid about 3 write units: two for its
    idempotency record, one for the window's conditional write, refused or not.)"""
    stack, _ = local_world
    monkeypatch.setenv("BCSYNC_WEBHOOK_DEBOUNCE_SECONDS", "5")  # the default; the test's clock stands still meanwhile
    post = _store(local_world, "cost111")
    bodies = [
        payload(store_hash="cost111", scope=ORDER_SCOPES[n % 3], data={"type": "order", "id": 100 + n}, created_at=n)
        for n in range(20)
    ]
    bodies += bodies[:5]  # BigCommerce's copies of deliveries it thinks failed

    costs, statuses = [], set()
    for body in bodies:
        usage = receiver_usage()
        statuses.add(post(body).status_code)
        costs.append(usage.dynamodb_write_units)
    stack.clock.advance(6)  # type: ignore[attr-defined]  # the window's message is due

    assert max(costs) <= 1, f"write units per delivery: {costs}"
    assert sum(costs) <= len(bodies)
    assert costs == [1] + [0] * (len(bodies) - 1)  # the opener's conditional write; the rest wrote nothing
    assert statuses == {200}
    assert len(drain(stack, "OrderImportJobs")) == 1  # one list query covers every change of the window


def _sqs_attempts() -> int:
    """How often the functions' SQS client tries one call (botocore's standard retry mode)."""
    client: Any = boto3.session.Session(region_name="us-east-1").client("sqs")
    retries = client.meta.config.retries or {}
    if "total_max_attempts" in retries:
        return int(retries["total_max_attempts"])
    return int(getattr(standard, "_SERVICE_MAX_ATTEMPTS", {}).get("sqs", standard.DEFAULT_MAX_ATTEMPTS))


def test_a_product_deletion_archives_once_however_often_it_is_delivered_and_its_retry_after_an_error_is_taken(
    local_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, _ = local_world
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)  # no wall-clock sleep
    post = _store(local_world, "cost222")
    deleted = payload(store_hash="cost222", scope="store/product/deleted", data={"type": "product", "id": 77},
                      created_at=9)  # fmt: skip
    stack.inject_aws_fault("sqs", "SendMessage", "InternalError", times=_sqs_attempts(), status=500)

    failed = post(deleted)
    answers = [post(deleted).json()["outcome"] for _ in range(3)]  # BigCommerce's retry, then copies

    assert failed.status_code == 500 and stack.aws_faults_left() == 0
    assert answers == ["accepted", "duplicate", "duplicate"]  # the failed delivery left no record behind
    messages = drain(stack, "ProductSyncJobs")
    assert [m["options"]["deleted_product_ids"] for m in messages] == [[77]]
