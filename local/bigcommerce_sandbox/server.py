"""A BigCommerce store over HTTP on 127.0.0.1: several stores, quotas, quirks and faults.

Stdlib `http.server` on purpose: it gives the socket-level control that dropped connections
and truncated bodies need.

Imports run one way: this module serves the route table it gathers from the route modules (orders.py,
catalog.py, inventory.py, hooks.py, and payments.py, orders_create.py, readback.py that build on them),
which stand on routing.py (`Request`, `ApiError`, paging) and store.py; none imports this module.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import re
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bigcommerce_client.clock import SYSTEM_CLOCK, Clock

from . import catalog, hooks, inventory, orders, orders_create, payments, readback
from .app import serve_login
from .faults import Fault, FaultPlan
from .routing import ERROR_TYPE, ApiError, Request, Route
from .store import SandboxStore

logger = logging.getLogger("bigcommerce_sandbox")


@dataclass
class Exchange:
    """One request and what the sandbox answered (None when the connection was dropped)."""

    store_hash: str
    method: str
    api_path: str  # from the version on: /v2/orders/5
    query: dict[str, list[str]]
    request_headers: dict[str, str]
    request_body: bytes
    status: int | None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    fault: Fault | None = None
    notified: bool = False
    rewritten: bool = False  # the body was replaced by `Sandbox.rewrite`: not BigCommerce's answer


def load_carriers(specs_dir: Path | None) -> frozenset[str] | None:
    if specs_dir is None:
        return None
    path = specs_dir / "assets" / "csv" / "tracking_carrier_values.csv"
    if not path.exists():
        return None
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return frozenset(row[-1].strip() for row in rows[1:] if row)


class Sandbox:
    """The sandbox server; `add_store` then `start`. Use as a context manager in tests."""

    def __init__(
        self,
        *,
        clock: Clock = SYSTEM_CLOCK,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_seconds: float = 0.0,
        specs_dir: Path | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if host not in {"127.0.0.1", "localhost", "::1"}:
            raise ValueError("the sandbox listens on loopback only")
        self.clock = clock
        self.latency_seconds = latency_seconds
        self.stores: dict[str, SandboxStore] = {}
        self.faults: dict[str, FaultPlan] = {}
        self.observers: list[Callable[[Exchange], None]] = []
        # A test's hand on the wire: given a successful JSON answer, a different body to send instead
        # (malformed on purpose), or None to send it as it is. The exchange is marked `rewritten`.
        self.rewrite: Callable[[Exchange, bytes], bytes | None] | None = None
        self.carriers = load_carriers(specs_dir)
        self._server = _Server((host, port), _RequestHandler, self)
        if tls_context is not None:
            self._server.socket = tls_context.wrap_socket(self._server.socket, server_side=True)
        self._scheme = "https" if tls_context else "http"
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self._scheme}://{host!s}:{port}"

    def add_store(
        self,
        store_hash: str,
        *,
        token: str,
        quota: int = 150,
        window_ms: int = 30_000,
        other_apps: int = 0,
        scopes: frozenset[str] | None = None,
    ) -> SandboxStore:
        """`other_apps`: requests per window the store's other apps make, spread evenly over it."""
        store = SandboxStore(
            store_hash=store_hash, clock=self.clock, quota=quota, window_ms=window_ms, other_apps=other_apps
        )
        if scopes is None:
            store.add_token(token)
        else:
            store.add_token(token, scopes)
        self.stores[store_hash] = store
        self.faults[store_hash] = FaultPlan()
        return store

    def start(self) -> Sandbox:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="bigcommerce-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def notify(self, exchange: Exchange) -> None:
        for observer in list(self.observers):
            observer(exchange)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out on a slow answer has hung up: expected, not worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


_PATH = re.compile(r"^/stores/(?P<store>[^/]+)(?P<api>/v[23]/.*?)/?$")


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # An answer's headers and body leave in two writes: with Nagle on, the body waits for the client's
    # delayed ACK, about 40 ms a request on loopback (half a minute of the test suite).
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        sandbox = self.server.sandbox
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        query = parse_qs(split.query, keep_blank_values=True)
        matched = _PATH.match(split.path)
        store = sandbox.stores.get(matched.group("store")) if matched else None
        api_path = matched.group("api") if matched else split.path
        exchange = Exchange(
            store_hash=matched.group("store") if matched else "",
            method=method,
            api_path=api_path,
            query=query,
            request_headers={key: value for key, value in self.headers.items()},
            request_body=raw_body,
            status=None,
        )
        try:
            if sandbox.latency_seconds:
                sandbox.clock.sleep(sandbox.latency_seconds)
            # --- the app's OAuth token endpoint (BigCommerce's login service), outside any store ---
            if matched is None and serve_login(self, sandbox, method, split.path, raw_body):
                exchange.notified = True  # no spec describes the login service: no contract to hold it to
                return
            if matched is None or store is None:
                self._answer(exchange, 404, _error_body(api_path, 404, "Store not found"), {})
                return
            fault = sandbox.faults[store.store_hash].draw(method, api_path)
            exchange.fault = fault
            self._serve_store(store, exchange)
        finally:
            if not exchange.notified:  # a dropped connection: nothing was answered
                exchange.notified = True
                sandbox.notify(exchange)

    def _serve_store(self, store: SandboxStore, exchange: Exchange) -> None:
        api_path, fault = exchange.api_path, exchange.fault
        token = self.headers.get("X-Auth-Token")
        if token not in store.tokens:
            self._answer(exchange, 401, _error_body(api_path, 401, "You are not authorized to access this store"), {})
            return
        if fault is Fault.DROP_BEFORE:
            self._drop()
            return
        with store.lock:
            # A 429 with headers comes from the store's quota, or from an injected fault that says the same.
            if fault is Fault.RATE_LIMIT or ((fault is None or fault.acts) and not store.rate.take()):
                self._answer(
                    exchange, 429, _error_body(api_path, 429, "Too many requests"), store.rate.headers(exhausted=True)
                )
                return
            if fault is Fault.RATE_LIMIT_BARE:
                self._answer(exchange, 429, _error_body(api_path, 429, "Too many requests"), {})
                return
            if fault in {Fault.SERVER_500, Fault.BAD_GATEWAY, Fault.UNAVAILABLE}:
                assert fault is not None
                status = int(fault.value)
                self._answer(exchange, status, _error_body(api_path, status, "Internal error"), {})
                return
            rate_headers = store.rate.headers()
            status, body = self._dispatch(store, exchange, token)
        if fault is Fault.SLOW:
            time.sleep(self.server.sandbox.faults[store.store_hash].slow_seconds)
        if fault is Fault.DROP_AFTER:
            self._drop()
            return
        if fault is Fault.NOT_JSON:
            self._answer(
                exchange,
                200,
                b"<html><body>Service temporarily unavailable</body></html>",
                rate_headers,
                "text/html",
            )
            return
        self._answer(exchange, status, body, rate_headers, truncate=fault is Fault.TRUNCATED)

    def _dispatch(self, store: SandboxStore, exchange: Exchange, token: str) -> tuple[int, Any]:
        method, api_path = exchange.method, exchange.api_path
        for route_method, pattern, scope, handler in ROUTES:
            if route_method != method:
                continue
            match = pattern.match(api_path)
            if match is None:
                continue
            if scope and not _granted(scope, store.tokens[token]):
                return 403, _error_body(api_path, 403, "You don't have a required scope to access the endpoint")
            try:
                body = json.loads(exchange.request_body) if exchange.request_body else None
            except ValueError:
                return 400, _error_body(api_path, 400, "The request body is not valid JSON")
            try:
                request = Request(store, method, api_path, match, exchange.query, body, self.server.sandbox.carriers)
                return handler(request)
            except ApiError as error:
                return error.status, _error_body(api_path, error.status, error.message, error.errors)
        return 404, _error_body(api_path, 404, "The requested resource was not found")

    def _answer(
        self,
        exchange: Exchange,
        status: int,
        body: Any,
        headers: dict[str, str],
        content_type: str = "application/json",
        *,
        truncate: bool = False,
    ) -> None:
        payload = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        rewrite = self.server.sandbox.rewrite
        if rewrite is not None and status == 200 and content_type == "application/json" and payload:
            replaced = rewrite(exchange, payload)
            if replaced is not None:
                payload, exchange.rewritten = replaced, True
        if status >= 400 and _problem_json(exchange.api_path) and content_type == "application/json":
            content_type = "application/problem+json"  # v3 errors are RFC 7807 problem documents
        exchange.status = status
        exchange.response_headers = dict(headers)
        exchange.response_body = payload
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if payload:
            self.send_header("Content-Type", content_type)
            exchange.response_headers["Content-Type"] = content_type
        self.send_header("Content-Length", str(len(payload)))
        # Observers see the exchange before the client can: a test never races the recording.
        exchange.notified = True
        self.server.sandbox.notify(exchange)
        self.end_headers()
        if truncate and payload:
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(payload)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _granted(required: str, granted: frozenset[str]) -> bool:
    """A modify scope includes its read-only counterpart."""
    return required in granted or (required.endswith("_read_only") and required.removesuffix("_read_only") in granted)


def _problem_json(api_path: str) -> bool:
    """v3 errors are sent as application/problem+json - except the webhooks API's and the payment actions',
    which their specs (and BigCommerce) declare as plain application/json."""
    return api_path.startswith("/v3/") and not api_path.startswith("/v3/hooks") and "/payment_actions/" not in api_path


def _error_body(api_path: str, status: int, message: str, errors: dict[str, str] | None = None) -> Any:
    if api_path.startswith("/v2/"):
        return [{"status": status, "message": message}]
    return {"status": status, "title": message, "type": ERROR_TYPE, "errors": errors or {}}


# The route table, first match wins: read back's webhook-firing shipment POST and absolute adjustment, then
# orders created through the API, the payment actions and staff notes, then the store's plain endpoints.
ROUTES: list[Route] = [
    *readback.ROUTES,
    *orders_create.ROUTES,
    *payments.ROUTES,
    *orders.ROUTES,
    *catalog.ROUTES,
    *inventory.ROUTES,
    *hooks.ROUTES,
]
