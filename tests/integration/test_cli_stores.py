"""`bcsync stores ...` as an operator runs it: against the sandbox for BigCommerce, moto for AWS."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bcsync.cli import main
from bcsync.store.credentials import CredentialStore
from bcsync.webhooks.receiver import HOOK_SCOPES
from bigcommerce_sandbox import ALL_SCOPES, Sandbox
from tests.aws import create_table
from tests.conftest import KNOWN_TOKENS

TOKEN = "connect-token-7f3a9"
PREFIX = "bcsync/test/stores/"


@pytest.fixture
def operator_env(monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("BCSYNC_STATE_TABLE", "state")
    monkeypatch.setenv("BCSYNC_SECRET_PREFIX", PREFIX)
    monkeypatch.setenv("BIGCOMMERCE_API_URL", sandbox.url)
    KNOWN_TOKENS.add(TOKEN)
    with mock_aws():
        yield create_table(boto3.resource("dynamodb"), "StateTable", "state")


def run(argv: list[str], *, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin), out=out)
    return code, out.getvalue()


def test_connect_checks_the_token_then_saves_secret_and_settings(
    operator_env: Any, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.add_store("abc123", token=TOKEN)
    code, out = run(["stores", "connect", "abc123", "--client-id", "cid"], stdin=TOKEN + "\n")
    assert code == 0, capsys.readouterr().err
    assert "Connected store abc123 (Sandbox store abc123)" in out
    saved = CredentialStore(client=boto3.client("secretsmanager"), prefix=PREFIX).get("abc123")
    assert saved.access_token.get_secret_value() == TOKEN
    assert len(saved.webhook_secret.get_secret_value()) >= 32
    code, out = run(["stores", "list"])
    assert "abc123" in out and out.startswith("on ")
    probes = [e for e in sandbox.recorder.exchanges if e.request_headers.get("X-Bcsync-Probe")]  # type: ignore[attr-defined]
    assert {(e.method, e.status) for e in probes if e.method != "GET"} == {("POST", 404), ("PUT", 422)}
    assert TOKEN not in out + capsys.readouterr().err


def test_a_missing_scope_is_named_in_one_line_and_nothing_is_saved(
    operator_env: Any, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.add_store("abc123", token=TOKEN, scopes=ALL_SCOPES - {"store_inventory"} | {"store_inventory_read_only"})
    code, _ = run(["stores", "connect", "abc123"], stdin=TOKEN)
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "Store Inventory (modify)" in err and "Nothing was saved" in err
    assert operator_env.scan()["Items"] == []
    assert boto3.client("secretsmanager").list_secrets()["SecretList"] == []


def test_a_wrong_token_is_one_clear_line(
    operator_env: Any, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.add_store("abc123", token=TOKEN)
    KNOWN_TOKENS.add("not-the-token-000")
    code, _ = run(["stores", "connect", "abc123"], stdin="not-the-token-000")
    err = capsys.readouterr().err
    assert code == 1 and "rejected the access token for store abc123" in err
    assert "not-the-token-000" not in err


def test_the_token_is_never_taken_from_the_command_line(operator_env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(["stores", "connect", "abc123"])
    assert code == 1 and "never as an argument" in capsys.readouterr().err


def test_show_and_disable(operator_env: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox.add_store("abc123", token=TOKEN)
    assert run(["stores", "connect", "abc123", "--token-stdin"], stdin=TOKEN)[0] == 0
    _, out = run(["stores", "show", "abc123"])
    report = json.loads(out)
    assert report["credentials"] == "present" and report["settings"]["enabled"] is True
    assert TOKEN not in out
    assert run(["stores", "disable", "abc123"])[0] == 0
    assert json.loads(run(["stores", "show", "abc123"])[1])["settings"]["enabled"] is False


def test_an_unknown_store_is_named(operator_env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["stores", "show", "zzz999"])[0] == 1
    assert "store zzz999 is not connected" in capsys.readouterr().err


def test_reconnecting_without_webhooks_removes_the_hooks_connect_made(operator_env: Any, sandbox: Sandbox) -> None:
    store = sandbox.add_store("abc123", token=TOKEN)
    url = "https://hooks.example.com/webhooks"
    code, out = run(["stores", "connect", "abc123", "--webhook-url", url], stdin=TOKEN)
    assert code == 0 and len(store.hooks) == len(HOOK_SCOPES) and f"{len(HOOK_SCOPES)} created" in out

    code, out = run(["stores", "connect", "abc123", "--no-webhooks"], stdin=TOKEN)

    assert code == 0 and store.hooks == {}
    assert f"{len(HOOK_SCOPES)} removed" in out and "not registered" in out
    code, shown = run(["stores", "show", "abc123"])
    assert json.loads(shown)["settings"]["webhook_destination"] is None


def test_a_store_connected_with_webhooks_scans_every_15_minutes_and_one_without_every_5(
    operator_env: Any, sandbox: Sandbox
) -> None:
    # Webhooks bring each order in seconds: the scan under them only catches a delivery that never came, and each
    # scan is a run (writes, an invocation) whether or not it finds anything.
    other_token = "connect-token-def456"
    KNOWN_TOKENS.add(other_token)
    sandbox.add_store("abc123", token=TOKEN)
    sandbox.add_store("def456", token=other_token)
    url = "https://hooks.example.com/webhooks"
    assert run(["stores", "connect", "abc123", "--webhook-url", url], stdin=TOKEN)[0] == 0
    assert run(["stores", "connect", "def456", "--no-webhooks"], stdin=other_token)[0] == 0

    def minutes(store_hash: str) -> Any:
        return json.loads(run(["stores", "show", store_hash])[1])["settings"]["schedule_minutes"]["order_import"]

    assert (minutes("abc123"), minutes("def456")) == (15, 5)
    # A reconnect keeps the interval the store has (its operator may have chosen it).
    assert run(["stores", "configure", "abc123", "--set", "schedule_minutes={order_import: 7}"])[0] == 0
    assert run(["stores", "connect", "abc123", "--webhook-url", url], stdin=TOKEN)[0] == 0
    assert minutes("abc123") == 7
    # Webhooks removed: the 15 minutes webhooks allowed go back to 5, the scan being the only way in.
    assert run(["stores", "configure", "abc123", "--set", "schedule_minutes={order_import: 15}"])[0] == 0
    assert run(["stores", "connect", "abc123", "--no-webhooks"], stdin=TOKEN)[0] == 0
    assert minutes("abc123") == 5


def test_status_shows_a_change_the_warehouse_got_too_late_once_with_what_to_do(
    operator_env: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bcsync.orders.state import OrderRecord, OrderState
    from bcsync.shipments.too_late import TooLateAnswers
    from bcsync.store.problems import ProblemLog
    from bcsync.warehouse.inbound import OrderChangeTooLate

    sandbox.add_store("abc123", token=TOKEN)
    assert run(["stores", "connect", "abc123", "--no-webhooks"], stdin=TOKEN)[0] == 0
    orders = OrderState(operator_env, "abc123")
    cancelled = OrderRecord(order_id=1001, version=2, detail_type="Order Cancelled", state="cancelled")
    assert orders.put(cancelled, replaces_version=None)
    answers = TooLateAnswers("abc123", orders, ProblemLog(operator_env, "abc123"), lambda figure: None)
    message = OrderChangeTooLate(type="Order Change Too Late", store_hash="abc123", order_id=1001, version=2,
                                 change="cancel", reason="left the dock at 09:12")  # fmt: skip

    assert answers.record(message) == {"action": "recorded"}
    assert answers.record(message) == {"action": "repeat"}  # delivered twice: one problem
    _, out = run(["status", "abc123"])

    (line,) = [line for line in out.splitlines() if "warehouse_too_late" in line]
    assert line.startswith("  ! warehouse_too_late 1001 v2: the warehouse could not cancel it (version 2): ")
    assert "left the dock at 09:12. To do: BigCommerce has the order cancelled" in line
    assert "contact the customer" in line


def test_a_stores_role_is_set_with_configure_and_shown_in_the_list(operator_env: Any, sandbox: Sandbox) -> None:
    sandbox.add_store("abc123", token=TOKEN)
    assert run(["stores", "connect", "abc123", "--no-webhooks"], stdin=TOKEN)[0] == 0
    assert "[" not in run(["stores", "list"])[1]  # a sales channel, as every store is until told otherwise

    code, out = run(["stores", "configure", "abc123", "--set", "role=source"])
    assert code == 0 and 'role: "sales_channel" → "source"' in out
    assert run(["stores", "list"])[1].rstrip().endswith("[source]")
    assert json.loads(run(["stores", "show", "abc123"])[1])["settings"]["role"] == "source"
    assert run(["stores", "configure", "abc123", "--set", "role=supplier"])[0] == 1
