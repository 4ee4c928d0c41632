"""The local runtime behaves as AWS would for bcsync: resources, SQS semantics, bus rules, cuts."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext as PowertoolsContext

from bcsync.backbone import cutpoints
from bcsync.store.outbox import Outbox
from bcsync.warehouse.events import EventPublisher, OutboundEvent, order_key
from bigcommerce_client import VirtualClock
from local_runtime import LocalDeployment
from local_runtime.invoke import LambdaContext
from local_runtime.schedules import fire_schedules, rate_seconds
from local_runtime.usage import AwsUsage
from tests.aws import drain


def test_every_resource_of_the_expanded_template_is_created_or_named_as_not_emulated(
    local_stack: LocalDeployment,
) -> None:
    resources = local_stack.template["Resources"]
    accounted = set(local_stack.created) | set(local_stack.not_emulated) | local_stack.skipped_by_condition
    assert accounted == set(resources)
    assert all(reason for reason in local_stack.not_emulated.values())
    inventory = local_stack.inventory()
    for logical, kind in local_stack.created.items():
        physical = local_stack.physical[logical]["Ref"]
        assert physical in inventory[kind], f"{logical} ({kind}) is not in moto"
    created_by_kind = {kind: sum(1 for k in local_stack.created.values() if k == kind) for kind in inventory}
    assert created_by_kind == {kind: len(names) for kind, names in inventory.items()}, "moto holds extra resources"


def test_a_resource_the_runtime_neither_creates_nor_names_stops_the_deployment(local_stack: LocalDeployment) -> None:
    cache = {"Type": "AWS::ElastiCache::CacheCluster", "Properties": {"Engine": "redis"}}
    local_stack.template = {**local_stack.template, "Resources": {**local_stack.template["Resources"], "Cache": cache}}
    with pytest.raises(RuntimeError, match=r"Cache: the local runtime cannot create AWS::ElastiCache::CacheCluster"):
        local_stack.reset()


def test_a_conditional_resource_follows_its_parameter(local_stack: LocalDeployment) -> None:
    assert "AlarmEmailSubscription" in local_stack.skipped_by_condition
    local_stack.redeploy({"AlarmEmail": "ops@example.com"})
    assert "AlarmEmailSubscription" in local_stack.created
    assert local_stack.inventory()["AWS::SNS::Subscription"]


def _publisher(stack: LocalDeployment) -> EventPublisher:
    env = stack.environment()
    return EventPublisher(
        events=stack.client("events"),
        s3=stack.client("s3"),
        outbox=Outbox(stack.resource("dynamodb").Table(env["BCSYNC_STATE_TABLE"])),
        bus_name=env["BCSYNC_EVENT_BUS"],
        bucket=env["BCSYNC_PAYLOAD_BUCKET"],
        sleep=lambda _: None,
    )


def test_bus_events_reach_the_warehouse_queue_through_the_templates_rule(local_stack: LocalDeployment) -> None:
    _publisher(local_stack).publish(
        [OutboundEvent("Order Ready", "abc123", order_key("abc123", 1, 1), {"order_id": 1})]
    )
    events = drain(local_stack, "WarehouseOutbound")
    assert [(e["source"], e["detail-type"], e["detail"]["idempotency_key"]) for e in events] == [
        ("bcsync", "Order Ready", "order:abc123:1:v1")
    ]


def _handler_publishing(stack: LocalDeployment) -> Any:
    """A handler in the Powertools style: BatchProcessor, one publish per record."""
    processor = BatchProcessor(event_type=EventType.SQS)
    publisher = _publisher(stack)

    def record_handler(record: SQSRecord) -> None:
        order_id = int(json.loads(record.body)["order_id"])
        publisher.publish(
            [OutboundEvent("Order Ready", "abc123", order_key("abc123", order_id, 1), {"order_id": order_id})]
        )

    def handler(event: dict[str, Any], context: LambdaContext) -> Any:
        return process_partial_response(
            event=event,
            record_handler=record_handler,
            processor=processor,
            context=cast(PowertoolsContext, context),  # the local context has every attribute Powertools reads
        )

    return handler


def _send(stack: LocalDeployment, logical: str, bodies: list[dict[str, Any]]) -> None:
    sqs = stack.client("sqs")
    for body in bodies:
        sqs.send_message(QueueUrl=stack.physical[logical]["Ref"], MessageBody=json.dumps(body))


@pytest.mark.parametrize(
    ("point", "raw_duplicates"), [(cutpoints.AFTER_OUTBOX_PENDING, 0), (cutpoints.AFTER_PUBLISH, 1)]
)
def test_a_crash_is_redelivered_and_republished_with_the_same_key(
    local_stack: LocalDeployment, point: str, raw_duplicates: int
) -> None:
    _send(local_stack, "OrderImportJobs", [{"order_id": 5}])
    with local_stack.cut_at(point) as hits:
        report = local_stack.deliver_sqs("OrderImportJobs", _handler_publishing(local_stack))
    assert hits == [point] and report.cut == 1 and report.delivered == 1
    keys = [e["detail"]["idempotency_key"] for e in drain(local_stack, "WarehouseOutbound")]
    assert set(keys) == {"order:abc123:5:v1"}  # nothing lost
    assert len(keys) - len(set(keys)) == raw_duplicates  # a republish only when the crash followed PutEvents


def test_a_failing_record_is_retried_then_dead_lettered_while_the_others_succeed(local_stack: LocalDeployment) -> None:
    _send(local_stack, "OrderImportJobs", [{"order_id": 1}, {"order_id": "not a number"}, {"order_id": 2}])
    report = local_stack.deliver_sqs("OrderImportJobs", _handler_publishing(local_stack))
    assert report.delivered == 2
    assert report.failed == 5  # maxReceiveCount in template.yaml
    dead = drain(local_stack, "OrderImportJobsDLQ")
    assert dead == [{"order_id": "not a number"}]
    assert sorted(e["detail"]["data"]["order_id"] for e in drain(local_stack, "WarehouseOutbound")) == [1, 2]


def test_duplicated_and_reordered_deliveries_still_publish_each_key_once_after_dedupe(
    local_stack: LocalDeployment,
) -> None:
    _send(local_stack, "OrderImportJobs", [{"order_id": n} for n in range(20)])
    report = local_stack.deliver_sqs(
        "OrderImportJobs", _handler_publishing(local_stack), duplicate_rate=0.5, reorder=True, seed=3
    )
    assert report.duplicates_sent > 0
    keys = [e["detail"]["idempotency_key"] for e in drain(local_stack, "WarehouseOutbound")]
    assert sorted(set(keys)) == sorted(order_key("abc123", n, 1) for n in range(20))
    assert len(keys) == 20  # the outbox drops keys already published: no raw duplicate


def test_the_lambda_context_deadline_runs_on_the_injected_clock(
    local_stack: LocalDeployment, clock: VirtualClock
) -> None:
    context = local_stack.context("order-import", timeout_seconds=120)
    clock.advance(100)
    assert context.get_remaining_time_in_millis() == 20_000


def test_a_delayed_message_waits_for_the_runtimes_clock_not_the_wall_clock(
    local_stack: LocalDeployment, clock: VirtualClock
) -> None:
    sqs, url = local_stack.client("sqs"), local_stack.physical["OrderImportJobs"]["Ref"]
    sqs.send_message(QueueUrl=url, MessageBody='{"due": "later"}', DelaySeconds=300)
    sqs.send_message(QueueUrl=url, MessageBody='{"due": "now"}')

    assert drain(local_stack, "OrderImportJobs") == [{"due": "now"}]
    clock.advance(299)
    assert drain(local_stack, "OrderImportJobs") == []
    clock.advance(1)  # five minutes that took no time at all
    assert drain(local_stack, "OrderImportJobs") == [{"due": "later"}]


def test_schedules_fire_from_the_clock(local_stack: LocalDeployment) -> None:
    assert rate_seconds("rate(5 minutes)") == 300
    assert rate_seconds("rate(1 day)") == 86_400
    assert rate_seconds("cron(0 3 * * ? *)") == 86_400
    with pytest.raises(ValueError, match="rate"):
        rate_seconds("cron(0/5 * * * ? *)")
    local_stack.template = {
        **local_stack.template,
        "Resources": {
            "Tick": {"Type": "AWS::Events::Rule", "Properties": {"ScheduleExpression": "rate(5 minutes)"}},
        },
    }
    assert local_stack.due_schedules(0, 900) == [("Tick", 300), ("Tick", 600), ("Tick", 900)]


def test_a_schedule_tick_invokes_its_target_with_the_targets_input(
    local_stack: LocalDeployment, clock: VirtualClock
) -> None:
    local_stack.template = {
        **local_stack.template,
        "Resources": {
            "OrderImportTick": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "ScheduleExpression": "rate(5 minutes)",
                    "Targets": [{"Id": "OrderImportFunction", "Input": '{"job": "order_import"}'}],
                },
            },
            "NightlyTick": {
                "Type": "AWS::Events::Rule",
                "Properties": {"ScheduleExpression": "rate(1 day)", "Targets": [{"Id": "ProductSyncFunction"}]},
            },
        },
    }
    calls: list[tuple[str, Any, int]] = []
    start = clock.now()
    clock.advance(600)
    fired = fire_schedules(
        local_stack,
        start,
        clock.now(),
        lambda target, event, ctx: calls.append((target, event, ctx.get_remaining_time_in_millis())),
    )
    assert [rule for rule, _ in fired] == ["OrderImportTick", "OrderImportTick"]
    assert [(target, event) for target, event, _ in calls] == [("OrderImportFunction", {"job": "order_import"})] * 2
    clock.advance(86_400)
    fire_schedules(local_stack, start + 600, clock.now(), lambda target, event, ctx: calls.append((target, event, 0)))
    nightly = [event for target, event, _ in calls if target == "ProductSyncFunction"]
    assert len(nightly) == 1 and nightly[0]["detail-type"] == "Scheduled Event"


def test_a_functions_handler_is_imported_from_its_code_uri_once_per_stack(local_stack: LocalDeployment) -> None:
    local_stack.template = {
        **local_stack.template,
        "Resources": {
            "EchoFunction": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Code": {"S3Bucket": "bcsync-local-artifacts", "S3Key": "tests/e2e/fixture_function"},
                    "Handler": "app.handler",
                },
            }
        },
    }
    handler = local_stack.load_handler("EchoFunction")
    first = handler({"n": 1}, local_stack.context("EchoFunction"))
    second = local_stack.load_handler("EchoFunction")({"n": 2}, local_stack.context("EchoFunction"))
    assert first["state_table"] == local_stack.environment()["BCSYNC_STATE_TABLE"]  # configured at cold start
    assert second == {**second, "echo": {"n": 2}, "invocations": 2}  # one warm module, as one Lambda container


def test_the_usage_meter_counts_what_aws_would_bill(local_stack: LocalDeployment, clock: VirtualClock) -> None:
    usage = AwsUsage()
    local_stack.observe_aws(usage.observe)
    table = local_stack.resource("dynamodb").Table(local_stack.environment()["BCSYNC_STATE_TABLE"])
    sqs, url = local_stack.client("sqs"), local_stack.physical["OrderImportJobs"]["Ref"]

    table.put_item(Item={"pk": "usage", "sk": "big", "blob": "x" * 2_500})  # 2.5 KB: three write units
    sqs.receive_message(QueueUrl=url)  # nothing there: a poller's idle cost, not this run's
    _publisher(local_stack).publish(
        [OutboundEvent("Order Ready", "abc123", order_key("abc123", n, 1), {"order_id": n}) for n in (1, 2)]
    )
    handler = local_stack.load_handler("OrderImportFunction")
    handler({"action": "tick"}, local_stack.context("OrderImportFunction"))
    local_stack.unobserve_aws(usage.observe)
    bill = usage.bill(local_stack.invocations)

    assert usage.dynamodb_write_units >= 3
    assert usage.empty_receives == 1
    assert usage.events == 2  # and EventBridge's two deliveries to the warehouse queue are SQS requests
    assert usage.sqs_requests >= 2
    [invocation] = local_stack.invocations
    memory = int(local_stack.template["Resources"]["OrderImportFunction"]["Properties"]["MemorySize"])
    assert (invocation.function, invocation.memory_mb) == ("OrderImportFunction", memory)  # the template's
    assert bill["counted"]["invocations"] == 1 and bill["core_usd"]["lambda"] > 0
    assert bill["core_total_usd"] == pytest.approx(sum(bill["core_usd"].values()))
