"""Lambda's active tracing, here: each invocation gets a sampled trace header, and what Tracer records
goes over UDP, as the X-Ray SDK sends it in Lambda, to a stand-in daemon on 127.0.0.1 that keeps it.

Nothing leaves the machine; a test reads the documents to see what a trace would hold in AWS.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

TRACE_HEADER = "_X_AMZN_TRACE_ID"  # set by Lambda for each invocation


class LocalXRayDaemon:
    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.address = f"127.0.0.1:{self._socket.getsockname()[1]}"
        self.raw: list[str] = []  # each datagram's document as sent (the part after the header line)
        self._lock = threading.Lock()
        self._running = True
        self._thread = threading.Thread(target=self._receive, name="xray-daemon", daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while self._running:
            try:
                datagram = self._socket.recv(65_536)
            except TimeoutError:
                continue
            except OSError:
                return
            _, _, document = datagram.decode("utf-8", "replace").partition("\n")
            with self._lock:
                self.raw.append(document)

    def documents(self, *, settle_seconds: float = 0.3) -> list[dict[str, Any]]:
        """Every (sub)segment received; UDP on loopback is quick, but not synchronous."""
        return [json.loads(text) for text in self.texts(settle_seconds=settle_seconds)]

    def text(self, *, settle_seconds: float = 0.3) -> str:
        """Everything received, as sent: what a test searches for what must never be traced."""
        return "\n".join(self.texts(settle_seconds=settle_seconds))

    def texts(self, *, settle_seconds: float) -> list[str]:
        time.sleep(settle_seconds)
        with self._lock:
            return list(self.raw)

    def close(self) -> None:
        self._running = False
        self._thread.join()
        self._socket.close()

    def environment(self, code_root: str) -> dict[str, str]:
        """What Lambda sets when active tracing is on (Tracer enables itself only inside Lambda)."""
        return {
            "POWERTOOLS_TRACE_DISABLED": "false",
            "LAMBDA_TASK_ROOT": code_root,
            "AWS_XRAY_DAEMON_ADDRESS": self.address,
        }

    def prepare_process(self) -> None:
        """Before a handler's import, which stands for a new process: the SDK and Tracer keep their
        settings per process, and the first test that imported a handler untraced disabled both."""
        from aws_lambda_powertools import Tracer
        from aws_xray_sdk import global_sdk_config
        from aws_xray_sdk.core import xray_recorder
        from aws_xray_sdk.core.lambda_launcher import LambdaContext

        Tracer._reset_config()  # type: ignore[no-untyped-call]  # per-process state; there is no public way to start it afresh
        global_sdk_config.set_sdk_enabled(True)
        xray_recorder.configure(
            context=LambdaContext(),
            daemon_address=self.address,
            sampling=False,
            streaming_threshold=0,  # as in Lambda: each finished subsegment is sent at once
        )

    @staticmethod
    def untraced() -> None:
        """After tracing: the rest of the process runs as before, the SDK off."""
        from aws_xray_sdk import global_sdk_config

        global_sdk_config.set_sdk_enabled(False)

    @staticmethod
    def traced(handler: Callable[[dict[str, Any], Any], Any]) -> Callable[[dict[str, Any], Any], Any]:
        """The handler, each call under a new sampled trace as Lambda starts one per invocation."""

        def invoke(event: dict[str, Any], context: Any) -> Any:
            root = f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"
            previous = os.environ.get(TRACE_HEADER)
            os.environ[TRACE_HEADER] = f"Root={root};Parent={secrets.token_hex(8)};Sampled=1"
            try:
                return handler(event, context)
            finally:
                if previous is None:
                    os.environ.pop(TRACE_HEADER, None)
                else:
                    os.environ[TRACE_HEADER] = previous

        return invoke
