"""A schedule tick through the backbone: fan-out, the shared job consumer, bad stores beside good ones."""

from __future__ import annotations

import io

from bcsync.backbone.consumer import build_job_consumer
from bcsync.backbone.fan_out import fan_out
from bcsync.backbone.messages import JobMessage, JobQueue
from bcsync.backbone.runner import Continue, JobContext, JobStep
from bcsync.cli import main as bcsync_cli
from bcsync.settings import RuntimeConfig
from bcsync.store.jobs import JobState
from bcsync.store.registry import StoreRegistry
from bcsync.store.settings import StoreSettings
from bigcommerce_client import BigCommerceClient, VirtualClock
from bigcommerce_sandbox import Sandbox, seed_catalog
from local_runtime import LocalDeployment
from tests.aws import reason_of
from tests.conftest import KNOWN_TOKENS


def connect(store_hash: str, token: str) -> None:
    KNOWN_TOKENS.add(token)
    assert bcsync_cli(["stores", "connect", store_hash], stdin=io.StringIO(token), out=io.StringIO()) == 0


def counting_products(settings: StoreSettings, client: BigCommerceClient) -> JobStep:
    def step(context: JobContext) -> Continue | None:
        for _ in client.iter_products(limit=10):
            context.count("products")
        return None

    return step


def test_a_tick_runs_each_good_store_and_dead_letters_each_bad_one_with_its_reason(
    local_world: tuple[LocalDeployment, Sandbox], clock: VirtualClock
) -> None:
    stack, sandbox = local_world
    for store_hash, products in (("aaa111", 12), ("bbb222", 25)):
        seed_catalog(sandbox.add_store(store_hash, token=f"tok-{store_hash}-9x"), products=products)
        connect(store_hash, f"tok-{store_hash}-9x")
    table = stack.resource("dynamodb").Table(stack.environment()["BCSYNC_STATE_TABLE"])
    registry = StoreRegistry(table)
    registry.put(StoreSettings(store_hash="ccc333"))  # connected long ago; its secret was since broken
    stack.client("secretsmanager").create_secret(
        Name=stack.credentials().name("ccc333"), SecretString='{"store_hash": "ccc333"}'
    )
    registry.put(StoreSettings(store_hash="ddd444", enabled=False))
    sqs = stack.client("sqs")
    queue = JobQueue(sqs, stack.physical["ProductSyncJobs"]["Ref"])

    tick = fan_out("product_sync", registry, queue)
    queue.send(JobMessage(job="product_sync", store_hash="zzz999"))  # a store nobody connected
    sqs.send_message(QueueUrl=stack.physical["ProductSyncJobs"]["Ref"], MessageBody='{"job": "dance"}')

    assert sorted(tick.queued) == ["aaa111", "bbb222", "ccc333"]
    consumer = build_job_consumer(
        "product_sync", config=RuntimeConfig.from_env(), step_factory=counting_products, clock=clock
    )
    report = stack.deliver_sqs("ProductSyncJobs", consumer.handle)  # type: ignore[arg-type]

    assert report.failed == 0 and report.delivered == 5
    runs = {h: JobState(table).last_run(h, "product_sync") for h in ("aaa111", "bbb222", "ccc333", "ddd444")}
    figures = {
        h: {k: v for k, v in (run.figures if run else {}).items() if k != "duration_seconds"} for h, run in runs.items()
    }
    assert runs["aaa111"] is not None and figures["aaa111"] == {
        "products": 13,
        "bigcommerce_calls": 2,
        "bigcommerce_429s": 0,
    }  # 12 + the bundle
    assert runs["bbb222"] is not None and figures["bbb222"] == {
        "products": 26,
        "bigcommerce_calls": 3,
        "bigcommerce_429s": 0,
    }  # pages of 10
    assert runs["ccc333"] is None and runs["ddd444"] is None
    reasons = sorted(_dead_letter_reasons(stack))
    assert reasons == [
        "not a job message (invalid: job, store_hash)",
        f"store ccc333: secret {stack.credentials().name('ccc333')} lacks or has an invalid access_token, client_id, webhook_secret",
        "store zzz999 is not connected (run `bcsync stores connect`)",
    ]


def _dead_letter_reasons(stack: LocalDeployment) -> list[str]:
    return [reason_of(message) for message in stack.take_messages("ProductSyncJobsDLQ")]


def test_order_import_ticks_every_minute_and_each_store_runs_at_its_own_interval(
    local_world: tuple[LocalDeployment, Sandbox], clock: VirtualClock
) -> None:
    stack, _ = local_world
    registry = StoreRegistry(stack.resource("dynamodb").Table(stack.environment()["BCSYNC_STATE_TABLE"]))
    registry.put(StoreSettings(store_hash="aaa111"))  # the default: every 5 minutes
    registry.put(StoreSettings(store_hash="bbb222", schedule_minutes={"order_import": 1}))
    registry.put(StoreSettings(store_hash="ccc333", schedule_minutes={"order_import": 2}))
    tick = stack.load_handler("OrderImportFunction")
    fired = stack.due_schedules(clock.now(), clock.now() + 600)
    assert [rule for rule, _ in fired if rule.startswith("OrderImport")] == ["OrderImportFunctionScanTick"] * 10

    queued: dict[str, int] = {}
    for _ in range(10):  # ten minutes of ticks
        for store_hash in tick({"action": "tick"}, stack.context("OrderImportFunction"))["queued"]:
            queued[store_hash] = queued.get(store_hash, 0) + 1
        clock.advance(60)

    assert queued == {"aaa111": 2, "bbb222": 10, "ccc333": 5}
