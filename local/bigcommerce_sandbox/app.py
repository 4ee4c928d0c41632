"""BigCommerce's side of a single-click app: the install's authorization code, the OAuth token endpoint
(`POST /oauth2/token` of its login service), the signed payloads of the load, uninstall and remove-user
callbacks, and signed webhook deliveries for the stores that installed the app.

A store installs the app (`SandboxApp.authorize`): BigCommerce sends the merchant's browser to the app's
auth callback with `code`, `scope` and `context`; the app trades the code, once, for a token that the
sandbox's store then accepts with the granted scopes. The login service has no OpenAPI file among
BigCommerce's specs (its documentation is prose), so its exchanges are not shown to the contract
observers.
"""

from __future__ import annotations

import json
import secrets
import threading
import uuid
import weakref
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs

import jwt

from .webhooks import DeliverySigner

if TYPE_CHECKING:
    from bigcommerce_client.clock import Clock

    from .store import SandboxStore


class AppHost(Protocol):
    """What the app needs of the sandbox it is registered on: its stores and its clock. server.py's `Sandbox`
    is one, and serves the login service through `serve_login`; this module never imports it back."""

    @property
    def stores(self) -> dict[str, SandboxStore]: ...

    @property
    def clock(self) -> Clock: ...


TOKEN_PATH = "/oauth2/token"  # noqa: S105 - a path
# The OAuth scopes an app asks for, as the Developer Portal lists them, and the token scopes each grants.
APP_SCOPES = (
    "store_v2_orders",
    "store_v2_products",
    "store_inventory",
    "store_v2_information_read_only",
)
SIGNED_PAYLOAD_SECONDS = 86_400  # BigCommerce's signed payloads are valid for a day


@dataclass
class SandboxApp:
    """One app registered in the Developer Portal: its credentials, its auth callback, its scopes."""

    sandbox: AppHost
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: tuple[str, ...] = APP_SCOPES
    owner_id: int = 9_876_543
    owner_email: str = "owner@example.com"
    # code → store hash: each code is traded once
    codes: dict[str, str] = field(default_factory=dict)
    # store hash → the token the app holds for it
    installs: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def authorize(self, store_hash: str) -> dict[str, str]:
        """The merchant clicked Install: the query BigCommerce sends the auth callback."""
        if store_hash not in self.sandbox.stores:
            raise KeyError(f"no sandbox store {store_hash}")
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = store_hash
        return {"code": code, "scope": " ".join(self.scopes), "context": f"stores/{store_hash}"}

    def signed_payload(
        self, store_hash: str, operation: str, *, user_id: int | None = None, email: str | None = None, **claims: Any
    ) -> str:
        """A `signed_payload_jwt` as BigCommerce sends the load, uninstall and remove-user callbacks;
        `claims` replace any of its claims (a test's forgeries)."""
        now = int(self.sandbox.clock.now())
        body: dict[str, Any] = {
            "aud": self.client_id,
            "iss": "bc",
            "iat": now,
            "nbf": now - 5,
            "exp": now + SIGNED_PAYLOAD_SECONDS,
            "jti": str(uuid.uuid4()),
            "operation": operation,
            "store_hash": store_hash,
            "sub": f"stores/{store_hash}",
            "user": {
                "id": self.owner_id if user_id is None else user_id,
                "email": email or self.owner_email,
                "locale": "en-US",
            },
            "owner": {"id": self.owner_id, "email": self.owner_email},
            "url": "/",
            "channel_id": None,
        }
        body.update(claims)
        key = str(body.pop("_key", self.client_secret))
        return jwt.encode(body, key, algorithm="HS256")

    def revoke(self, store_hash: str) -> None:
        """The app was uninstalled: its token stops working and the store's deliveries are no longer signed."""
        store = self.sandbox.stores[store_hash]
        with self.lock:
            token = self.installs.pop(store_hash, None)
        if token is not None:
            store.tokens.pop(token, None)
        store.webhooks.signer = None

    # --- the login service ------------------------------------------------------------------------

    def exchange(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """`POST /oauth2/token`: the code traded for the store's token, once."""
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return 401, {"error": "invalid_client", "error_description": "Invalid client id or secret"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        if form.get("redirect_uri") != self.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "The redirect_uri does not match"}
        code = form.get("code", "")
        with self.lock:
            store_hash = self.codes.get(code)
            if store_hash is None or form.get("context") != f"stores/{store_hash}":
                return 400, {"error": "invalid_grant", "error_description": "Invalid verification code"}
            del self.codes[code]
        store = self.sandbox.stores[store_hash]
        token = secrets.token_hex(16)
        store.add_token(token, frozenset(self.scopes))  # the sandbox checks BigCommerce's own scope names
        store.webhooks.signer = DeliverySigner(self.client_secret, self.sandbox.clock)
        with self.lock:
            self.installs[store_hash] = token
        owner = {"id": self.owner_id, "username": "owner", "email": self.owner_email}
        return 200, {
            "access_token": token,
            "scope": " ".join(self.scopes),
            "user": owner,
            "owner": owner,
            "context": f"stores/{store_hash}",
            "account_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, store_hash)),
        }


_APPS: weakref.WeakKeyDictionary[AppHost, SandboxApp] = weakref.WeakKeyDictionary()


def register_app(
    sandbox: AppHost, *, client_id: str, client_secret: str, redirect_uri: str, scopes: tuple[str, ...] = APP_SCOPES
) -> SandboxApp:
    """The app BigCommerce knows, on this sandbox (one at a time)."""
    app = SandboxApp(sandbox, client_id, client_secret, redirect_uri, scopes)
    _APPS[sandbox] = app
    return app


def installed_store(sandbox: AppHost, store_hash: str) -> SandboxStore | None:
    """The store, if it installed the sandbox's app."""
    app = _APPS.get(sandbox)
    return sandbox.stores.get(store_hash) if app is not None and store_hash in app.installs else None


def serve_login(handler: BaseHTTPRequestHandler, sandbox: AppHost, method: str, path: str, body: bytes) -> bool:
    """Answers a request to the login service; False when the request is not one (the caller answers)."""
    if path.rstrip("/") != TOKEN_PATH:
        return False
    app = _APPS.get(sandbox)
    if method != "POST" or app is None:
        status, answer = 404, {"error": "not_found"}
    else:
        status, answer = app.exchange(_form(handler.headers.get("Content-Type", ""), body))
    payload = json.dumps(answer).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)
    return True


def _form(content_type: str, body: bytes) -> dict[str, str]:
    """BigCommerce takes the token request as a form or as JSON."""
    text = body.decode("utf-8", errors="replace")
    if "json" in content_type:
        try:
            loaded = json.loads(text)
        except ValueError:
            return {}
        return {str(key): str(value) for key, value in loaded.items()} if isinstance(loaded, dict) else {}
    return {key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items()}
