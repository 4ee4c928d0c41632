"""moto on 127.0.0.1, held to AWS's limits, with each AWS request shown to observers once moto has answered it.

A request over one of AWS's documented limits (`limits`) is refused as AWS refuses it, before moto - which
accepts it - sees it; faults a test injects (`faults`) are answered the same way.

The observers see what the handlers send AWS over the wire - every event, queued message and state
item - so a test can hold all of it to a rule (no access token outside Secrets Manager, for one), and
what moto answered, so a benchmark can count what AWS would bill (local_runtime.usage).

SQS message delays (`DelaySeconds`: a webhook's debounce window, a job re-queued until its store's
quota resets) are counted on the runtime's clock, so a compressed clock compresses them too: an hour
of traffic with 5-second debounce windows runs in minutes, not in an hour.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from . import limits

# SigV4: "AWS4-HMAC-SHA256 Credential=KEY/20261123/us-east-1/sqs/aws4_request, ..."
_SIGNED = re.compile(r"Credential=(?P<key>[^/]+)/\d{8}/[^/]+/(?P<service>[^/]+)/aws4_request")


@dataclass(frozen=True)
class AwsRequest:
    method: str  # HTTP: what tells S3's REST operations apart
    service: str  # as signed: "sqs", "events", "dynamodb", "secretsmanager", ...
    operation: str  # the X-Amz-Target header (JSON protocols) or the Action of a query request
    body: bytes
    response: bytes = b""  # moto's answer (a read's capacity units follow its size)
    caller: str = ""  # the access key id it was signed with: each function has its own (local_runtime.iam)
    path: str = "/"  # S3's REST names the bucket and the object here
    query: str = ""


AwsObserver = Callable[[AwsRequest], None]
Now = Callable[[], float]


@contextlib.contextmanager
def sqs_delays_on(now: Now) -> Iterator[None]:
    """moto's SQS holds a delayed message until `now()` reaches its due time (moto itself reads the
    wall clock). moto's state is per process, so this holds for every queue of this process's moto."""
    from moto.sqs.models import Message

    original_delay, original_delayed = Message.delay, Message.delayed

    def delay(self: Message, delay_seconds: int) -> None:
        self.bcsync_due_at = now() + int(delay_seconds)  # type: ignore[attr-defined]

    def delayed(self: Message) -> bool:
        return now() < getattr(self, "bcsync_due_at", -math.inf)

    Message.delay = delay  # type: ignore[method-assign]
    Message.delayed = property(delayed)  # type: ignore[assignment, method-assign]
    try:
        yield
    finally:
        Message.delay, Message.delayed = original_delay, original_delayed  # type: ignore[method-assign]


class TappedMotoServer:
    def __init__(self, *, port: int, now: Now) -> None:
        self.port = port
        self.observers: list[AwsObserver] = []
        self.faults = limits.Faults()
        self._now = now
        self._undo = contextlib.ExitStack()
        self._moto = DomainDispatcherApplication(create_backend_app)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._undo.enter_context(sqs_delays_on(self._now))
        self._server = make_server("127.0.0.1", self.port, self._app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join()
        self._undo.close()

    @staticmethod
    def _no_answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The call is never answered: its connection closes with nothing sent back (the server then
        finds it closed when it writes, and drops it quietly, as it does any client that went away)."""
        connection = environ.get("werkzeug.socket")
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        start_response("500 Internal Server Error", [])
        return []

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
        signed = _SIGNED.search(environ.get("HTTP_AUTHORIZATION", ""))
        action = re.search(rb"(?:^|&)Action=([A-Za-z]+)", body)
        service = signed.group("service") if signed else ""
        operation = environ.get("HTTP_X_AMZ_TARGET") or (action.group(1).decode() if action else "")
        name = operation.rsplit(".", 1)[-1]
        # AWS's limits and the faults a test injects come first: what AWS would refuse never reaches moto.
        refusal = self.faults.take(service, name) or limits.check(service, name, body)
        if refusal is not None and refusal.code == limits.NO_ANSWER:
            return self._no_answer(environ, start_response)
        if refusal is not None:
            start_response(f"{refusal.status} {'Bad Request' if refusal.status < 500 else 'Error'}", refusal.headers())
            return [refusal.body()]
        if not self.observers:
            served: Iterable[bytes] = self._moto(environ, start_response)
            return served
        answer = b"".join(self._moto(environ, start_response))
        request = AwsRequest(
            method=environ.get("REQUEST_METHOD", ""),
            service=service,
            operation=operation,
            body=body,
            response=answer,
            caller=signed.group("key") if signed else "",
            path=environ.get("PATH_INFO", "/"),
            query=environ.get("QUERY_STRING", ""),
        )
        for observer in list(self.observers):
            observer(request)
        return [answer]
