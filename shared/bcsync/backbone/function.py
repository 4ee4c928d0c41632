"""What a job function does with its two triggers: a schedule tick fans out, a queue batch runs.

A function's app.py builds one `JobFunction` at cold start and hands it every event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bcsync.aws import AwsClients
from bcsync.backbone.consumer import JobConsumer, StepFactory, build_job_consumer
from bcsync.backbone.fan_out import FanOutResult, fan_out
from bcsync.backbone.messages import JobMessage, JobQueue
from bcsync.settings import RuntimeConfig
from bcsync.store.jobs import JobRun, JobState
from bcsync.store.registry import StoreRegistry
from bcsync.store.settings import JobName
from bigcommerce_client import SYSTEM_CLOCK, CallCounter, Clock

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.utilities.typing import LambdaContext


logger = logging.getLogger("bcsync.backbone.function")


@dataclass
class JobFunction:
    job: JobName
    config: RuntimeConfig
    step_factory: StepFactory
    on_run: Callable[[JobRun], None] | None = None
    on_tick: Callable[[FanOutResult], None] | None = None
    clock: Clock = SYSTEM_CLOCK
    aws: AwsClients | None = None

    def __post_init__(self) -> None:
        aws = self.aws or AwsClients()
        self._consumer = build_job_consumer(
            self.job,
            config=self.config,
            step_factory=self.step_factory,
            clock=self.clock,
            aws=aws,
            on_run=self.on_run,
        )
        table = aws.table(self.config.state_table)
        self._registry = StoreRegistry(table)
        self._turns = JobState(table)
        self._queue = JobQueue(aws.client("sqs"), self.config.job_queue_urls[self.job])

    @property
    def consumer(self) -> JobConsumer:
        return self._consumer

    @property
    def calls(self) -> CallCounter:
        """Every BigCommerce call this function's clients made (reports and benchmarks)."""
        return self._consumer.calls

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if "Records" in event:
            return self._consumer.handle(event, context)
        if event.get("action") == "run":
            # An on-demand run for one store (`bcsync orders fetch`, or an EventBridge rule of the user's):
            # queued like any job message, so it shares the store's pace and failure handling.
            message = JobMessage(
                job=self.job,
                store_hash=event.get("store_hash", ""),
                trigger="manual",
                options=event.get("options") or {},
            )
            self._queue.send(message)
            return {"queued": [message.store_hash], "problems": []}
        if event.get("action") == "tick":
            options = {key: value for key, value in event.items() if key != "action"}
            result = fan_out(
                self.job, self._registry, self._queue, options=options, turns=self._turns, now=self.clock.now()
            )
            logger.info(
                "schedule tick",
                extra={
                    "job": self.job,
                    "queued": result.queued,
                    "not_due": result.not_due,
                    "problems": result.problems,
                },
            )
            if self.on_tick is not None:
                self.on_tick(result)
            return {"queued": result.queued, "problems": result.problems}
        raise ValueError(f"{self.job}: not an SQS batch or a schedule tick: keys {sorted(event)}")


def powertools_reports(job: JobName, logger: Logger, metrics: Metrics) -> dict[str, Any]:
    """`on_run` and `on_tick` for a job function: one structured line and the metrics per run, with
    the same figures; the fan-out's figures per tick."""
    from aws_lambda_powertools.metrics import MetricUnit

    def on_run(run: JobRun) -> None:
        logger.info(
            f"{job.replace('_', ' ')} run",
            extra={"store_hash": run.store_hash, "outcome": run.outcome, "problems": run.problems[:20], **run.figures},
        )
        for figure, value in run.figures.items():
            unit = MetricUnit.Seconds if figure.endswith("_seconds") else MetricUnit.Count
            metrics.add_metric(name=figure, unit=unit, value=value)
        metrics.add_metric(name="problems", unit=MetricUnit.Count, value=len(run.problems))

    def on_tick(result: FanOutResult) -> None:
        metrics.add_metric(name="stores_queued", unit=MetricUnit.Count, value=len(result.queued))
        metrics.add_metric(name="stores_with_problems", unit=MetricUnit.Count, value=len(result.problems))

    return {"on_run": on_run, "on_tick": on_tick}


def powertools_batch_report(title: str, logger: Logger, metrics: Metrics) -> Callable[[dict[str, int]], None]:
    """`on_figures` of a consumer of warehouse messages: one structured line and the metrics per batch,
    with the same figures."""
    from aws_lambda_powertools.metrics import MetricUnit

    def report(figures: dict[str, int]) -> None:
        logger.info(title, extra=figures)
        for figure, value in figures.items():
            unit = MetricUnit.Seconds if figure.endswith("_seconds") else MetricUnit.Count
            metrics.add_metric(name=figure, unit=unit, value=value)

    return report
