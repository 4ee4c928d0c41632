"""What `make demo`'s stages share: its store, a clock it can move on, and the `Demo` that runs functions,
drains their queues and keeps the problems it found (local_runtime.demo runs the stages; demo_readback is one)."""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Callable
from typing import Any

from bcsync.store.dynamo import scan_all
from bcsync.store.jobs import JobState
from bigcommerce_client import SystemClock
from bigcommerce_sandbox import Sandbox, SandboxStore

from .deployment import LocalDeployment
from .warehouse import SimulatedWarehouse

STORE = "demo123"


class DemoClock(SystemClock):
    """Wall-clock time that the demo can move on, so a 30-minute hold window ends without waiting for it."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return super().now() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class Demo:
    def __init__(self, stack: LocalDeployment, sandbox: Sandbox, store: SandboxStore) -> None:
        self.stack, self.sandbox, self.store = stack, sandbox, store
        self.warehouse = SimulatedWarehouse(STORE)
        self.problems: list[str] = []
        self.table = stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])

    def check(self, ok: bool, problem: str) -> None:
        if not ok:
            self.problems.append(problem)

    def run(self, function: str, event: dict[str, Any] | None, *queues: str, wait: float = 0.0) -> None:
        """A function's trigger (a schedule tick, or nothing), then its queues drained as Lambda would."""
        handler = self.stack.load_handler(function)
        with contextlib.redirect_stdout(io.StringIO()):  # the handlers' JSON log lines and EMF metrics
            if event is not None:
                handler(event, self.stack.context(function))
            if wait:
                time.sleep(wait)  # SQS holds a debounced job message until its window ends
            for queue in queues:
                report = self.stack.deliver_sqs(queue, handler)
                self.check(report.failed == 0 and report.errors == 0, f"{function} on {queue}: {report}")

    def delayed(self, queue: str) -> int:
        """Messages on `queue` that SQS holds back for now (sent again for when the store's budget returns)."""
        attributes = self.stack.client("sqs").get_queue_attributes(
            QueueUrl=self.stack.physical[queue]["Ref"], AttributeNames=["ApproximateNumberOfMessagesDelayed"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessagesDelayed"])

    def send(self, queue: str, messages: list[dict[str, Any]]) -> None:
        sqs, url = self.stack.client("sqs"), self.stack.physical[queue]["Ref"]
        for message in messages:
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))

    def calls(self, function: str, counter: Callable[[Any], Any]) -> int:
        return int(counter(self.stack.function_module(function)).total(STORE))

    def run_figure(self, job: str, figure: str) -> int:
        run = JobState(self.table).last_run(STORE, job)
        return run.figures.get(figure, 0) if run else 0

    def order_records(self) -> dict[str, int]:
        """released / cancelled / skipped / held, from bcsync's own order records."""
        counts: dict[str, int] = {}
        for item in self._records():
            counts[str(item["state"])] = counts.get(str(item["state"]), 0) + 1
        return counts

    def skipped(self) -> list[tuple[int, str]]:
        """Each order bcsync did not send, with its one reason."""
        return sorted((int(item["order_id"]), str(item.get("reason", ""))) for item in self._records()
                      if item["state"] == "skipped")  # fmt: skip

    def _records(self) -> list[dict[str, Any]]:
        return list(
            scan_all(
                self.table,
                FilterExpression="begins_with(pk, :prefix) AND sk = :sk",
                ExpressionAttributeValues={":prefix": f"STORE#{STORE}#ORDER#", ":sk": "ORDER"},
            )
        )
