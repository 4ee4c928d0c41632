"""`bcsync console`: the operator's console on 127.0.0.1, with the operator's own AWS credentials.

A plain HTTP server bound to loopback alone: each request becomes the event an HTTP API would have sent
(payload format 2.0) and goes to the same router as the merchant's console. Requests whose Host is not
this server's are refused, so a web page cannot reach it through a name that resolves to 127.0.0.1
(DNS rebinding).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bcsync.console.data import ConsoleData
from bcsync.console.router import ConsoleApp
from bcsync.console.session import SessionSigner

MAX_BODY_BYTES = 1_000_000
logger = logging.getLogger("bcsync.console.local")


def request_event(method: str, target: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """What API Gateway's HTTP API hands a function for this request (payload format 2.0)."""
    path, _, query = target.partition("?")
    lowered = {name.lower(): value for name, value in headers.items()}
    cookies = [part.strip() for part in lowered.pop("cookie", "").split(";") if part.strip()]
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "cookies": cookies,
        "headers": lowered,
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": str(uuid.uuid4()),
            "stage": "$default",
            "timeEpoch": int(time.time() * 1000),
        },
        "body": body.decode("utf-8", errors="replace"),
        "isBase64Encoded": False,
    }


class OperatorConsole:
    """`with OperatorConsole(data) as console:` serves http://127.0.0.1:<port>; `console.login_url` opens it."""

    def __init__(self, data: ConsoleData, *, port: int = 0) -> None:
        self._login_token = secrets.token_urlsafe(24)
        self.app = ConsoleApp(
            data=data, signer=SessionSigner(secrets.token_bytes(32), mode="operator"), login_token=self._login_token
        )
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        self._thread = threading.Thread(target=self._server.serve_forever, name="bcsync-console", daemon=True)
        self._lock = threading.Lock()  # one request at a time, as one Lambda environment runs them

    @property
    def login_url(self) -> str:
        return f"{self.url}/console/login?token={self._login_token}"

    def start(self) -> OperatorConsole:
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> OperatorConsole:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        host = next((value for name, value in headers.items() if name.lower() == "host"), "")
        if host not in self._hosts:
            return 421, {"Content-Type": "text/plain"}, b"this console answers on 127.0.0.1 only"
        with self._lock:
            result = self.app.handle(request_event(method, target, headers, body), None)
        answer_headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        return int(result.get("statusCode", 200)), answer_headers, str(result.get("body") or "").encode()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        console = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY_BYTES:
                    self._send(413, {"Content-Type": "text/plain"}, b"too large")
                    self.close_connection = True
                    return
                body = self.rfile.read(length) if length else b""
                try:
                    status, headers, raw = console.answer(self.command, self.path, dict(self.headers.items()), body)
                except Exception:  # the page says so and the output has why; the server goes on
                    logger.exception("console request failed", extra={"path": self.path})
                    status, headers, raw = 500, {"Content-Type": "text/plain"}, b"the console failed: see its output"
                self._send(status, headers, raw)

            def _send(self, status: int, headers: dict[str, str], raw: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = _serve  # noqa: N815 - the stdlib's naming

        return Handler
