"""What a job function does with its two triggers: a schedule tick fans out, a queue batch runs.

A function's app.py builds one at cold start (its flow's `build_function`) and hands it every event;
what each run, tick and batch did goes to `Reports`: one structured log line and the metrics, with the
same figures.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from bcsync.aws import AwsClients
from bcsync.backbone.consumer import JobConsumer, StepFactory, build_job_consumer
from bcsync.backbone.fan_out import FanOutResult, fan_out
from bcsync.backbone.messages import JobMessage, JobQueue
from bcsync.settings import RuntimeConfig
from bcsync.store.jobs import JobRun
from bcsync.store.registry import StoreRegistry
from bcsync.store.settings import JobName
from bcsync.store.turns import ScheduledTurns
from bigcommerce_client import PROCESS_CLOCK, SYSTEM_CLOCK, CallCounter, Clock

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb.service_resource import Table


@dataclass(frozen=True)
class ColdStart:
    """What a function makes once, at cold start, and hands down: its configuration (the environment),
    one AWS session's clients, the state table and the clock (the system clock in Lambda, the local
    runtime's in tests)."""

    config: RuntimeConfig
    aws: AwsClients
    clock: Clock

    @classmethod
    def from_env(cls, *, clock: Clock | None = None) -> ColdStart:
        return cls(config=RuntimeConfig.from_env(), aws=AwsClients(), clock=clock or PROCESS_CLOCK)

    @property
    def table(self) -> Table:
        return self.aws.table(self.config.state_table)

    def job_function(self, job: JobName, step_factory: StepFactory, reports: Reports | None) -> JobFunction:
        return JobFunction(
            job=job, config=self.config, step_factory=step_factory, reports=reports, clock=self.clock, aws=self.aws
        )


CORE_LOGGERS = ("bcsync", "bigcommerce_client")


class Reports:
    """Where a function says what it did: a structured log line and CloudWatch metrics with the same
    figures. The service name and the metrics namespace are the template's (Powertools reads
    `POWERTOOLS_SERVICE_NAME` and `POWERTOOLS_METRICS_NAMESPACE`), never repeated in code."""

    def __init__(self, logger: Logger, metrics: Metrics) -> None:
        self.logger = logger
        self.metrics = metrics
        # The core's own loggers (`bcsync.*`, `bigcommerce_client`) write through this Logger's handler, as
        # the same structured JSON with their `extra` fields. Left to propagate, they would reach the Lambda
        # runtime's root handler: plain text with no fields, and nothing below WARNING.
        for name in CORE_LOGGERS:
            logging.getLogger(name)  # registered, so Powertools finds it
        copy_config_to_registered_loggers(source_logger=logger, include=set(CORE_LOGGERS))

    def run(self, run: JobRun) -> None:
        """One job run for one store."""
        self.logger.info(
            f"{run.job.replace('_', ' ')} run",
            extra={"store_hash": run.store_hash, "outcome": run.outcome, "problems": run.problems[:20], **run.figures},
        )
        self.figures(run.figures)
        self.count("problems", len(run.problems))

    def tick(self, result: FanOutResult) -> None:
        """One schedule tick's fan-out."""
        self.count("stores_queued", len(result.queued))
        self.count("stores_with_problems", len(result.problems))

    def batch(self, title: str, figures: dict[str, int]) -> None:
        """One batch of warehouse messages."""
        self.logger.info(title, extra=figures)
        self.figures(figures)

    def figures(self, figures: dict[str, int]) -> None:
        for figure, value in figures.items():
            self.count(figure, value, seconds=figure.endswith("_seconds"))

    def count(self, name: str, value: int = 1, *, seconds: bool = False) -> None:
        from aws_lambda_powertools.metrics import MetricUnit

        self.metrics.add_metric(name=name, unit=MetricUnit.Seconds if seconds else MetricUnit.Count, value=value)


logger = logging.getLogger("bcsync.backbone.function")


@dataclass
class JobFunction:
    job: JobName
    config: RuntimeConfig
    step_factory: StepFactory
    reports: Reports | None = None
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
            on_run=self.reports.run if self.reports else None,
        )
        table = aws.table(self.config.state_table)
        self._registry = StoreRegistry(table)
        self._turns = ScheduledTurns(table)
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
                    "flow_off": result.flow_off,
                    "reconciled": result.reconciled,
                    "problems": result.problems,
                },
            )
            if self.reports is not None:
                self.reports.tick(result)
            return {"queued": result.queued, "problems": result.problems}
        raise ValueError(f"{self.job}: not an SQS batch or a schedule tick: keys {sorted(event)}")
