"""The local AWS holds requests to AWS's documented limits, each tested at its edge: just under is taken,
just over is refused with AWS's error code (moto alone takes them)."""

from __future__ import annotations

import io
import json
import os
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from bcsync.cli import main as bcsync_cli
from bcsync.errors import AwsUnavailableError
from bigcommerce_client import VirtualClock
from bigcommerce_sandbox import Sandbox, seed_catalog
from local_runtime import LocalDeployment
from local_runtime.invoke import FunctionError, payload_size
from local_runtime.limits import dynamodb_item_size
from local_runtime.schedules import fire_schedules
from tests.aws import drain, reason_of
from tests.conftest import KNOWN_TOKENS

KIB = 1024


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def _table(stack: LocalDeployment) -> Any:
    return stack.resource("dynamodb").Table(str(stack.outputs()["StateTableName"]))


def _item_of_size(size: int) -> dict[str, str]:
    """An item of exactly `size` bytes by DynamoDB's rules (names and string values count their bytes)."""
    item = {"pk": "p", "sk": "s", "body": ""}
    item["body"] = "x" * (size - dynamodb_item_size({k: {"S": v} for k, v in item.items()}))
    return item


def test_a_dynamodb_item_of_400_kb_is_taken_and_one_byte_more_is_refused(local_stack: LocalDeployment) -> None:
    table = _table(local_stack)
    table.put_item(Item=_item_of_size(400_000))
    with pytest.raises(ClientError) as refused:
        table.put_item(Item={**_item_of_size(400_001), "sk": "t"})
    assert _code(refused) == "ValidationException" and "maximum allowed size" in str(refused.value)


def test_an_update_that_writes_more_than_an_item_can_hold_is_refused_before_anything_is_applied(
    local_stack: LocalDeployment,
) -> None:
    table = _table(local_stack)
    table.put_item(Item={"pk": "p", "sk": "s", "kept": "yes"})
    with pytest.raises(ClientError) as refused:
        table.update_item(
            Key={"pk": "p", "sk": "s"},
            UpdateExpression="SET a = :a, b = :b",
            ExpressionAttributeValues={":a": "x" * (300 * KIB), ":b": "y" * (150 * KIB)},
        )
    assert _code(refused) == "ValidationException"
    assert table.get_item(Key={"pk": "p", "sk": "s"})["Item"] == {"pk": "p", "sk": "s", "kept": "yes"}  # not half


@pytest.mark.parametrize(("writes", "taken"), [(25, True), (26, False)])
def test_batch_write_item_takes_25_requests(local_stack: LocalDeployment, writes: int, taken: bool) -> None:
    table = _table(local_stack)
    requests = [{"PutRequest": {"Item": {"pk": f"p{n}", "sk": "s"}}} for n in range(writes)]
    client = table.meta.client  # the resource's client: it serializes plain values
    if taken:
        assert client.batch_write_item(RequestItems={table.name: requests}).get("UnprocessedItems", {}) == {}
    else:
        with pytest.raises(ClientError) as refused:
            client.batch_write_item(RequestItems={table.name: requests})
        assert _code(refused) == "ValidationException"


@pytest.mark.parametrize(("keys", "taken"), [(100, True), (101, False)])
def test_batch_get_item_takes_100_keys(local_stack: LocalDeployment, keys: int, taken: bool) -> None:
    table = _table(local_stack)
    request = {table.name: {"Keys": [{"pk": f"p{n}", "sk": "s"} for n in range(keys)]}}
    if taken:
        assert "Responses" in table.meta.client.batch_get_item(RequestItems=request)
    else:
        with pytest.raises(ClientError) as refused:
            table.meta.client.batch_get_item(RequestItems=request)
        assert _code(refused) == "ValidationException"


@pytest.mark.parametrize(("size", "taken"), [(400_000, True), (400_001, False)])
def test_batch_write_item_takes_items_of_400_kb(local_stack: LocalDeployment, size: int, taken: bool) -> None:
    table = _table(local_stack)
    requests = [{"PutRequest": {"Item": {"pk": "a", "sk": "small"}}}, {"PutRequest": {"Item": _item_of_size(size)}}]
    if taken:
        assert table.meta.client.batch_write_item(RequestItems={table.name: requests}).get("UnprocessedItems") == {}
    else:
        with pytest.raises(ClientError) as refused:
            table.meta.client.batch_write_item(RequestItems={table.name: requests})
        assert _code(refused) == "ValidationException" and "maximum allowed size" in str(refused.value)
        assert "Item" not in table.get_item(Key={"pk": "a", "sk": "small"})  # nothing of the batch was written


@pytest.mark.parametrize(("actions", "taken"), [(100, True), (101, False)])
def test_a_transaction_takes_100_actions(local_stack: LocalDeployment, actions: int, taken: bool) -> None:
    table = _table(local_stack)
    items = [
        {"Put": {"TableName": table.name, "Item": {"pk": {"S": f"p{n}"}, "sk": {"S": "s"}}}} for n in range(actions)
    ]
    client = local_stack.client("dynamodb")
    if taken:
        client.transact_write_items(TransactItems=items)
        assert "Item" in table.get_item(Key={"pk": "p99", "sk": "s"})
    else:
        with pytest.raises(ClientError) as refused:
            client.transact_write_items(TransactItems=items)
        assert _code(refused) == "ValidationException"
        assert "Item" not in table.get_item(Key={"pk": "p0", "sk": "s"})


def _entry(stack: LocalDeployment, detail_bytes: int) -> dict[str, Any]:
    """An entry of 2 + `detail_bytes` bytes by AWS's formula (Source "s", DetailType "d", the Detail)."""
    padding = "x" * (detail_bytes - len(json.dumps({"p": ""})))
    bus = str(stack.outputs()["EventBusName"])
    return {"Source": "s", "DetailType": "d", "Detail": json.dumps({"p": padding}), "EventBusName": bus}


@pytest.mark.parametrize(("count", "taken"), [(10, True), (11, False)])
def test_put_events_takes_ten_entries(local_stack: LocalDeployment, count: int, taken: bool) -> None:
    events = local_stack.client("events")
    entries = [_entry(local_stack, 100) for _ in range(count)]
    if taken:
        assert events.put_events(Entries=entries)["FailedEntryCount"] == 0
    else:
        with pytest.raises(ClientError) as refused:
            events.put_events(Entries=entries)
        assert _code(refused) == "ValidationException"


@pytest.mark.parametrize(("extra", "taken"), [(0, True), (1, False)])
def test_put_events_takes_256_kib_in_all(local_stack: LocalDeployment, extra: int, taken: bool) -> None:
    """By AWS's entry-size formula: Source, DetailType and Detail bytes (2 + 100 KiB + 100 KiB + the rest)."""
    events = local_stack.client("events")
    first, second = _entry(local_stack, 100 * KIB - 2), _entry(local_stack, 100 * KIB - 2)
    third = _entry(local_stack, 56 * KIB - 2 + extra)
    if taken:
        assert events.put_events(Entries=[first, second, third])["FailedEntryCount"] == 0
    else:
        with pytest.raises(ClientError) as refused:
            events.put_events(Entries=[first, second, third])
        assert "Total size of the entries" in str(refused.value)


@pytest.mark.parametrize(("size", "taken"), [(1024 * KIB, True), (1024 * KIB + 1, False)])
def test_an_sqs_message_is_at_most_one_mib(local_stack: LocalDeployment, size: int, taken: bool) -> None:
    sqs, url = local_stack.client("sqs"), local_stack.physical["StockInbound"]["Ref"]
    if taken:
        assert sqs.send_message(QueueUrl=url, MessageBody="x" * size)["MessageId"]
    else:
        with pytest.raises(ClientError) as refused:
            sqs.send_message(QueueUrl=url, MessageBody="x" * size)
        assert "InvalidParameterValue" in _code(refused)


@pytest.mark.parametrize(("extra", "taken"), [(0, True), (1, False)])
def test_an_sqs_messages_attributes_count_toward_its_one_mib(
    local_stack: LocalDeployment, extra: int, taken: bool
) -> None:
    """AWS counts each attribute's name, type and value with the body."""
    sqs, url = local_stack.client("sqs"), local_stack.physical["StockInbound"]["Ref"]
    attributes = {"reason": {"DataType": "String", "StringValue": "x" * 100}}
    body = "x" * (1024 * KIB - len("reason") - len("String") - 100 + extra)
    if taken:
        assert sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes)["MessageId"]
    else:
        with pytest.raises(ClientError) as refused:
            sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes)
        assert "InvalidParameterValue" in _code(refused)


def test_an_sqs_batch_is_ten_entries_and_one_mib_in_all(local_stack: LocalDeployment) -> None:
    sqs, url = local_stack.client("sqs"), local_stack.physical["StockInbound"]["Ref"]
    entries = [{"Id": str(n), "MessageBody": "x" * (100 * KIB)} for n in range(10)]
    assert len(sqs.send_message_batch(QueueUrl=url, Entries=entries)["Successful"]) == 10
    with pytest.raises(ClientError) as too_many:
        sqs.send_message_batch(QueueUrl=url, Entries=[*entries, {"Id": "10", "MessageBody": "x"}])
    with pytest.raises(ClientError) as too_long:
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": "x" * (400 * KIB)} for n in range(3)]
        )
    assert "TooManyEntriesInBatchRequest" in _code(too_many) and "BatchRequestTooLong" in _code(too_long)


@pytest.mark.parametrize(("delay", "taken"), [(900, True), (901, False)])
def test_an_sqs_delay_is_at_most_fifteen_minutes(local_stack: LocalDeployment, delay: int, taken: bool) -> None:
    sqs, url = local_stack.client("sqs"), local_stack.physical["StockInbound"]["Ref"]
    if taken:
        assert sqs.send_message(QueueUrl=url, MessageBody="{}", DelaySeconds=delay)["MessageId"]
    else:
        with pytest.raises(ClientError) as refused:
            sqs.send_message(QueueUrl=url, MessageBody="{}", DelaySeconds=delay)
        assert "InvalidParameterValue" in _code(refused)


# 12 hours counted from the message's receipt: a moment after it, 43,200 s more is over already.
@pytest.mark.parametrize(("seconds", "taken"), [(43_199, True), (43_201, False)])
def test_a_visibility_timeout_is_at_most_twelve_hours(local_stack: LocalDeployment, seconds: int, taken: bool) -> None:
    sqs, url = local_stack.client("sqs"), local_stack.physical["StockInbound"]["Ref"]
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    change = {"QueueUrl": url, "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": seconds}
    if taken:
        sqs.change_message_visibility(**change)
    else:
        with pytest.raises(ClientError) as refused:
            sqs.change_message_visibility(**change)
        assert "InvalidParameterValue" in _code(refused)


@pytest.mark.parametrize(("count", "taken"), [(10, True), (11, False)])
def test_a_receive_takes_at_most_ten_messages(local_stack: LocalDeployment, count: int, taken: bool) -> None:
    sqs, url = local_stack.client("sqs"), local_stack.physical["StockInbound"]["Ref"]
    if taken:
        assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=count).get("Messages", []) == []
    else:
        with pytest.raises(ClientError) as refused:
            sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=count)
        assert "InvalidParameterValue" in _code(refused)


def test_a_throttled_secret_read_is_retried_and_never_dead_lettered(
    local_world: tuple[LocalDeployment, Sandbox],
) -> None:
    stack, sandbox = local_world
    KNOWN_TOKENS.add("tok-lim111-secret")
    seed_catalog(sandbox.add_store("lim111", token="tok-lim111-secret"), products=2, variants_per_product=1)
    assert bcsync_cli(["stores", "connect", "lim111"], stdin=io.StringIO("tok-lim111-secret"), out=io.StringIO()) == 0
    handler = stack.load_handler("ProductSyncFunction")
    handler({"action": "tick"}, stack.context("ProductSyncFunction"))
    # Five in a row: every attempt of one read, the SDK's own retries included.
    stack.inject_aws_fault("secretsmanager", "GetSecretValue", "ThrottlingException", times=5)
    with pytest.raises(AwsUnavailableError, match="ThrottlingException"):
        stack.credentials().get("lim111")
    stack.inject_aws_fault("secretsmanager", "GetSecretValue", "ThrottlingException", times=5)

    report = stack.deliver_sqs("ProductSyncJobs", handler)

    assert report.failed >= 1  # came back through batchItemFailures, then ran
    assert [reason_of(m, "no reason") for m in stack.take_messages("ProductSyncJobsDLQ")] == []
    assert drain(stack, "WarehouseOutbound") != []  # the sync ran once the secret could be read


# --- Lambda's invocation payloads -------------------------------------------------------------------------

MIB = 1024 * KIB
ECHO = {
    "Type": "AWS::Lambda::Function",
    "Properties": {
        "Code": {"S3Bucket": "bcsync-local-artifacts", "S3Key": "tests/e2e/fixture_function"},
        "Handler": "app.handler",
    },
}


def _with_resources(stack: LocalDeployment, **resources: Any) -> None:
    """The stack's template with these resources added or replaced (a copy: the deployed one is kept)."""
    stack.template = {**stack.template, "Resources": {**stack.template["Resources"], **resources}}


def _padded(base: dict[str, Any], size: int) -> dict[str, Any]:
    """`base` with a "padding" string making its JSON document exactly `size` bytes."""
    event = {**base, "padding": ""}
    return {**event, "padding": "x" * (size - payload_size(event))}


@pytest.mark.parametrize(("size", "runs"), [(6 * MIB, True), (6 * MIB + 1, False)])
def test_a_synchronous_invocation_takes_a_request_of_6_mb(local_stack: LocalDeployment, size: int, runs: bool) -> None:
    handler = local_stack.load_handler("ProductSyncFunction")
    event = _padded({"action": "tick"}, size)  # no store is connected: the tick answers in a few bytes
    before = len(local_stack.invocations)
    if runs:
        assert handler(event, local_stack.context("ProductSyncFunction")) == {"queued": [], "problems": []}
        assert len(local_stack.invocations) == before + 1
    else:
        with pytest.raises(ClientError) as refused:
            handler(event, local_stack.context("ProductSyncFunction"))
        assert _code(refused) == "RequestTooLargeException"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
        assert len(local_stack.invocations) == before  # the handler never ran


@pytest.mark.parametrize(("extra", "answered"), [(0, True), (1, False)])
def test_a_synchronous_invocation_answers_at_most_6_mb(
    local_stack: LocalDeployment, extra: int, answered: bool
) -> None:
    _with_resources(local_stack, EchoFunction=ECHO)
    handler = local_stack.load_handler("EchoFunction")
    table = local_stack.environment()["BCSYNC_STATE_TABLE"]
    # The echo answers {"state_table", "echo": the event, "invocations": 1}: what it adds to the event.
    overhead = payload_size({"state_table": table, "echo": {}, "invocations": 1}) - payload_size({})
    event = _padded({}, 6 * MIB - overhead + extra)
    if answered:
        assert payload_size(handler(event, local_stack.context("EchoFunction"))) == 6 * MIB
    else:
        with pytest.raises(FunctionError, match=r"Function\.ResponseSizeTooLarge"):
            handler(event, local_stack.context("EchoFunction"))


def test_an_sqs_batch_is_cut_to_fit_an_invocations_6_mb(local_stack: LocalDeployment) -> None:
    """Ten messages of 1 MiB (each within SQS's limit) are more than one invocation takes: the event source
    mapping hands them over in batches Lambda accepts, and every one is delivered."""
    _with_resources(local_stack, EchoFunction=ECHO)
    sqs, url = local_stack.client("sqs"), local_stack.physical["StockInbound"]["Ref"]
    for _ in range(10):
        sqs.send_message(QueueUrl=url, MessageBody="x" * MIB)
    echo = local_stack.load_handler("EchoFunction")
    sizes: list[int] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        sizes.append(payload_size(event))
        return echo(event, context)

    report = local_stack.deliver_sqs("StockInbound", handler)

    assert (report.delivered, report.errors) == (10, 0)
    assert len(sizes) >= 2 and max(sizes) <= 6 * MIB


@pytest.mark.parametrize(("size", "runs"), [(1 * MIB, True), (1 * MIB + 1, False)])
def test_a_schedule_invokes_asynchronously_with_at_most_1_mb(
    local_stack: LocalDeployment, clock: VirtualClock, size: int, runs: bool
) -> None:
    rule = {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "ScheduleExpression": "rate(5 minutes)",
            "Targets": [{"Id": "EchoFunction", "Input": json.dumps(_padded({"action": "tick"}, size))}],
        },
    }
    local_stack.template = {**local_stack.template, "Resources": {"EchoTick": rule, "EchoFunction": ECHO}}
    invoked: list[str] = []
    start = clock.now()
    clock.advance(300)

    def invoke(function: str, event: dict[str, Any], context: Any) -> None:
        invoked.append(function)

    if runs:
        fire_schedules(local_stack, start, clock.now(), invoke)
        assert invoked == ["EchoFunction"]
    else:
        with pytest.raises(ClientError) as refused:
            fire_schedules(local_stack, start, clock.now(), invoke)
        assert _code(refused) == "RequestTooLargeException" and invoked == []


# --- API Gateway (the webhook receiver's HTTP API) ---------------------------------------------------------


def _post_webhook(body: bytes, store_hash: str = "nohook1") -> requests.Response:
    return requests.post(
        f"{os.environ['BCSYNC_WEBHOOK_URL']}/{store_hash}",
        data=body,
        headers={"Content-Type": "application/json"},
        verify=os.environ["BCSYNC_LOCAL_CA_BUNDLE"],
        timeout=60,
    )


def _receiver_runs(stack: LocalDeployment) -> int:
    return sum(1 for invocation in stack.invocations if invocation.function == "WebhookReceiverFunction")


def test_a_webhook_body_over_10_mb_is_refused_by_the_api_and_never_reaches_the_function(
    local_stack: LocalDeployment,
) -> None:
    over = _post_webhook(b"x" * (10 * MIB + 1))
    assert (over.status_code, over.json()) == (413, {"message": "Request Entity Too Large"})
    # 10 MB passes the API, but its event is over Lambda's 6 MB: Lambda refuses it, and the API answers 500.
    at_limit = _post_webhook(b"x" * (10 * MIB))
    assert (at_limit.status_code, at_limit.json()) == (500, {"message": "Internal Server Error"})
    assert _receiver_runs(local_stack) == 0
    # Under both: the function runs, and answers for itself (its own limit is far smaller).
    small = _post_webhook(b"x" * (6 * MIB - 4 * KIB))
    assert (small.status_code, small.json()) == (413, {"outcome": "rejected", "reason": "too_large"})
    assert _receiver_runs(local_stack) == 1


@pytest.mark.parametrize(
    ("function_timeout", "took", "status"),
    [
        (None, 10.0, 401),  # the template's own Timeout (10 s), below the integration's 30 s
        (None, 10.001, 500),  # Lambda stops the invocation at its Timeout: a function error
        (60, 30.0, 401),
        (60, 30.001, 503),  # a Timeout above the integration's: the API gives up first
    ],
)
def test_a_webhook_answered_after_a_deadline_is_the_apis_error(
    local_stack: LocalDeployment,
    clock: VirtualClock,
    monkeypatch: pytest.MonkeyPatch,
    function_timeout: int | None,
    took: float,
    status: int,
) -> None:
    if function_timeout is not None:
        receiver = local_stack.template["Resources"]["WebhookReceiverFunction"]
        _with_resources(
            local_stack,
            WebhookReceiverFunction={**receiver, "Properties": {**receiver["Properties"], "Timeout": function_timeout}},
        )
    function = local_stack.function_module("WebhookReceiverFunction").FUNCTION
    handle = function.handle

    def slow(event: dict[str, Any], context: Any) -> Any:
        clock.advance(took)  # the receiver waits that long (on the runtime's clock) before it answers
        return handle(event, context)

    monkeypatch.setattr(function, "handle", slow)

    answer = _post_webhook(b"{}")  # no such store: the receiver's own answer is 401

    assert answer.status_code == status
    if status == 503:
        assert answer.json() == {"message": "Service Unavailable"}
