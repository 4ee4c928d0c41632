"""The template's functions run as Lambda would run them: their real handlers imported from their CodeUri,
a context whose deadline runs on the runtime's clock, each invocation recorded, and cut points at which
an invocation dies (bcsync.backbone.cutpoints).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from bcsync.backbone import cutpoints
from bigcommerce_client import PROCESS_CLOCK, Clock

from . import limits
from .gateway import IntegrationTimeout
from .stack import Stack
from .template import ACCOUNT, LOCAL_ARTIFACTS_BUCKET, REGION, REPO

Handler = Callable[[dict[str, Any], Any], Any]


class InvocationCut(BaseException):
    """Raised inside an invocation at a named cut point: the process 'died' there.

    A BaseException, like SystemExit: no `except Exception` in the code under test (Powertools'
    BatchProcessor included) may catch a crash and carry on.
    """


class FunctionError(Exception):
    """What Lambda answers for an invocation that failed after the handler ran (its `FunctionError`):
    the caller sees the invocation fail - an event source mapping's batch comes back whole, API
    Gateway answers 500."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type


def payload_size(payload: Any) -> int:
    """An invocation payload's size as Lambda counts it: the bytes of its JSON document."""
    return len(json.dumps(payload, separators=(",", ":"), default=str).encode())


def refuse_request_over(function: str, event: Any, limit: int) -> None:
    """Lambda's Invoke API refuses a request over its payload quota before the function runs: 413."""
    size = payload_size(event)
    if size > limit:
        message = f"{function}: a request payload of {size} bytes is over the most Lambda takes ({limit} bytes)"
        raise ClientError(
            {
                "Error": {"Code": "RequestTooLargeException", "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": 413},  # type: ignore[typeddict-item]
            },
            "Invoke",
        )


@dataclass
class LambdaContext:
    """What Powertools and our job framework read from a Lambda context; the deadline runs on the clock."""

    function_name: str
    timeout_seconds: float
    clock: Clock
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started_at: float = 0.0

    def __post_init__(self) -> None:
        self.started_at = self.clock.now()
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"
        self.function_version = "$LATEST"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = self.aws_request_id

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self.started_at + self.timeout_seconds - self.clock.now()) * 1000), 0)


@dataclass(frozen=True)
class Invocation:
    """One handler invocation, as Lambda would bill it: the function's memory and how long it ran.

    `clock_seconds` is the time that passed on the runtime's clock; on a compressed clock that is the
    time the handler spent waiting (BigCommerce's latency, a rate-limit wait) without the wall clock
    moving, so what AWS would bill is the wall time plus that.

    `cpu_seconds` is the CPU time of the invoking thread alone: moto and the sandbox serve from threads of
    their own, so their work is not the function's. In Lambda CPU scales with memory and waiting does
    not; `wall_seconds - cpu_seconds` is the part of the wall time the handler spent waiting on them."""

    function: str
    memory_mb: int
    wall_seconds: float
    clock_seconds: float
    cpu_seconds: float = 0.0


def _forget_powertools_loggers() -> None:
    """Powertools configures a `logging` logger once per process (it marks it `init`) and writes to the
    stdout of that moment; each local import of a handler stands for a new process."""
    for logger_name in list(logging.root.manager.loggerDict):
        configured = logging.getLogger(logger_name)
        if getattr(configured, "init", False):
            for handler in list(configured.handlers):
                configured.removeHandler(handler)
            for mark in ("init", "powertools_handler"):
                if hasattr(configured, mark):
                    delattr(configured, mark)


class Functions(Stack):
    """The second part of `LocalDeployment`: the stack's functions, loaded and invoked in this process."""

    clock: Clock  # the handlers' time, and their contexts' deadlines
    invocations: list[Invocation]  # every handler invocation, in order
    _handlers: dict[str, Handler]  # by function (and container), loaded once per deployment
    _modules: dict[str, Any]

    def load_handler(self, function: str, *, container: int = 0) -> Handler:
        """The real handler of a function of the template, imported from its CodeUri and Handler.

        Each function's module is imported once per stack under its own name, as each Lambda
        function has its own process: module-level clients and configuration (cold start) are
        built then, inside `environ()`.
        """
        # `container`: another warm Lambda container of the same function (its own module-level clients
        # and state), for invocations that really run at the same time.
        loaded = function if container == 0 else f"{function}#{container}"
        if loaded in self._handlers:
            return self._handlers[loaded]
        properties = self.template["Resources"][function]["Properties"]
        key = properties["Code"]["S3Key"] if "S3Key" in properties.get("Code", {}) else None
        bucket = properties.get("Code", {}).get("S3Bucket")
        if bucket != LOCAL_ARTIFACTS_BUCKET or key is None:
            raise RuntimeError(f"{function}: its code is not a local path of this repository")
        module_name, _, attribute = properties["Handler"].rpartition(".")
        source = REPO / key / (module_name.replace(".", "/") + ".py")
        spec = importlib.util.spec_from_file_location(f"bcsync_local_{function}_{container}", source)
        if spec is None or spec.loader is None:
            raise RuntimeError(f"{function}: cannot import {source}")
        module = importlib.util.module_from_spec(spec)
        PROCESS_CLOCK.use(self.clock)  # the handlers' time is the runtime's
        _forget_powertools_loggers()  # a new process: Logger binds to today's stdout, not a past import's
        with self.environ(function):
            if self.xray is not None:
                self.xray.prepare_process()
            spec.loader.exec_module(module)
        handler = getattr(module, attribute)
        if self.xray is not None:
            handler = self.xray.traced(handler)
        handler = self._recorded(function, int(properties.get("MemorySize", 128)), handler)
        self._handlers[loaded] = handler
        self._modules[loaded] = module
        return handler

    def _recorded(self, function: str, memory_mb: int, handler: Handler) -> Handler:
        """The handler as Lambda runs it synchronously (an event source mapping's batch, API Gateway's
        request, a direct invoke): its request and its response held to 6 MB each (limits), each
        invocation recorded."""

        def invoke(event: dict[str, Any], context: Any) -> Any:
            refuse_request_over(function, event, limits.LAMBDA_SYNC_PAYLOAD_BYTES)  # never reaches the handler
            wall, clock, cpu = time.perf_counter(), self.clock.now(), time.thread_time()
            try:
                # Lambda runs every invocation in the function's environment, not only its cold start: a
                # client made on first use (S3's) signs with the function's credentials too.
                with self.environ(function):
                    result = handler(event, context)
            finally:
                self.invocations.append(
                    Invocation(
                        function,
                        memory_mb,
                        time.perf_counter() - wall,
                        self.clock.now() - clock,
                        time.thread_time() - cpu,
                    )
                )
            size = payload_size(result)
            if size > limits.LAMBDA_SYNC_PAYLOAD_BYTES:
                # The handler ran (and did what it did), but its answer never reaches the caller.
                raise FunctionError(
                    "Function.ResponseSizeTooLarge",
                    f"Response payload size ({size} bytes) exceeded maximum allowed payload size "
                    f"({limits.LAMBDA_SYNC_PAYLOAD_BYTES} bytes).",
                )
            return result

        return invoke

    def function_module(self, function: str) -> Any:
        """The module of a function's loaded handler (its module-level objects: clients, counters)."""
        self.load_handler(function)
        return self._modules[function]

    def function_timeout(self, function: str) -> float:
        properties = self.template["Resources"][function]["Properties"]
        return float(properties.get("Timeout", 3))

    def _invoke_for_api(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        """API Gateway's synchronous invocation: an answer later than the route's integration timeout
        never reaches the caller (API Gateway answered 503 meanwhile; the invocation still ran)."""
        wall, clock = time.perf_counter(), self.clock.now()
        result = self.load_handler(function)(event, self.context(function, self.function_timeout(function)))
        # On a compressed clock the handler's waits move the clock, not the wall; on the system clock both
        # move together: the longer of the two is the least the invocation took.
        took = max(time.perf_counter() - wall, self.clock.now() - clock)
        integration = min(
            (route.timeout_seconds for route in self.http_api.routes if route.function == function),
            default=limits.HTTP_API_MAX_INTEGRATION_TIMEOUT_MS / 1000,
        )
        own = self.function_timeout(function)
        # Whichever deadline passes first answers: the API's (503), or Lambda's own Timeout (the
        # invocation is stopped and fails; API Gateway answers 500).
        if took > min(integration, own):
            if integration <= own:
                raise IntegrationTimeout(
                    f"{function} answered after {took:.3f} s, the integration's timeout {integration} s"
                )
            raise FunctionError("Sandbox.Timedout", f"Task timed out after {own:.2f} seconds")
        assert isinstance(result, dict)
        return result

    def context(self, function_name: str, timeout_seconds: float = 120.0) -> LambdaContext:
        return LambdaContext(function_name=function_name, timeout_seconds=timeout_seconds, clock=self.clock)

    @contextlib.contextmanager
    def cut_at(self, point: str, *, times: int = 1) -> Iterator[list[str]]:
        """Invocations die at `point` (bcsync.backbone.cutpoints) the next `times` times it is reached."""
        hits: list[str] = []

        def hook(name: str) -> None:
            if name == point and len(hits) < times:
                hits.append(name)
                raise InvocationCut(name)

        cutpoints.install(hook)
        try:
            yield hits
        finally:
            cutpoints.install(None)
