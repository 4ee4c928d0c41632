"""The sandbox's side of the app: BigCommerce's token endpoint trades a code once, for the right app and
callback only, and the token it gives is one the store accepts."""

from __future__ import annotations

import requests

from bigcommerce_sandbox import Sandbox
from bigcommerce_sandbox.app import register_app
from tests.conftest import KNOWN_TOKENS

REDIRECT = "https://app.example.com/app/auth"


def test_a_code_is_traded_once_by_the_app_for_its_callback_and_the_token_works(sandbox: Sandbox) -> None:
    sandbox.add_store("abc123", token="tok-abc123-account")
    KNOWN_TOKENS.add("tok-abc123-account")
    app = register_app(sandbox, client_id="cid", client_secret="csecret-0123456789", redirect_uri=REDIRECT)
    install = app.authorize("abc123")
    form = {**install, "client_id": "cid", "client_secret": "csecret-0123456789",
            "grant_type": "authorization_code", "redirect_uri": REDIRECT}  # fmt: skip

    def trade(**changes: str) -> requests.Response:
        return requests.post(f"{sandbox.url}/oauth2/token", data={**form, **changes}, timeout=5)

    assert trade(client_secret="another").status_code == 401
    assert trade(redirect_uri="https://evil.example.com/app/auth").status_code == 400
    assert trade(context="stores/other1").status_code == 400
    answer = trade()
    assert answer.status_code == 200
    token = answer.json()["access_token"]
    KNOWN_TOKENS.add(token)
    assert answer.json()["context"] == "stores/abc123" and answer.json()["scope"] == install["scope"]
    assert trade().json()["error"] == "invalid_grant"  # the same code again
    store = requests.get(f"{sandbox.url}/stores/abc123/v2/store", headers={"X-Auth-Token": token}, timeout=5)
    assert store.status_code == 200
    app.revoke("abc123")
    gone = requests.get(f"{sandbox.url}/stores/abc123/v2/store", headers={"X-Auth-Token": token}, timeout=5)
    assert gone.status_code == 401
