"""bcsync core against moto: credentials, registry, fan-out, continuation, the outbox publisher, DLQ."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from moto import mock_aws
from pydantic import ValidationError

from bcsync.backbone.consumer import REASON_ATTRIBUTE, SOURCE_ID_ATTRIBUTE, dead_letter
from bcsync.backbone.fan_out import fan_out
from bcsync.backbone.messages import JobMessage, JobQueue
from bcsync.backbone.runner import Continue, JobContext, JobRunner
from bcsync.errors import (
    AwsUnavailableError,
    CredentialsError,
    InvalidSettingsError,
    PublishError,
    StoreNotConnectedError,
)
from bcsync.store.credentials import CredentialStore, StoreCredentials
from bcsync.store.jobs import JobState
from bcsync.store.outbox import Outbox
from bcsync.store.registry import StoreRegistry
from bcsync.store.settings import StoreSettings
from bcsync.warehouse.events import CLAIM_CHECK_BYTES, EventPublisher, OutboundEvent, entry_size, order_key
from bigcommerce_client import RATE_WINDOW_SECONDS, BudgetExhaustedError, RateLimitedError, VirtualClock
from tests.aws import create_table
from tests.conftest import KNOWN_TOKENS

REGION = "us-east-1"
PREFIX = "bcsync/test/stores/"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


@pytest.fixture
def table(aws: None) -> Any:
    return create_table(boto3.resource("dynamodb", region_name=REGION), "StateTable", "state")


def credentials(store_hash: str, token: str = "tok-abc-1234567") -> StoreCredentials:
    KNOWN_TOKENS.add(token)
    return StoreCredentials.model_validate(
        {"store_hash": store_hash, "client_id": "cid", "access_token": token, "webhook_secret": "whs-123456"}
    )


# --- credentials ---------------------------------------------------------------------------------


def test_credentials_round_trip_and_the_token_stays_secret(aws: None) -> None:
    store = CredentialStore(client=boto3.client("secretsmanager", region_name=REGION), prefix=PREFIX)
    store.put(credentials("abc123"))
    loaded = store.get("abc123")
    assert loaded.access_token.get_secret_value() == "tok-abc-1234567"
    assert "tok-abc-1234567" not in repr(loaded) + str(loaded)


def test_a_rotated_token_is_used_once_the_cache_expires(aws: None) -> None:
    client = boto3.client("secretsmanager", region_name=REGION)
    CredentialStore(client=client, prefix=PREFIX).put(credentials("abc123", "old-token-0001"))
    cached = CredentialStore(client=client, prefix=PREFIX, max_age=300)
    assert cached.get("abc123").access_token.get_secret_value() == "old-token-0001"
    CredentialStore(client=client, prefix=PREFIX).put(credentials("abc123", "new-token-0002"))
    assert cached.get("abc123").access_token.get_secret_value() == "old-token-0001"  # within max_age
    assert cached.get("abc123", force_fetch=True).access_token.get_secret_value() == "new-token-0002"
    assert (
        CredentialStore(client=client, prefix=PREFIX, max_age=0).get("abc123").access_token.get_secret_value()
        == "new-token-0002"
    )


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        (None, "could not be read"),
        ("not json", "not JSON"),
        (json.dumps({"store_hash": "abc123", "client_id": "c", "webhook_secret": "w"}), "access_token"),
        (json.dumps({"store_hash": "zzz999", "client_id": "c", "access_token": "t", "webhook_secret": "w"}), "belongs to store zzz999"),
    ],
)  # fmt: skip
def test_a_missing_or_malformed_secret_is_one_line_naming_the_store_and_field(
    aws: None, secret: str | None, expected: str
) -> None:
    client = boto3.client("secretsmanager", region_name=REGION)
    if secret is not None:
        client.create_secret(Name=f"{PREFIX}abc123", SecretString=secret)
    with pytest.raises(CredentialsError) as caught:
        CredentialStore(client=client, prefix=PREFIX).get("abc123")
    assert "store abc123" in str(caught.value) and expected in str(caught.value)


class _Faulty:
    """A Secrets Manager client whose reads fail as AWS can make them fail."""

    def __init__(self, client: Any, error: Exception) -> None:
        self._client, self._error = client, error

    def get_secret_value(self, **_: Any) -> Any:
        raise self._error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _client_error(code: str, status: int) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "GetSecretValue")


@pytest.mark.parametrize(
    "fault",
    [_client_error("ThrottlingException", 400), _client_error("InternalServiceError", 500),
     ReadTimeoutError(endpoint_url="https://secretsmanager"), EndpointConnectionError(endpoint_url="https://secretsmanager")],
    ids=["throttled", "5xx", "read timeout", "no connection"],
)  # fmt: skip
def test_a_secret_read_aws_may_answer_next_time_is_transient_not_never_valid(aws: None, fault: Exception) -> None:
    client = boto3.client("secretsmanager", region_name=REGION)
    CredentialStore(client=client, prefix=PREFIX).put(credentials("abc123"))
    with pytest.raises(AwsUnavailableError, match=r"store abc123.*retried"):
        CredentialStore(client=_Faulty(client, fault), prefix=PREFIX).get("abc123")


def test_a_secret_aws_says_is_gone_is_never_valid(aws: None) -> None:
    client = boto3.client("secretsmanager", region_name=REGION)
    with pytest.raises(CredentialsError, match="ResourceNotFoundException"):
        CredentialStore(client=_Faulty(client, _client_error("ResourceNotFoundException", 400)), prefix=PREFIX).get(
            "abc123"
        )


# --- registry and fan-out --------------------------------------------------------------------------


def test_registry_lists_disables_and_names_unknown_stores(table: Any) -> None:
    registry = StoreRegistry(table)
    for store_hash in ("aaa111", "bbb222"):
        registry.put(StoreSettings(store_hash=store_hash))
    registry.set_enabled("bbb222", False)
    assert [s.store_hash for s in registry.list(enabled_only=True)] == ["aaa111"]
    with pytest.raises(StoreNotConnectedError, match="zzz999"):
        registry.get("zzz999")


def _stored_settings(table: Any, store_hash: str, settings: dict[str, Any]) -> None:
    """Settings as another release wrote them."""
    table.put_item(Item={"pk": "REGISTRY", "sk": f"STORE#{store_hash}", "store_hash": store_hash, "enabled": True,
                         "settings": json.dumps({"store_hash": store_hash, **settings})})  # fmt: skip


def test_settings_a_newer_release_wrote_are_read_after_a_rollback_and_its_fields_kept(table: Any) -> None:
    _stored_settings(table, "aaa111", {"hold_minutes": 30, "returns": {"refund": "resellable"}})
    registry = StoreRegistry(table)

    settings = registry.get("aaa111")
    registry.set_enabled("aaa111", False)  # this release writes them back

    assert (settings.hold_minutes, settings.unknown_fields) == (30, ["returns"])
    stored = json.loads(table.get_item(Key={"pk": "REGISTRY", "sk": "STORE#aaa111"})["Item"]["settings"])
    assert (stored["returns"], stored["enabled"], stored["hold_minutes"]) == ({"refund": "resellable"}, False, 30)
    assert [entry.store_hash for entry in registry.iter_valid(enabled_only=False)] == ["aaa111"]  # type: ignore[union-attr]


def test_a_known_field_that_does_not_validate_still_names_the_store_and_field(table: Any) -> None:
    _stored_settings(table, "aaa111", {"hold_minutes": -1})
    _stored_settings(table, "bbb222", {})
    table.put_item(Item={"pk": "REGISTRY", "sk": "STORE#ccc333", "store_hash": "ccc333", "settings": "[1]"})
    entries = list(StoreRegistry(table).iter_valid())
    problems = sorted(str(entry) for entry in entries if isinstance(entry, InvalidSettingsError))
    assert [p.split(":")[0] for p in problems] == ["store aaa111", "store ccc333"]
    assert "hold_minutes" in problems[0] and "not a JSON object" in problems[1]
    assert [e.store_hash for e in entries if isinstance(e, StoreSettings)] == ["bbb222"]


def test_a_change_is_still_checked_strictly(table: Any) -> None:
    settings = StoreSettings(store_hash="aaa111")
    with pytest.raises(ValidationError, match="colour"):
        settings.with_changes({"colour": "red"})


def test_a_schedule_tick_for_three_stores_queues_three_job_messages(table: Any) -> None:
    registry = StoreRegistry(table)
    for store_hash in ("aaa111", "bbb222", "ccc333"):
        registry.put(StoreSettings(store_hash=store_hash))
    registry.put(StoreSettings(store_hash="ddd444", enabled=False))
    table.put_item(  # settings written by an older version, no longer valid
        Item={
            "pk": "REGISTRY",
            "sk": "STORE#eee555",
            "store_hash": "eee555",
            "settings": '{"store_hash": "eee555", "api_reserve_ratio": 7}',
        }
    )
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]

    result = fan_out("order_import", registry, JobQueue(sqs, url))

    assert sorted(result.queued) == ["aaa111", "bbb222", "ccc333"]
    assert result.problems == ["store eee555: api_reserve_ratio: Input should be less than 1"]
    bodies = [JobMessage.model_validate_json(m["Body"]) for m in _drain(sqs, url)]
    assert sorted(m.store_hash for m in bodies) == ["aaa111", "bbb222", "ccc333"]
    assert {m.job for m in bodies} == {"order_import"}


def test_invalid_stored_settings_name_the_store_and_field(table: Any) -> None:
    table.put_item(
        Item={
            "pk": "REGISTRY",
            "sk": "STORE#eee555",
            "store_hash": "eee555",
            # A known field whose value does not validate (an unknown field is kept, never fatal: above).
            "settings": '{"store_hash": "eee555", "hold_minutes": "soon"}',
        }
    )
    with pytest.raises(InvalidSettingsError, match="store eee555: hold_minutes"):
        StoreRegistry(table).get("eee555")


# --- continuation ----------------------------------------------------------------------------------


@dataclass
class FakeDeadline:
    """The part of a Lambda context a job reads: the time left, set by the test as work "costs" it."""

    remaining_ms: int

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_a_job_cut_at_its_deadline_continues_from_its_checkpoint_and_does_nothing_twice(table: Any) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    state, queue = JobState(table), JobQueue(sqs, url)
    runner = JobRunner(state=state, queue=queue, clock=VirtualClock(), margin_seconds=20)
    done: list[int] = []
    deadline = FakeDeadline(remaining_ms=60_000)

    def step(context: JobContext) -> Continue | None:
        position = (context.checkpoint or {}).get("next", 0)
        while position < 25:
            if context.time_is_short():
                return Continue(checkpoint={"next": position})
            done.append(position)
            context.count("items")
            position += 1
            deadline.remaining_ms -= 4_000  # each item costs 4 s of the invocation
        return None

    first = runner.run(JobMessage(job="product_sync", store_hash="aaa111"), step, deadline)
    assert first.outcome == "continued" and first.figures == {"items": 10}
    follow_up = [JobMessage.model_validate_json(m["Body"]) for m in _drain(sqs, url)]
    assert [(m.trigger, m.continuation) for m in follow_up] == [("continuation", 1)]

    invocations = 1
    message = follow_up[0]
    while True:  # each re-queued message is a fresh invocation with a fresh deadline
        deadline.remaining_ms = 60_000
        invocations += 1
        run = runner.run(message, step, deadline)
        if run.outcome == "done":
            break
        message = JobMessage.model_validate_json(_drain(sqs, url)[0]["Body"])
    assert done == list(range(25))  # everything once, in order
    assert invocations == 3
    assert state.load_checkpoint("aaa111", "product_sync") is None
    last = state.last_run("aaa111", "product_sync")
    assert last is not None and last.outcome == "done"


def test_a_step_beside_a_paused_scan_leaves_the_scan_its_checkpoint(table: Any) -> None:
    """A product-deleted message runs while a sync is paused mid-catalog: the sync resumes where it was."""
    sqs = boto3.client("sqs", region_name=REGION)
    state = JobState(table)
    runner = JobRunner(
        state=state, queue=JobQueue(sqs, sqs.create_queue(QueueName="jobs")["QueueUrl"]), clock=VirtualClock()
    )
    deadline = FakeDeadline(remaining_ms=60_000)
    message = JobMessage(job="product_sync", store_hash="aaa111")
    seen: list[dict[str, Any] | None] = []

    def paused_scan(context: JobContext) -> Continue | None:
        seen.append(context.checkpoint)
        return None if context.checkpoint else Continue(checkpoint={"last_id": 500})

    def beside_the_scan(context: JobContext) -> Continue | None:
        context.leaves_checkpoint = True
        return None

    runner.run(message, paused_scan, deadline)
    assert runner.run(message, beside_the_scan, deadline).outcome == "done"
    runner.run(message, paused_scan, deadline)

    assert seen == [None, {"last_id": 500}]  # resumed from page 500, not from the start
    assert state.load_checkpoint("aaa111", "product_sync") is None  # and cleared once the scan is done


WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


def record_writes(table: Any) -> list[str]:
    """Every write call the table's client makes from now on, as `Operation sk` (DynamoDB bills each one)."""
    calls: list[str] = []

    def seen(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in WRITES:
            key = params.get("Key") or params.get("Item") or {}
            calls.append(f"{model.name} {key.get('sk', '')}")

    table.meta.client.meta.events.register("provide-client-params.dynamodb.*", seen)
    return calls


def test_a_run_with_nothing_to_resume_and_nothing_saved_deletes_no_checkpoint(table: Any) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    runner = JobRunner(
        state=JobState(table), queue=JobQueue(sqs, sqs.create_queue(QueueName="jobs")["QueueUrl"]), clock=VirtualClock()
    )
    message = JobMessage(job="inventory_push", store_hash="aaa111")
    writes = record_writes(table)

    assert runner.run(message, lambda context: None, FakeDeadline(remaining_ms=60_000)).outcome == "done"

    assert "DeleteItem CHECKPOINT" not in writes  # there was none: deleting it would cost a write unit anyway


def test_a_run_holds_its_lease_and_leaves_its_record_in_two_writes_of_one_item(table: Any) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    state = JobState(table)
    runner = JobRunner(
        state=state, queue=JobQueue(sqs, sqs.create_queue(QueueName="jobs")["QueueUrl"]), clock=VirtualClock()
    )
    message = JobMessage(job="inventory_push", store_hash="aaa111")
    writes = record_writes(table)

    def counts(context: JobContext) -> Continue | None:
        context.count("skus_pushed", 2)
        return None

    runner.run(message, counts, FakeDeadline(remaining_ms=60_000))

    assert writes == ["UpdateItem RUN", "UpdateItem RUN"]  # the lease taken; the record written, the lease let go
    last = state.last_run("aaa111", "inventory_push")
    assert last is not None and last.outcome == "done" and last.figures == {"skus_pushed": 2}
    assert runner.run(message, counts, FakeDeadline(remaining_ms=60_000)).outcome == "done"  # it was let go


def test_a_run_that_outlived_its_lease_leaves_the_record_to_the_run_that_took_it_over(table: Any) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    state, clock = JobState(table), VirtualClock()
    runner = JobRunner(state=state, queue=JobQueue(sqs, sqs.create_queue(QueueName="jobs")["QueueUrl"]), clock=clock)
    message = JobMessage(job="order_import", store_hash="aaa111")

    def newer(context: JobContext) -> Continue | None:
        context.count("orders_released", 3)
        return None

    def stalled(context: JobContext) -> Continue | None:
        clock.advance(61)  # past the lease's end (the deadline it was given): another run may take it over
        assert runner.run(message, newer, FakeDeadline(remaining_ms=60_000)).outcome == "done"
        context.count("orders_released", 1)
        return None

    assert runner.run(message, stalled, FakeDeadline(remaining_ms=60_000)).outcome == "done"

    last = state.last_run("aaa111", "order_import")
    assert last is not None and last.figures == {"orders_released": 3}  # the run that held the lease at the end


def test_a_second_run_of_one_stores_job_waits_for_the_first_instead_of_running_beside_it(table: Any) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    runner = JobRunner(state=JobState(table), queue=JobQueue(sqs, url), clock=VirtualClock())
    deadline = FakeDeadline(remaining_ms=60_000)
    message = JobMessage(job="order_import", store_hash="aaa111", trigger="webhook")
    ran: list[str] = []
    beside: list[str] = []

    def second(context: JobContext) -> Continue | None:
        ran.append("second")
        return None

    def first(context: JobContext) -> Continue | None:
        ran.append("first")
        # A webhook's message for the same store arrives while this run is still going.
        beside.append(runner.run(message, second, deadline).outcome)
        other_store = runner.run(message.model_copy(update={"store_hash": "bbb222"}), second, deadline)
        beside.append(other_store.outcome)
        return None

    assert runner.run(message, first, deadline).outcome == "done"

    assert ran == ["first", "second"] and beside == ["deferred", "done"]  # another store is never held up
    waiting = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert waiting["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"  # it comes back in 30 s
    assert runner.run(message, second, deadline).outcome == "done"  # and then runs: the lease was released
    assert ran == ["first", "second", "second"]


def test_a_spent_api_budget_requeues_with_a_delay_instead_of_sleeping(table: Any) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    clock = VirtualClock()
    runner = JobRunner(state=JobState(table), queue=JobQueue(sqs, url), clock=clock)

    def step(context: JobContext) -> Continue | None:
        raise BudgetExhaustedError("spent", store_hash="aaa111", retry_at=clock.now() + 25)

    run = runner.run(JobMessage(job="order_import", store_hash="aaa111"), step, FakeDeadline(600_000))
    assert run.outcome == "continued"
    assert any("API budget spent" in problem for problem in run.problems)
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"


def test_a_429_naming_no_reset_resumes_a_window_later_not_a_second_later(table: Any) -> None:
    # BigCommerce under load answers 429 without rate-limit headers: resuming a second later would meet the
    # same storm each second, at an invocation each.
    sqs = boto3.client("sqs", region_name=REGION)
    delays: list[float] = []

    class RecordingQueue(JobQueue):
        def send(self, message: JobMessage, *, delay_seconds: float = 0) -> None:
            delays.append(delay_seconds)
            super().send(message, delay_seconds=delay_seconds)

    clock = VirtualClock()
    queue = RecordingQueue(sqs, sqs.create_queue(QueueName="jobs")["QueueUrl"])
    runner = JobRunner(state=JobState(table), queue=queue, clock=clock)

    def step(context: JobContext) -> Continue | None:
        raise RateLimitedError("429", store_hash="aaa111", retry_after=None, retry_at=None)

    run = runner.run(JobMessage(job="order_import", store_hash="aaa111"), step, FakeDeadline(600_000))
    assert run.outcome == "continued"
    assert delays == [RATE_WINDOW_SECONDS]


# --- publishing ------------------------------------------------------------------------------------


@pytest.fixture
def bus(table: Any) -> tuple[Any, str]:
    """The bus and its default rule to a queue, as the template wires them."""
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    events.create_event_bus(Name="bcsync-bus")
    url = sqs.create_queue(QueueName="warehouse-outbound")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="default", EventBusName="bcsync-bus", EventPattern=json.dumps({"source": ["bcsync"]}))
    events.put_targets(Rule="default", EventBusName="bcsync-bus", Targets=[{"Id": "q", "Arn": arn}])
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="payloads")
    return events, url


def _publisher(table: Any, events: Any) -> EventPublisher:
    return EventPublisher(
        events=events,
        s3=boto3.client("s3", region_name=REGION),
        outbox=Outbox(table),
        bus_name="bcsync-bus",
        bucket="payloads",
        sleep=lambda _: None,
    )


def _event(order_id: int, data: dict[str, Any] | None = None) -> OutboundEvent:
    return OutboundEvent("Order Ready", "aaa111", order_key("aaa111", order_id, 1), data or {"order_id": order_id})


def test_published_events_reach_the_warehouse_queue_with_the_envelope(table: Any, bus: tuple[Any, str]) -> None:
    events, url = bus
    result = _publisher(table, events).publish([_event(1), _event(2)])
    assert result.published == ["order:aaa111:1:v1", "order:aaa111:2:v1"]
    details = [json.loads(m["Body"])["detail"] for m in _drain(boto3.client("sqs", region_name=REGION), url)]
    assert sorted(d["idempotency_key"] for d in details) == result.published
    # Order events are at schema version 3 (their data carries `hold`, prices, customs data...).
    assert all(d["schema_version"] == 3 and d["store_hash"] == "aaa111" and "occurred_at" in d for d in details)


class _EventBridgeLimits:
    """PutEvents as EventBridge takes it (moto takes more): ten entries at most, 256 KB together at most."""

    def __init__(self, events: Any) -> None:
        self._events = events
        self.requests: list[int] = []

    def put_events(self, *, Entries: list[dict[str, Any]]) -> Any:  # noqa: N803 - boto3's name
        size = sum(entry_size(entry) for entry in Entries)
        if len(Entries) > 10 or size > 256 * 1024:
            response: Any = {"Error": {"Code": "ValidationException", "Message": f"{size} bytes"}}
            raise ClientError(response, "PutEvents")
        self.requests.append(len(Entries))
        return self._events.put_events(Entries=Entries)


@pytest.mark.parametrize(
    ("orders", "kilobytes", "requests"), [(10, 90, [2, 2, 2, 2, 2]), (25, 1, [10, 10, 5]), (3, 127, [2, 1])]
)
def test_put_events_requests_stay_within_eventbridges_count_and_size(
    table: Any, bus: tuple[Any, str], orders: int, kilobytes: int, requests: list[int]
) -> None:
    events, url = bus
    limited = _EventBridgeLimits(events)
    batch = [_event(n, {"order_id": n, "lines": "x" * (kilobytes * 1000)}) for n in range(1, orders + 1)]
    result = _publisher(table, limited).publish(batch)
    assert limited.requests == requests
    assert len(result.published) == orders == len(_drain(boto3.client("sqs", region_name=REGION), url))


def test_an_already_published_key_is_not_sent_again(table: Any, bus: tuple[Any, str]) -> None:
    events, url = bus
    publisher = _publisher(table, events)
    publisher.publish([_event(1)])
    again = publisher.publish([_event(1)])
    assert again.published == [] and again.already_published == ["order:aaa111:1:v1"]
    assert len(_drain(boto3.client("sqs", region_name=REGION), url)) == 1


def test_offering_published_keys_again_costs_one_read_and_no_write(table: Any, bus: tuple[Any, str]) -> None:
    events, _ = bus
    publisher = _publisher(table, events)
    publisher.publish([_event(n) for n in range(1, 31)])
    calls: list[str] = []
    table.meta.client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))

    again = publisher.publish([_event(n) for n in range(1, 31)] + [_event(31)])  # a scan's overlap, and one new

    assert again.published == ["order:aaa111:31:v1"] and len(again.already_published) == 30
    # 30 refused conditional writes would each be billed as a write; one batch read is what they cost now.
    assert calls == ["BatchGetItem", "PutItem", "UpdateItem"]


class CrashAfterPending:
    """EventBridge unreachable right after the outbox write: the process dies there."""

    def put_events(self, **_: Any) -> Any:
        raise ConnectionError("crash between outbox-pending and publish")


def test_a_crash_between_outbox_pending_and_publish_republishes_with_the_same_key(
    table: Any, bus: tuple[Any, str]
) -> None:
    events, url = bus
    with pytest.raises(ConnectionError):
        _publisher(table, CrashAfterPending()).publish([_event(7)])
    assert Outbox(table).state("order:aaa111:7:v1") == "pending"
    result = _publisher(table, events).publish([_event(7)])  # the job's next run
    assert result.published == ["order:aaa111:7:v1"]
    keys = [
        json.loads(m["Body"])["detail"]["idempotency_key"] for m in _drain(boto3.client("sqs", region_name=REGION), url)
    ]
    assert keys == ["order:aaa111:7:v1"]


class RefusesOnce:
    """PutEvents that fails one entry the first time, as EventBridge may under throttling."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, []  # type: ignore[var-annotated]

    def put_events(self, Entries: list[Any]) -> Any:  # noqa: N803 - boto3's parameter name
        self.calls.append(len(Entries))
        if len(self.calls) == 1:
            sent = self.inner.put_events(Entries=Entries[1:])
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "ThrottlingException"}, *sent["Entries"]]}
        return self.inner.put_events(Entries=Entries)


def test_only_the_refused_entry_is_sent_again(table: Any, bus: tuple[Any, str]) -> None:
    events, url = bus
    flaky = RefusesOnce(events)
    result = _publisher(table, flaky).publish([_event(1), _event(2), _event(3)])
    assert flaky.calls == [3, 1]
    assert sorted(result.published) == ["order:aaa111:1:v1", "order:aaa111:2:v1", "order:aaa111:3:v1"]
    assert len(_drain(boto3.client("sqs", region_name=REGION), url)) == 3


class AlwaysRefuses:
    def put_events(self, Entries: list[Any]) -> Any:  # noqa: N803
        return {"FailedEntryCount": len(Entries), "Entries": [{"ErrorCode": "InternalFailure"} for _ in Entries]}


def test_entries_refused_every_time_stay_pending_and_are_named(table: Any, bus: tuple[Any, str]) -> None:
    with pytest.raises(PublishError) as caught:
        _publisher(table, AlwaysRefuses()).publish([_event(4)])
    assert caught.value.failed_keys == ["order:aaa111:4:v1"]
    assert Outbox(table).state("order:aaa111:4:v1") == "pending"


def test_a_large_event_goes_to_s3_and_the_event_carries_a_pointer(table: Any, bus: tuple[Any, str]) -> None:
    events, url = bus
    big = {"order_id": 9, "lines": ["x" * 1000] * (CLAIM_CHECK_BYTES // 1000 + 10)}
    result = _publisher(table, events).publish([_event(9, big)])
    assert result.claim_checked == ["order:aaa111:9:v1"]
    detail = json.loads(_drain(boto3.client("sqs", region_name=REGION), url)[0]["Body"])["detail"]
    assert "data" not in detail
    ref = detail["data_ref"]
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=ref["bucket"], Key=ref["key"])["Body"].read()
    assert json.loads(body) == big


# --- dead letters ----------------------------------------------------------------------------------


def test_a_message_that_can_never_succeed_lands_in_the_dlq_with_its_reason(aws: None) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.create_queue(QueueName="shipments-dlq")["QueueUrl"]
    dead_letter(
        sqs, dlq_url=dlq, body='{"type": "Nonsense"}', source_message_id="m-1", reason="unknown type 'Nonsense'"
    )
    message = sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"])["Messages"][0]
    assert message["Body"] == '{"type": "Nonsense"}'
    assert message["MessageAttributes"][REASON_ATTRIBUTE]["StringValue"] == "unknown type 'Nonsense'"
    assert message["MessageAttributes"][SOURCE_ID_ATTRIBUTE]["StringValue"] == "m-1"


def _drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return messages
        messages += batch
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_removing_a_store_finds_the_outbox_rows_of_every_kind_of_event_it_published(table: Any) -> None:
    from bcsync.cli.remove import owned_keys
    from bcsync.store import keys

    kinds = ["order", "product", "shipment", "stock", "return", "refund", "fulfilment"]
    for store_hash in ("abc123", "other9"):
        for kind in kinds:
            table.put_item(Item=keys.outbox_row(f"{kind}:{store_hash}:x:1"))
    found = {item["pk"] for item in owned_keys(table, "abc123")}
    assert found == {keys.outbox_row(f"{kind}:abc123:x:1")["pk"] for kind in kinds}
