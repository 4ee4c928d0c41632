"""The local AWS holds requests to AWS's documented limits, each tested at its edge: just under is taken,
just over is refused with AWS's error code (moto alone takes them)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bcsync.cli import main as bcsync_cli
from bcsync.errors import AwsUnavailableError
from bigcommerce_sandbox import Sandbox, seed_catalog
from local_runtime import LocalDeployment
from local_runtime.limits import dynamodb_item_size
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
