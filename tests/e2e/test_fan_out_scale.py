"""A schedule tick costs what the stores that are due cost, and no store loses its turns.

Through the local runtime: order import's tick (every minute) over stores on their own intervals, what it
wrote as DynamoDB bills it (`AwsUsage`), and every way a store comes into the schedule or leaves it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bcsync.store.credentials import StoreCredentials
from bcsync.store.registry import StoreRegistry
from bcsync.store.settings import StoreSettings
from bcsync.store.turns import ScheduledTurns
from bigcommerce_client import VirtualClock
from bigcommerce_sandbox import Fault, Sandbox, SandboxStore, add_order, seed_catalog
from local_runtime import LocalDeployment
from local_runtime.usage import AwsUsage
from tests.aws import drain, reason_of
from tests.conftest import KNOWN_TOKENS

World = tuple[LocalDeployment, Sandbox]


def _table(stack: LocalDeployment) -> Any:
    return stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])


def _tick(stack: LocalDeployment) -> dict[str, Any]:
    result: dict[str, Any] = stack.load_handler("OrderImportFunction")(
        {"action": "tick"}, stack.context("OrderImportFunction")
    )
    return result


def _queued(stack: LocalDeployment) -> list[str]:
    """The stores whose order import job message is on the queue (taken off it)."""
    return sorted(json.loads(m["Body"])["store_hash"] for m in stack.take_messages("OrderImportJobs"))


def test_a_tick_writes_only_for_the_stores_that_are_due(local_stack: LocalDeployment, clock: VirtualClock) -> None:
    stack = local_stack
    registry = StoreRegistry(_table(stack))
    every_minute = [f"min{n:03d}" for n in range(3)]
    for store_hash in every_minute:
        registry.put(StoreSettings(store_hash=store_hash, schedule_minutes={"order_import": 1}))
    for n in range(7):  # the default: every 5 minutes
        registry.put(StoreSettings(store_hash=f"five{n:03d}"))
    registry.put(StoreSettings(store_hash="off0000", enabled=False))
    registry.put(StoreSettings(store_hash="noimp00", order_import_enabled=False))
    assert len(_tick(stack)["queued"]) == 10  # every enabled store's first turn
    _queued(stack)
    clock.advance(60)

    usage = AwsUsage()
    stack.observe_aws(usage.observe)
    try:
        result = _tick(stack)
    finally:
        stack.unobserve_aws(usage.observe)

    assert sorted(result["queued"]) == every_minute == _queued(stack)
    # One conditional write per store due; the 7 not due, the disabled one and the one with order import off: none.
    assert usage.dynamodb_write_units <= len(every_minute) + 1, usage.write_units_by_operation
    assert usage.dynamodb_read_units <= 1, usage.operations


def _old_row(settings: StoreSettings) -> dict[str, Any]:
    """A registry row as an earlier release wrote it: no turns."""
    return {
        "pk": "REGISTRY",
        "sk": f"STORE#{settings.store_hash}",
        "store_hash": settings.store_hash,
        "enabled": settings.enabled,
        "settings": settings.to_stored(),
    }


def test_stores_connected_before_turns_existed_get_theirs_at_the_first_tick(
    local_stack: LocalDeployment, clock: VirtualClock
) -> None:
    stack = local_stack
    table = _table(stack)
    for settings in (StoreSettings(store_hash="old111"), StoreSettings(store_hash="old222", enabled=False)):
        table.put_item(Item=_old_row(settings))
    table.put_item(  # settings no longer valid: reported by name, the others still go
        Item={"pk": "REGISTRY", "sk": "STORE#bad333", "store_hash": "bad333", "settings": '{"hold_minutes": "soon"}'}
    )

    first = _tick(stack)

    # The broken store's message goes on: its consumer dead-letters it with what is wrong.
    assert sorted(first["queued"]) == ["bad333", "old111"] == _queued(stack)
    assert [problem.split(":")[0] for problem in first["problems"]] == ["store bad333"]
    clock.advance(60)
    assert _tick(stack) == {"queued": [], "problems": []}  # its next turn is in 5 minutes; checked once a day
    clock.advance(4 * 60)
    assert sorted(_tick(stack)["queued"]) == ["bad333", "old111"]

    # An earlier release, still running somewhere, enables old222 without a word to its turn: a day later
    # the tick's check of the turns against the registry gives it its turns.
    table.put_item(Item=_old_row(StoreSettings(store_hash="old222")))
    clock.advance(86_400)
    assert sorted(_tick(stack)["queued"]) == ["bad333", "old111", "old222"]


def test_a_store_connected_enabled_rescheduled_or_switched_on_runs_at_the_next_tick(
    local_stack: LocalDeployment, clock: VirtualClock
) -> None:
    stack = local_stack
    registry = StoreRegistry(_table(stack))
    registry.put(StoreSettings(store_hash="hourly1", schedule_minutes={"order_import": 60}))
    registry.put(StoreSettings(store_hash="paused2", enabled=False))
    registry.put(StoreSettings(store_hash="noimp33", order_import_enabled=False))
    assert _tick(stack)["queued"] == ["hourly1"]
    clock.advance(60)
    assert _tick(stack)["queued"] == []

    registry.put(StoreSettings(store_hash="new4444"))  # connected after the turns were reconciled
    registry.set_enabled("paused2", True)
    registry.put(StoreSettings(store_hash="noimp33"))  # order import switched back on
    registry.put(StoreSettings(store_hash="hourly1", schedule_minutes={"order_import": 1}))
    clock.advance(60)

    assert sorted(_tick(stack)["queued"]) == ["hourly1", "new4444", "noimp33", "paused2"]
    clock.advance(60)
    assert _tick(stack)["queued"] == ["hourly1"]  # now every minute, the others in 5

    registry.put(StoreSettings(store_hash="hourly1", schedule_minutes={"order_import": 1}, hold_minutes=30))
    clock.advance(10)
    assert _tick(stack)["queued"] == []  # a change that is not about the schedule runs nothing early
    registry.set_enabled("new4444", False)
    registry.put(StoreSettings(store_hash="noimp33", order_import_enabled=False))
    clock.advance(5 * 60)
    assert sorted(_tick(stack)["queued"]) == ["hourly1", "paused2"]


def test_two_ticks_at_once_queue_each_due_store_once(local_stack: LocalDeployment, clock: VirtualClock) -> None:
    stack = local_stack
    table = _table(stack)
    registry = StoreRegistry(table)
    for store_hash in ("twin111", "twin222", "twin333"):
        registry.put(StoreSettings(store_hash=store_hash))
    turns = ScheduledTurns(table)
    turns.reconcile("order_import", registry.entries(consistent=True), now=clock.now())

    # Both read every turn as due before either claims one (EventBridge delivered the tick twice).
    first, second = list(turns.due("order_import", now=clock.now())), list(turns.due("order_import", now=clock.now()))
    won = [turn.store_hash for turn in first if turns.claim("order_import", turn, now=clock.now()) is not None]
    also = [turn.store_hash for turn in second if turns.claim("order_import", turn, now=clock.now()) is not None]

    assert (sorted(won), also) == (["twin111", "twin222", "twin333"], [])


def test_a_jobs_nightly_tick_runs_every_active_store_whatever_its_regular_tick_booked(
    local_stack: LocalDeployment, clock: VirtualClock
) -> None:
    # Product sync's delta tick claims the store's hourly turn; the nightly full sync of the same job must not
    # find it taken (it would be skipped night after night), nor run a store that is disabled.
    stack = local_stack
    registry = StoreRegistry(_table(stack))
    registry.put(StoreSettings(store_hash="night11", schedule_minutes={"product_sync": 60}))
    registry.put(StoreSettings(store_hash="night22", enabled=False))
    handler = stack.load_handler("ProductSyncFunction")
    context = stack.context("ProductSyncFunction")

    assert handler({"action": "tick", "mode": "delta"}, context)["queued"] == ["night11"]
    assert handler({"action": "tick", "mode": "delta"}, context)["queued"] == []  # its hour has not passed
    assert handler({"action": "tick", "mode": "full"}, context)["queued"] == ["night11"]
    options = [json.loads(m["Body"])["options"] for m in stack.take_messages("ProductSyncJobs")]
    assert sorted(o.get("mode", "") for o in options) == ["delta", "full"]


def test_a_store_whose_turn_cannot_be_written_is_not_enabled_behind_its_turns_back(
    local_stack: LocalDeployment,
) -> None:
    # The settings and the turns are two writes: enabling a store writes its turns first, so a failure leaves
    # the store disabled (the operator sees the error and tries again), never enabled with no scheduled run.
    table = _table(local_stack)
    StoreRegistry(table).put(StoreSettings(store_hash="gap1111", enabled=False))

    class TurnsRefused:
        """The state table, except that a write of a turn fails (throttled, a crash, an old CLI's gap)."""

        def __getattr__(self, name: str) -> Any:
            return getattr(table, name)

        def put_item(self, **request: Any) -> Any:
            if str(request["Item"]["pk"]).startswith("TURNS#"):
                raise RuntimeError("the turn's write failed")
            return table.put_item(**request)

    with pytest.raises(RuntimeError, match="turn's write failed"):
        StoreRegistry(TurnsRefused()).put(StoreSettings(store_hash="gap1111"))  # type: ignore[arg-type]

    assert StoreRegistry(table).get("gap1111").enabled is False


# --- one store's trouble delays no other ------------------------------------------------------------------


def _store(world: World, store_hash: str) -> SandboxStore:
    """A store in the sandbox and in the stack (its secret and settings), as `stores connect` leaves it."""
    stack, sandbox = world
    token = f"tok-{store_hash}-5ecret"
    KNOWN_TOKENS.add(token)
    store = sandbox.add_store(store_hash, token=token)
    seed_catalog(store, products=1, variants_per_product=1)
    stack.credentials().put(
        StoreCredentials.model_validate(
            {"store_hash": store_hash, "client_id": "cid", "access_token": token, "webhook_secret": "whs-123456"}
        )
    )
    StoreRegistry(_table(stack)).put(StoreSettings(store_hash=store_hash))
    return store


def _paid_order(store: SandboxStore) -> int:
    product = next(p for p in store.products.values() if p["is_visible"])
    return add_order(store, lines=[(product, product["variants"][0], 1)])


def test_one_batch_runs_the_good_stores_and_sets_each_troubled_one_aside(
    local_world: World, clock: VirtualClock
) -> None:
    stack, sandbox = local_world
    # The troubled stores sort first: their messages come before the good ones' in the batch.
    good = {h: _store(local_world, h) for h in ("zgood11", "zgood22")}
    spent, limited = _store(local_world, "aspent1"), _store(local_world, "alimit2")
    storm = _store(local_world, "abare33")
    for h in ("anojson", "anotok4"):
        _store(local_world, h)
    orders = {h: _paid_order(store) for h, store in good.items()}
    _paid_order(spent), _paid_order(limited), _paid_order(storm)
    spent.rate.consume_elsewhere(spent.quota)  # the store's other apps spent this window
    sandbox.faults["alimit2"].queue(Fault.RATE_LIMIT, times=1_000)  # every request answered 429
    sandbox.faults["abare33"].queue(Fault.RATE_LIMIT_BARE, times=1_000)  # 429s naming no reset: platform load
    secrets = stack.client("secretsmanager")
    secrets.put_secret_value(SecretId=stack.credentials().name("anojson"), SecretString="{not json")
    secrets.put_secret_value(
        SecretId=stack.credentials().name("anotok4"),
        SecretString=json.dumps({"store_hash": "anotok4", "client_id": "cid", "webhook_secret": "whs-123456"}),
    )
    handler = stack.load_handler("OrderImportFunction")
    assert len(handler({"action": "tick"}, stack.context("OrderImportFunction"))["queued"]) == 7  # one batch
    stack.invocations.clear()

    stack.deliver_sqs("OrderImportJobs", handler, max_invocations=1)

    [invocation] = stack.invocations
    # Waiting in place for a spent window or a 429's reset would take up to `max_wait_seconds` a store; the
    # storm of 429s without a reset is ridden out in place for at most that second, then set aside too.
    assert invocation.clock_seconds < 1.5
    published = sorted(
        (e["detail"]["store_hash"], e["detail"]["data"]["order_id"]) for e in drain(stack, "WarehouseOutbound")
    )
    assert published == sorted(orders.items())  # the good stores' orders, from that same invocation
    assert sorted(reason_of(m) for m in stack.take_messages("OrderImportJobsDLQ")) == [
        "store anojson: secret bcsync/bcsync-local/stores/anojson is not JSON",
        "store anotok4: secret bcsync/bcsync-local/stores/anotok4 lacks or has an invalid access_token",
    ]
    # The budget-bound ones are back on the queue, delayed until their window resets (30 s; the storm's names
    # no reset: a window's length).
    assert stack.take_messages("OrderImportJobs") == []
    clock.advance(31)
    again = [json.loads(m["Body"]) for m in stack.take_messages("OrderImportJobs")]
    assert sorted((m["store_hash"], m["trigger"]) for m in again) == [
        ("abare33", "continuation"),
        ("alimit2", "continuation"),
        ("aspent1", "continuation"),
    ]
