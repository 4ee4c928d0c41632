"""Webhooks end to end: the sandbox fires at the local HTTP API (https), the real receiver marks jobs due."""

from __future__ import annotations

import io
import json
import os
from typing import Any

import pytest
import requests

from bcsync.backbone.messages import JobMessage
from bcsync.cli import main as bcsync_cli
from bcsync.webhooks.receiver import HOOK_SCOPES, MAX_BODY_BYTES, SECRET_HEADER
from bigcommerce_sandbox import Sandbox, SandboxStore, add_order, seed_catalog
from bigcommerce_sandbox.webhooks import payload
from local_runtime import LocalDeployment
from local_runtime.schedules import fire_schedules
from tests.aws import drain
from tests.conftest import KNOWN_TOKENS

World = tuple[LocalDeployment, Sandbox]


def _connect(world: World, store_hash: str) -> tuple[SandboxStore, str]:
    stack, sandbox = world
    token = f"tok-{store_hash}-wh"
    KNOWN_TOKENS.add(token)
    store = sandbox.add_store(store_hash, token=token)
    out = io.StringIO()
    assert bcsync_cli(["stores", "connect", store_hash], stdin=io.StringIO(token), out=out) == 0, out.getvalue()
    secret = stack.credentials().get(store_hash, force_fetch=True)
    KNOWN_TOKENS.add(secret.webhook_secret.get_secret_value())
    return store, secret.webhook_secret.get_secret_value()


def _post(store_hash: str, body: str | bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(
        f"{os.environ['BCSYNC_WEBHOOK_URL']}/{store_hash}",
        data=body,
        headers={"Content-Type": "application/json", **headers},
        verify=os.environ["BCSYNC_LOCAL_CA_BUNDLE"],
        timeout=10,
    )


def _job_messages(stack: LocalDeployment, queue: str, *, wait_seconds: float) -> list[JobMessage]:
    """Every message on a job queue once `wait_seconds` have passed on the runtime's clock (which SQS
    delays follow)."""
    stack.clock.advance(wait_seconds)  # type: ignore[attr-defined]  # the tests' stack runs on a VirtualClock
    return [JobMessage.model_validate(body) for body in drain(stack, queue)]


@pytest.fixture
def debounce(monkeypatch: pytest.MonkeyPatch) -> float:
    seconds = 1.0  # short, so the test waits little; the rule is the same at the default 5 s
    monkeypatch.setenv("BCSYNC_WEBHOOK_DEBOUNCE_SECONDS", str(seconds))
    return seconds


def test_connect_registers_one_hook_per_scope_and_reconnecting_adds_none(local_world: World) -> None:
    stack, _ = local_world
    store, secret = _connect(local_world, "hook111")
    first = {hook_id: dict(hook) for hook_id, hook in store.hooks.items()}
    out = io.StringIO()

    assert bcsync_cli(["stores", "connect", "hook111"], stdin=io.StringIO("tok-hook111-wh"), out=out) == 0

    assert "all in place" in out.getvalue()
    assert store.hooks == first  # same ids, same secret: nothing created, nothing changed
    assert sorted(hook["scope"] for hook in store.hooks.values()) == sorted(HOOK_SCOPES)
    destination = f"{stack.environment()['BCSYNC_WEBHOOK_URL']}/hook111"
    assert {hook["destination"] for hook in store.hooks.values()} == {destination}
    assert all(hook["headers"] == {SECRET_HEADER: secret} for hook in store.hooks.values())


def test_two_hundred_and_fifty_order_events_twice_and_shuffled_become_a_few_debounced_job_messages(
    local_world: World, debounce: float
) -> None:
    stack, _ = local_world
    store, _ = _connect(local_world, "hook222")
    seed_catalog(store, products=5, variants_per_product=1)
    for _ in range(250):
        add_order(store)
    assert len(store.webhooks.pending) == 250  # one store/order/created each

    results = store.webhooks.fire(copies=2, shuffle_seed=20261123, verify=os.environ["BCSYNC_LOCAL_CA_BUNDLE"])

    assert len(results) == 500
    assert {result.status for result in results} == {200}  # no genuine delivery is ever refused
    outcomes = [result.outcome for result in results]
    assert set(outcomes) == {"accepted"}  # a copy inside the window coalesces as any change there does
    messages = _job_messages(stack, "OrderImportJobs", wait_seconds=debounce + 0.5)
    assert len(messages) == 1  # every delivery fell in one window of the runtime's (still) clock
    assert {(m.job, m.store_hash, m.trigger) for m in messages} == {("order_import", "hook222", "webhook")}
    assert drain(stack, "ProductSyncJobs") == []


def test_a_change_after_the_window_closes_opens_a_new_one(local_world: World, debounce: float) -> None:
    stack, _ = local_world
    _, secret = _connect(local_world, "hook333")
    first = payload(store_hash="hook333", scope="store/order/created", data={"type": "order", "id": 1}, created_at=1)
    again = {**first, "created_at": 2}  # same data, same hash, a later event: a change, not a retry

    answers = [_post("hook333", json.dumps(body), {SECRET_HEADER: secret}).json() for body in (first, first, again)]
    stack.clock.advance(debounce + 0.1)  # type: ignore[attr-defined]  # the receiver's clock is the runtime's
    later = {**first, "created_at": 3}
    answers.append(_post("hook333", json.dumps(later), {SECRET_HEADER: secret}).json())

    assert [answer["outcome"] for answer in answers] == ["accepted"] * 4  # the retry coalesced, as `again` did
    assert len(_job_messages(stack, "OrderImportJobs", wait_seconds=debounce + 0.5)) == 2


@pytest.mark.parametrize(
    ("headers", "body", "status", "reason"),
    [
        ({}, "valid", 401, "unauthorized"),
        ({SECRET_HEADER: "not-the-secret"}, "valid", 401, "unauthorized"),
        ("secret", "x" * (MAX_BODY_BYTES + 1), 413, "too_large"),
        ("secret", '{"scope": "store/order/created", "data": ', 400, "malformed"),
        ("secret", "other store", 400, "wrong_store"),
    ],
)
def test_requests_that_are_not_genuine_deliveries_are_refused_and_queue_nothing(
    local_world: World, headers: dict[str, str] | str, body: str, status: int, reason: str
) -> None:
    stack, _ = local_world
    _, secret = _connect(local_world, "hook444")
    genuine = payload(store_hash="hook444", scope="store/order/created", data={"type": "order", "id": 7}, created_at=5)
    text = {
        "valid": json.dumps(genuine),
        "other store": json.dumps({**genuine, "producer": "stores/zzz999"}),
    }.get(body, body)

    response = _post("hook444", text, {SECRET_HEADER: secret} if isinstance(headers, str) else headers)

    assert (response.status_code, response.json()) == (status, {"outcome": "rejected", "reason": reason})
    assert secret not in response.text
    assert _job_messages(stack, "OrderImportJobs", wait_seconds=0) == []
    assert _post("hook444", json.dumps(genuine), {SECRET_HEADER: secret}).status_code == 200  # not marked seen


def test_an_unknown_store_gets_the_answer_a_wrong_secret_gets(local_world: World) -> None:
    _connect(local_world, "hook555")
    answers = []
    for store_hash in ("nope000", "hook555"):  # not connected; connected, and the secret is wrong
        body = payload(
            store_hash=store_hash, scope="store/order/created", data={"type": "order", "id": 1}, created_at=1
        )
        response = _post(store_hash, json.dumps(body), {SECRET_HEADER: "anything"})
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1] == (401, {"outcome": "rejected", "reason": "unauthorized"})


def test_a_product_deletion_archives_its_skus_with_no_api_call(local_world: World) -> None:
    stack, _ = local_world
    store, _ = _connect(local_world, "hook666")
    seed_catalog(store, products=4, variants_per_product=2)
    sync = stack.load_handler("ProductSyncFunction")
    stack.load_handler("ProductSyncFunction")({"action": "tick"}, stack.context("ProductSyncFunction"))
    stack.deliver_sqs("ProductSyncJobs", sync)
    drain(stack, "WarehouseOutbound")
    doomed = sorted(store.products)[0]
    skus = {variant["sku"] for variant in store.products[doomed]["variants"]}
    store.delete_product(doomed)

    results = store.webhooks.fire(verify=os.environ["BCSYNC_LOCAL_CA_BUNDLE"])
    served_before = len(store_exchanges(local_world))
    stack.deliver_sqs("ProductSyncJobs", sync)

    assert [(r.scope, r.resource_id, r.status) for r in results] == [("store/product/deleted", doomed, 200)]
    archived = drain(stack, "WarehouseOutbound")
    assert {e["detail-type"] for e in archived} == {"Product Archived"}
    assert {e["detail"]["data"]["sku"] for e in archived} == skus
    assert len(store_exchanges(local_world)) == served_before  # the id in the payload was enough


def store_exchanges(world: World) -> list[Any]:
    return list(world[1].recorder.exchanges)  # type: ignore[attr-defined]


def test_the_hourly_check_reactivates_hooks_and_disable_removes_them(local_world: World) -> None:
    stack, _ = local_world
    store, _ = _connect(local_world, "hook777")
    hook_ids = sorted(store.hooks)
    store.hooks[hook_ids[0]]["is_active"] = False  # BigCommerce deactivated it after failed deliveries
    del store.hooks[hook_ids[1]]
    results: list[Any] = []
    start = stack.clock.now()
    stack.clock.advance(3600)  # type: ignore[attr-defined]

    fire_schedules(
        stack,
        start,
        stack.clock.now(),
        lambda fn, event, ctx: results.append(stack.load_handler(fn)(event, ctx)) if fn.startswith("Webhook") else None,
    )

    assert results == [{"checked": ["hook777"], "repaired": ["hook777"], "problems": []}]
    assert len(store.hooks) == len(HOOK_SCOPES) and all(hook["is_active"] for hook in store.hooks.values())
    out = io.StringIO()
    assert bcsync_cli(["stores", "disable", "hook777"], out=out) == 0
    assert store.hooks == {} and f"{len(HOOK_SCOPES)} removed" in out.getvalue()
    assert bcsync_cli(["stores", "enable", "hook777"], out=io.StringIO()) == 0
    assert len(store.hooks) == len(HOOK_SCOPES)
