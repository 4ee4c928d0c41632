"""What an operator asks of a connected store: which orders of the last days came in and why the others did
not (`orders fetch --days`), and taking a store out of the stack (`stores remove`)."""

from __future__ import annotations

import io
import threading
import time

import pytest

from bcsync.cli import main as bcsync_cli
from bcsync.store.dynamo import scan_all
from bigcommerce_client import VirtualClock
from bigcommerce_sandbox import Sandbox, SandboxStore, add_order
from local_runtime import LocalDeployment
from tests.stores import connected_store

World = tuple[LocalDeployment, Sandbox]
STORE = "rep111"
PENDING, AWAITING_FULFILLMENT = 1, 11


def _store(world: World, *, webhooks: bool = False) -> SandboxStore:
    store = connected_store(world, STORE, f"tok-{STORE}-cli", products=4)
    if webhooks:
        out = io.StringIO()
        assert bcsync_cli(["stores", "connect", STORE], stdin=io.StringIO(f"tok-{STORE}-cli"), out=out) == 0
        assert len(store.hooks) > 0, out.getvalue()
    return store


def _fetch_while_the_function_runs(world: World, argv: list[str]) -> tuple[int, str]:
    """The CLI queues the import and waits for its run; meanwhile the order import function reads its queue."""
    stack, _ = world
    out, done = io.StringIO(), []
    command = threading.Thread(target=lambda: done.append(bcsync_cli(argv, out=out)))
    command.start()
    importer = stack.load_handler("OrderImportFunction")
    while command.is_alive():
        stack.deliver_sqs("OrderImportJobs", importer)
        time.sleep(0.1)
    command.join()
    return done[0], out.getvalue()


def test_fetch_days_imports_the_window_and_says_for_each_other_order_why_not(
    local_world: World, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(local_world)
    monkeypatch.setattr("bcsync.cli.orders.CLOCK", clock)
    sellable = [(p, v) for p in store.products.values() for v in p["variants"] if p["is_visible"]]
    paid = add_order(store, status_id=AWAITING_FULFILLMENT, lines=[(*sellable[0], 1)])
    pending = add_order(store, status_id=PENDING, lines=[(*sellable[1], 1)])
    digital = add_order(store, status_id=AWAITING_FULFILLMENT, lines=[(*sellable[2], 1)], digital=True)

    code, out = _fetch_while_the_function_runs(local_world, ["orders", "fetch", STORE, "--days", "2", "--wait", "30"])

    assert code == 0, out
    assert f"{STORE}: 3 orders modified in the last 2 days; 1 imported, 2 not" in out
    lines = {int(line.split()[1]): line for line in out.splitlines() if line.startswith("  order ")}
    assert "imported: sent to the warehouse (version 1)" in lines[paid]
    assert "not imported: status 1 (Pending): bcsync sends orders in status" in lines[pending]
    assert "(setting release_statuses)" in lines[pending]
    assert "not imported: " in lines[digital] and lines[digital].count(";") == 0  # one reason, its own


def test_remove_deletes_the_store_s_webhooks_secret_and_data_after_confirmation(local_world: World) -> None:
    stack, _ = local_world
    store = _store(local_world, webhooks=True)
    table = stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])
    mine = {"FilterExpression": "contains(pk, :store) OR contains(sk, :store)",
            "ExpressionAttributeValues": {":store": STORE}}  # fmt: skip
    assert list(scan_all(table, **mine))

    refused = io.StringIO()
    assert bcsync_cli(["stores", "remove", STORE], stdin=io.StringIO(STORE), out=refused) == 1  # no terminal, no --yes
    assert store.hooks and list(scan_all(table, **mine))  # nothing removed

    out = io.StringIO()
    assert bcsync_cli(["stores", "remove", STORE, "--yes"], out=out) == 0

    assert store.hooks == {}
    assert list(scan_all(table, **mine)) == []
    secret = stack.client("secretsmanager").describe_secret(SecretId=stack.credentials().name(STORE))
    assert "DeletedDate" in secret
    assert "Webhooks →" in out.getvalue() and f"Store {STORE} removed." in out.getvalue()
    listed = io.StringIO()
    assert bcsync_cli(["stores", "list", "--json"], out=listed) == 0
    assert STORE not in listed.getvalue()
