"""An HTTP API (API Gateway v2) on 127.0.0.1 over HTTPS: the template's routes → the real handlers.

Requests become payload-format-2.0 events, as API Gateway builds them; the handler's answer
becomes the HTTP response. HTTPS with a local CA (trustme), because BigCommerce - and so the
sandbox - delivers webhooks to https destinations only. One invocation per function at a time,
as one Lambda execution environment would run them.
"""

from __future__ import annotations

import base64
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from bigcommerce_sandbox.tls import loopback_tls_context

from . import limits

# API Gateway's own limit on a request payload; larger requests never reach the function.
MAX_PAYLOAD_BYTES = limits.HTTP_API_PAYLOAD_BYTES

_INTERNAL_ERROR = b'{"message":"Internal Server Error"}'
# What an HTTP API answers when its integration does not answer within the integration timeout.
_SERVICE_UNAVAILABLE = b'{"message":"Service Unavailable"}'


class IntegrationTimeout(Exception):  # noqa: N818 - API Gateway's own name for it
    """The function answered after the route's integration timeout: API Gateway had answered 503."""


Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # OpenAPI template, e.g. /webhooks/{store_hash}
    function: str  # logical id of the Lambda function
    api: str  # logical id of the HTTP API
    pattern: re.Pattern[str]
    # The integration's TimeoutInMillis (AWS's default, and most, for an HTTP API: 30 s), in seconds.
    timeout_seconds: float = limits.HTTP_API_MAX_INTEGRATION_TIMEOUT_MS / 1000

    @classmethod
    def of(cls, method: str, path: str, function: str, api: str, *, timeout_ms: int | None = None) -> Route:
        # A greedy parameter (`{proxy+}`) takes the rest of the path, slashes and all, as API Gateway's does.
        regex = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(path))
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
        timeout = (timeout_ms or limits.HTTP_API_MAX_INTEGRATION_TIMEOUT_MS) / 1000
        return cls(
            method=method.upper(),
            path=path,
            function=function,
            api=api,
            pattern=re.compile(f"^{regex}$"),
            timeout_seconds=timeout,
        )


_INTEGRATION_FUNCTION = re.compile(r"\$\{(\w+)\.Arn\}")


def routes_of(template: dict[str, Any]) -> list[Route]:
    """Every route of every HTTP API in the expanded template, with the function it integrates."""
    routes = []
    for api, spec in template["Resources"].items():
        if spec["Type"] != "AWS::ApiGatewayV2::Api":
            continue
        for path, methods in spec["Properties"].get("Body", {}).get("paths", {}).items():
            for method, operation in methods.items():
                integration = operation.get("x-amazon-apigateway-integration", {})
                uri = integration.get("uri", {})
                text = uri.get("Fn::Sub", "") if isinstance(uri, dict) else str(uri)
                match = _INTEGRATION_FUNCTION.search(text if isinstance(text, str) else text[0])
                if match:
                    timeout = integration.get("timeoutInMillis")
                    routes.append(
                        Route.of(method, path, match.group(1), api, timeout_ms=int(timeout) if timeout else None)
                    )
    return routes


def http_api_event(route: Route, *, path: str, query: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    match = route.pattern.match(path)
    assert match is not None
    now = time.time()
    text = body.decode("utf-8", errors="strict") if body else ""
    return {
        "version": "2.0",
        "routeKey": f"{route.method} {route.path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {name.lower(): value for name, value in headers.items()},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": route.method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("User-Agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{route.method} {route.path}",
            "stage": "$default",
            "time": datetime.fromtimestamp(now, tz=UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now * 1000),
        },
        "pathParameters": match.groupdict(),
        **_query_parameters(query),
        "body": text,
        "isBase64Encoded": False,
    }


def _query_parameters(query: str) -> dict[str, dict[str, str]]:
    """`queryStringParameters` as API Gateway gives them: decoded, a name given twice with its values
    joined by commas, absent when the request has no query."""
    values: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        values.setdefault(name, []).append(value)
    return {"queryStringParameters": {name: ",".join(given) for name, given in values.items()}} if values else {}


class LocalHttpApi:
    """`with LocalHttpApi(routes, invoke) as api:` serves https://127.0.0.1:<port>; `api.ca_path` trusts it."""

    def __init__(self, routes: list[Route], invoke: Invoke, *, tls_dir: Path) -> None:
        self.routes = routes
        self._invoke = invoke
        self._locks: dict[str, threading.Lock] = {route.function: threading.Lock() for route in routes}
        context = loopback_tls_context(tls_dir, "local-api-ca.pem")
        self.ca_path = tls_dir / "local-api-ca.pem"
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-http-api", daemon=True)
        self.requests = 0

    def start(self) -> LocalHttpApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LocalHttpApi:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        path, _, query = target.partition("?")
        route = next((r for r in self.routes if r.method == method and r.pattern.match(path)), None)
        if route is None:
            return 404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}'
        event = http_api_event(route, path=path, query=query, headers=headers, body=body)
        with self._locks[route.function]:
            self.requests += 1
            result = self._invoke(route.function, event)
        status = int(result.get("statusCode", 200))
        payload = result.get("body") or ""
        raw = base64.b64decode(payload) if result.get("isBase64Encoded") else str(payload).encode()
        return status, {str(k): str(v) for k, v in (result.get("headers") or {}).items()}, raw

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave in separate writes

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_PAYLOAD_BYTES:
                    self._send(413, {"Content-Type": "application/json"}, b'{"message":"Request Entity Too Large"}')
                    self.close_connection = True
                    return
                body = self.rfile.read(length) if length else b""
                try:
                    status, headers, raw = api.answer(self.command, self.path, dict(self.headers.items()), body)
                except IntegrationTimeout:
                    status, headers, raw = 503, {"Content-Type": "application/json"}, _SERVICE_UNAVAILABLE
                except Exception:  # API Gateway's answer to a function that failed (or Lambda refused)
                    status, headers, raw = (
                        500,
                        {"Content-Type": "application/json"},
                        b'{"message":"Internal Server Error"}',
                    )
                self._send(status, headers, raw)

            def _send(self, status: int, headers: dict[str, str], raw: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_POST = do_GET = do_PUT = do_DELETE = _serve  # noqa: N815 - the stdlib's naming

        return Handler
