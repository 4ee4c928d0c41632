"""template.yaml's application deployed locally: its resources in a moto server on 127.0.0.1, its
functions' real handlers invoked in this process, with AWS's delivery semantics.

`LocalDeployment` is made of one part per job, each in its module:
- `Stack` (stack.py): every resource created in moto or named as not emulated (resources.py),
  intrinsic functions, outputs, the environment Lambda gives each function;
- `Functions` (invoke.py): handlers imported from their CodeUri, Lambda contexts whose deadline runs
  on the injectable clock, recorded invocations, cut points;
- `SqsDelivery` (sqs.py): the event source mapping's batches, failures, redrive and duplicates;
- `Schedules` (schedules.py): schedule rules due on the clock (`fire_schedules` invokes their targets).
This module starts, resets and stops it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import socket
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import boto3

from bigcommerce_client import SYSTEM_CLOCK, Clock

from .gateway import LocalHttpApi, routes_of
from .schedules import Schedules
from .sqs import SqsDelivery
from .stack import MOTO_CREDENTIAL
from .template import PSEUDO, REGION, STACK, expanded_template

if TYPE_CHECKING:
    from .moto_server import AwsObserver, TappedMotoServer
    from .xray import LocalXRayDaemon


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalDeployment(SqsDelivery, Schedules):
    """One moto server on 127.0.0.1 holding the stack; `reset()` gives a test a fresh one."""

    def __init__(
        self,
        *,
        clock: Clock = SYSTEM_CLOCK,
        parameters: dict[str, str] | None = None,
        moto_endpoint: str | None = None,
        stack_name: str = STACK,
    ) -> None:
        """`moto_endpoint`: a moto server already running (in another process, e.g. for benchmarks that
        measure the handlers' memory alone, or another deployment's: a second stack in the same account);
        by default one is started in this process. `stack_name`: AWS::StackName, which names the stack's
        resources, its metrics namespace and its secret prefix."""
        self.clock = clock
        self.stack_name = stack_name
        self.pseudo = PSEUDO | {"AWS::StackName": stack_name}
        self.template = expanded_template()
        self._deployed_template = self.template
        self.defaults = {
            name: str(spec.get("Default", "")) for name, spec in self.template.get("Parameters", {}).items()
        }
        self.parameters = self.defaults | (parameters or {})
        self.port = _free_port()
        self.endpoint = moto_endpoint or f"http://127.0.0.1:{self.port}"
        self._server: TappedMotoServer | None = None
        if moto_endpoint is None:
            from .moto_server import TappedMotoServer  # moto is heavy: only a process that serves it imports it

            self._server = TappedMotoServer(port=self.port, now=lambda: self.clock.now())

        self.session = boto3.session.Session(
            aws_access_key_id=MOTO_CREDENTIAL,
            aws_secret_access_key=MOTO_CREDENTIAL,
            region_name=REGION,
        )
        self.physical = {}
        self.created = {}
        self.not_emulated = {}
        self.skipped_by_condition = set()
        self._handlers = {}
        self.invocations = []
        self.xray = None  # set (trace_with): handlers loaded from then on run traced
        self._modules = {}
        self._tls_dir = Path(tempfile.mkdtemp(prefix="bcsync-local-tls-"))
        self.http_api = LocalHttpApi(routes_of(self.template), self._invoke_for_api, tls_dir=self._tls_dir)

    def start(self) -> LocalDeployment:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per AWS call drowns everything
        if self._server is not None:
            self._server.start()
        self.create_resources()
        self.http_api.start()
        return self

    def stop(self) -> None:
        self.http_api.stop()
        if self._server is not None:
            self._server.stop()
        shutil.rmtree(self._tls_dir, ignore_errors=True)

    def __enter__(self) -> LocalDeployment:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def observe_aws(self, observer: AwsObserver) -> None:
        """Show `observer` every request sent to this process's moto server (none when moto runs elsewhere)."""
        if self._server is not None:
            self._server.observers.append(observer)

    def inject_aws_fault(self, service: str, operation: str, code: str, *, times: int = 1, status: int = 400) -> None:
        """The next `times` calls of `operation` (e.g. "secretsmanager", "GetSecretValue") get AWS's `code`
        (e.g. "ThrottlingException"), or no answer at all (`limits.NO_ANSWER`: a call that times out): a
        fault AWS can answer with, made on purpose."""
        if self._server is None:
            raise RuntimeError("faults are injected into this process's moto server; this one runs elsewhere")
        self._server.faults.add(service, operation, code, times=times, status=status)

    def aws_faults_left(self) -> int:
        """How many injected AWS faults have not been met yet (0 once every one was)."""
        return self._server.faults.left() if self._server is not None else 0

    def unobserve_aws(self, observer: AwsObserver) -> None:
        if self._server is not None and observer in self._server.observers:
            self._server.observers.remove(observer)

    def trace_with(self, daemon: LocalXRayDaemon | None) -> None:
        """Handlers loaded from now on run with active tracing, sending to `daemon`; None ends it."""
        if daemon is None and self.xray is not None:
            self.xray.untraced()
        self.xray = daemon
        self._handlers.clear()  # loaded again, traced or not

    def redeploy(self, parameters: dict[str, str]) -> None:
        """A fresh deployment with these parameter values (moto's state is per process, one account: this
        empties it, so every other stack sharing the server goes too)."""
        self.parameters = self.defaults | parameters
        self.template = self._deployed_template  # undo any test's edits
        self._handlers.clear()
        self.reset()

    def reset(self) -> None:
        """Empty moto - the whole account, any other stack in it too - and create this stack again: each
        test starts from a fresh deployment."""
        import requests

        requests.post(f"{self.endpoint}/moto-api/reset", timeout=10)
        if self._server is not None:
            self._server.faults.clear()  # a fault injected for one test never reaches the next
        self.physical.clear()
        self.created.clear()
        self.not_emulated.clear()
        self.skipped_by_condition.clear()
        self.invocations.clear()
        self.create_resources()


def main() -> int:
    """`python -m local_runtime`: start the stack, print its environment, serve until stdin closes."""
    with LocalDeployment() as stack:
        print(json.dumps(stack.environment()), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            sys.stdin.read()
    return 0
