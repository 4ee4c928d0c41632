"""The inventory function: both its queues (stock in, push jobs) and its schedules."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import process_partial_response

from bcsync.aws import AwsClients
from bcsync.backbone.consumer import batch_processor
from bcsync.backbone.fan_out import FanOutResult
from bcsync.backbone.function import JobFunction
from bcsync.backbone.messages import JobQueue
from bcsync.errors import ConfigurationError
from bcsync.inventory.push import inventory_push_steps
from bcsync.inventory.receiver import StockReceiver
from bcsync.settings import RuntimeConfig
from bcsync.store.jobs import JobRun, JobState
from bcsync.store.registry import StoreRegistry
from bigcommerce_client import Clock

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext


# --- the function: both queues and the schedules -------------------------------------------------------------


@dataclass
class InventoryFunction:
    config: RuntimeConfig
    clock: Clock
    on_run: Callable[[JobRun], None] | None = None
    on_tick: Callable[[FanOutResult], None] | None = None
    on_figures: Callable[[dict[str, int]], None] | None = None
    aws: AwsClients | None = None

    def __post_init__(self) -> None:
        if not self.config.stock_dlq_url:
            raise ConfigurationError("bcsync is not configured: BCSYNC_STOCK_DLQ_URL is needed")
        aws = self.aws or AwsClients()
        table = aws.table(self.config.state_table)
        self.jobs = JobFunction(
            job="inventory_push",
            config=self.config,
            step_factory=inventory_push_steps(
                table=table, clock=self.clock, retention_days=self.config.order_retention_days
            ),
            on_run=self.on_run,
            on_tick=self.on_tick,
            clock=self.clock,
            aws=aws,
        )
        sqs = aws.client("sqs")
        self.stock = StockReceiver(
            registry=StoreRegistry(table),
            table=table,
            job_state=JobState(table),
            queue=JobQueue(sqs, self.config.job_queue_urls["inventory_push"]),
            sqs=sqs,
            dlq_url=self.config.stock_dlq_url,
            clock=self.clock,
            debounce_seconds=self.config.webhook_debounce_seconds,
        )
        self._processor = batch_processor()
        self._context: LambdaContext | None = None

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if "Records" not in event:
            return self.jobs.handle(event, context)
        self._context = context
        self.stock.figures = {}
        try:
            return process_partial_response(  # type: ignore[return-value]  # a TypedDict of that dict
                event=event, record_handler=self._record, processor=self._processor, context=context
            )
        finally:
            if self.stock.figures and self.on_figures is not None:
                self.on_figures(dict(self.stock.figures))

    def _record(self, record: SQSRecord) -> None:
        # Both queues feed this function: a job message names its job, a warehouse message its type.
        if _is_job_message(record.body):
            assert self._context is not None
            self.jobs.consumer.process(record, self._context)
        else:
            self.stock.record(record)


def _is_job_message(body: str) -> bool:
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    return isinstance(parsed, dict) and "job" in parsed and "type" not in parsed
