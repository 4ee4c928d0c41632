"""The v3 webhooks API (`/v3/hooks`): a store's hooks listed, created, read, changed and deleted.
Their deliveries are webhooks.py's.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from .routing import ApiError, Request, Route, v3_page


def _hook(request: Request) -> dict[str, Any]:
    hook = request.store.hooks.get(request.id())
    if hook is None:
        raise ApiError(404, "Webhook not found")
    return hook


def _deliverable(destination: str) -> bool:
    """https on port 443, as BigCommerce requires - or any port on loopback, where the local runtime's
    HTTP API listens (a sandbox relaxation, docs/architecture.md)."""
    url = urlsplit(destination)
    if url.scheme != "https" or not url.hostname:
        return False
    return url.port in (None, 443) or url.hostname in {"127.0.0.1", "localhost"}


def list_hooks(request: Request) -> tuple[int, Any]:
    return v3_page(request, [request.store.hooks[key] for key in sorted(request.store.hooks)])


def create_hook(request: Request) -> tuple[int, Any]:
    body = request.body if isinstance(request.body, dict) else {}
    scope, destination = body.get("scope"), body.get("destination")
    if not isinstance(scope, str) or not scope.startswith("store/"):
        raise ApiError(422, "The field 'scope' is invalid.", {"scope": "invalid"})
    if not isinstance(destination, str) or not _deliverable(destination):
        raise ApiError(422, "The destination must be an https URL on port 443.", {"destination": "invalid"})
    now = int(request.store.clock.now())
    hook_id = request.store.next_id()
    hook: dict[str, Any] = {
        "id": hook_id,
        "client_id": "sandbox-client",
        "store_hash": request.store.store_hash,
        "scope": scope,
        "destination": destination,
        "headers": body.get("headers") or {},
        "is_active": bool(body.get("is_active", True)),
        "events_history_enabled": False,
        "created_at": now,
        "updated_at": now,
    }
    request.store.hooks[hook_id] = hook
    return 200, {"data": hook, "meta": {}}


def get_hook(request: Request) -> tuple[int, Any]:
    return 200, {"data": _hook(request), "meta": {}}


def update_hook(request: Request) -> tuple[int, Any]:
    hook = _hook(request)
    body = request.body if isinstance(request.body, dict) else {}
    if "destination" in body and not (isinstance(body["destination"], str) and _deliverable(body["destination"])):
        raise ApiError(422, "The destination must be an https URL on port 443.", {"destination": "invalid"})
    for key in ("scope", "destination", "is_active", "headers"):
        if key in body:
            hook[key] = body[key]
    hook["updated_at"] = int(request.store.clock.now())
    return 200, {"data": hook, "meta": {}}


def delete_hook(request: Request) -> tuple[int, Any]:
    hook = _hook(request)
    del request.store.hooks[hook["id"]]
    return 200, {"data": hook, "meta": {}}


# --- the route table (server.py serves it) ---
_ID = r"(?P<id>\d+)"
ROUTES: list[Route] = [
    (method, re.compile(f"^{path}$"), scope, handler)
    for method, path, scope, handler in [
        ("GET", "/v3/hooks", None, list_hooks),
        ("POST", "/v3/hooks", None, create_hook),
        ("GET", f"/v3/hooks/{_ID}", None, get_hook),
        ("PUT", f"/v3/hooks/{_ID}", None, update_hook),
        ("DELETE", f"/v3/hooks/{_ID}", None, delete_hook),
    ]
]
