"""The single-click app end to end: BigCommerce's install connects the store through the local HTTP API,
its deliveries are signed and a tampered or replayed one is refused and counted, then remove user and
uninstall, each with a signed payload used once."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import requests

from bcsync.app.signed_payload import app_secret_name
from bcsync.backbone.messages import JobMessage
from bcsync.errors import CredentialsError
from bcsync.webhooks.receiver import HOOK_SCOPES
from bigcommerce_sandbox import Sandbox
from bigcommerce_sandbox.app import APP_SCOPES, SandboxApp, register_app
from local_runtime import LocalDeployment
from tests.aws import drain
from tests.conftest import KNOWN_TOKENS

World = tuple[LocalDeployment, Sandbox]
CLIENT_ID = "bcsync-app-client-id"
CLIENT_SECRET = "bcsync-app-client-secret-0123456789abcdef"


def _get(path: str, params: dict[str, str]) -> requests.Response:
    base = os.environ["BCSYNC_WEBHOOK_URL"].removesuffix("/webhooks")
    return requests.get(f"{base}{path}", params=params, verify=os.environ["BCSYNC_LOCAL_CA_BUNDLE"], timeout=30)


def _post(url: str, body: str, headers: dict[str, str]) -> requests.Response:
    return requests.post(url, data=body, headers=headers, verify=os.environ["BCSYNC_LOCAL_CA_BUNDLE"], timeout=10)


def _metrics(out: str) -> dict[str, float]:
    """Every metric the functions emitted (Powertools' EMF lines on stdout), summed by name."""
    totals: dict[str, float] = {}
    for line in out.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        emitted: dict[str, Any] = json.loads(line)
        for metric in emitted["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            value = emitted[metric["Name"]]
            totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(value if isinstance(value, list) else [value])
    return totals


@pytest.fixture
def app(local_world: World, monkeypatch: pytest.MonkeyPatch) -> SandboxApp:
    stack, sandbox = local_world
    KNOWN_TOKENS.add(CLIENT_SECRET)  # held to the token rules: never in a log line, never outside Secrets Manager
    stack.client("secretsmanager").create_secret(
        Name=app_secret_name(stack.stack_name),
        SecretString=json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
    )
    monkeypatch.setenv("BIGCOMMERCE_LOGIN_URL", sandbox.url)
    base = os.environ["BCSYNC_WEBHOOK_URL"].removesuffix("/webhooks")
    return register_app(sandbox, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=f"{base}/app/auth")


def test_install_signed_deliveries_remove_user_and_uninstall(
    local_world: World, app: SandboxApp, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, sandbox = local_world
    for store_hash in ("app111", "app222"):
        sandbox.add_store(store_hash, token=f"tok-{store_hash}-api-account")
        KNOWN_TOKENS.add(f"tok-{store_hash}-api-account")
    store = sandbox.stores["app111"]

    # An app whose scopes lack what the jobs need: nothing saved, and the page says which scopes.
    app.scopes = ("store_v2_orders", "store_v2_products", "store_v2_information_read_only")
    lacking = _get("/app/auth", app.authorize("app222"))
    KNOWN_TOKENS.add(app.installs["app222"])
    assert lacking.status_code == 403
    assert (
        "Store Inventory (read-only), Store Inventory (modify)" in lacking.text and "Developer Portal" in lacking.text
    )
    with pytest.raises(CredentialsError):
        stack.credentials().get("app222", force_fetch=True)
    assert drain(stack, "ProductSyncJobs") == []

    app.scopes = APP_SCOPES
    install = app.authorize("app111")

    installed = _get("/app/auth", install)

    assert installed.status_code == 200, installed.text
    assert "bcsync is installed" in installed.text and "Sandbox store app111" in installed.text
    token = app.installs["app111"]
    KNOWN_TOKENS.add(token)
    credentials = stack.credentials().get("app111", force_fetch=True)
    assert (credentials.client_id, credentials.access_token.get_secret_value()) == (CLIENT_ID, token)
    destination = f"{os.environ['BCSYNC_WEBHOOK_URL']}/app111"
    assert sorted(hook["scope"] for hook in store.hooks.values()) == sorted(HOOK_SCOPES)
    assert {hook["destination"] for hook in store.hooks.values()} == {destination}
    assert [JobMessage.model_validate(m).job for m in drain(stack, "ProductSyncJobs")] == ["product_sync"]
    # BigCommerce's code buys one token: the same install query again is refused, and nothing changes.
    again = _get("/app/auth", install)
    assert again.status_code == 502 and "Invalid verification code" in again.text

    # A delivery BigCommerce signed is taken; the same one tampered with, or sent again later, is not.
    store.emit("store/order/created", "order", 5)
    [signed] = store.webhooks.pending
    assert [result.status for result in store.webhooks.fire(verify=os.environ["BCSYNC_LOCAL_CA_BUNDLE"])] == [200]
    body = json.dumps(signed.payload)
    assert store.webhooks.signer is not None
    # As BigCommerce sends it: the hook's own headers (its secret header too) and the signature's.
    unsigned_headers = {"Content-Type": "application/json", **signed.headers}
    headers = {**unsigned_headers, **store.webhooks.signer.headers(signed, body)}
    tampered = _post(destination, body.replace('"id": 5', '"id": 6'), headers)
    unsigned = _post(destination, body, unsigned_headers)
    stack.clock.advance(301)  # type: ignore[attr-defined]  # the tests' stack runs on a VirtualClock
    replayed = _post(destination, body, headers)
    assert (tampered.status_code, unsigned.status_code, replayed.status_code) == (401, 401, 401)
    counted = _metrics(capsys.readouterr().out)
    assert counted["deliveries_accepted"] == 1
    assert (counted["rejected_wrong_signature"], counted["rejected_missing_signature"]) == (1, 1)
    assert counted["rejected_stale_signature"] == 1

    # Remove user: recorded; its payload used once.
    removal = {"signed_payload_jwt": app.signed_payload("app111", "remove_user", user_id=4242)}
    assert _get("/app/remove_user", removal).status_code == 200
    reused = _get("/app/remove_user", removal)
    assert reused.status_code == 401 and "already used" in reused.text
    forged = {
        "signed_payload_jwt": app.signed_payload("app111", "uninstall", _key="not-the-apps-secret-0123456789abcdef")
    }
    refused = _get("/app/uninstall", forged)
    assert refused.status_code == 401 and "signature does not match" in refused.text
    assert stack_registry_enabled(stack, "app111")

    # Uninstall: the store disabled, its hooks and its token gone.
    uninstalled = _get("/app/uninstall", {"signed_payload_jwt": app.signed_payload("app111", "uninstall")})

    assert uninstalled.status_code == 200, uninstalled.text
    assert not stack_registry_enabled(stack, "app111")
    assert store.hooks == {}
    with pytest.raises(CredentialsError):
        stack.credentials().get("app111", force_fetch=True)
    assert _metrics(capsys.readouterr().out)["uninstalls"] == 1


def stack_registry_enabled(stack: LocalDeployment, store_hash: str) -> bool:
    from bcsync.store.registry import StoreRegistry

    table = stack.resource("dynamodb").Table(stack.environment()["BCSYNC_STATE_TABLE"])
    return StoreRegistry(table).get(store_hash).enabled
