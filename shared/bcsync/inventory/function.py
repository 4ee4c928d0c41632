"""The inventory function: both its queues (stock in, push jobs) and its schedules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import process_partial_response

from bcsync.aws import AwsClients
from bcsync.backbone.consumer import batch_processor
from bcsync.backbone.function import ColdStart, JobFunction, Reports
from bcsync.backbone.messages import JobQueue
from bcsync.errors import ConfigurationError
from bcsync.inventory.push import inventory_push_steps
from bcsync.inventory.receiver import StockReceiver
from bcsync.settings import RuntimeConfig
from bcsync.store.jobs import JobState
from bcsync.store.registry import StoreRegistry
from bigcommerce_client import CallCounter, Clock

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@dataclass
class InventoryFunction:
    config: RuntimeConfig
    clock: Clock
    reports: Reports | None = None
    aws: AwsClients | None = None

    def __post_init__(self) -> None:
        if not self.config.stock_dlq_url or not self.config.stock_inbound_arn:
            raise ConfigurationError(
                "bcsync is not configured: BCSYNC_STOCK_DLQ_URL and BCSYNC_STOCK_INBOUND_ARN are needed"
            )
        aws = self.aws or AwsClients()
        table = aws.table(self.config.state_table)
        self.jobs = JobFunction(
            job="inventory_push",
            config=self.config,
            step_factory=inventory_push_steps(
                table=table, clock=self.clock, retention_days=self.config.order_retention_days
            ),
            reports=self.reports,
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

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        records = event.get("Records") or []
        # One SQS batch comes from one queue: the StockInbound queue's go to the receiver, the rest
        # (the push's own job queue) and every schedule tick to the job function.
        if not records or records[0].get("eventSourceARN") != self.config.stock_inbound_arn:
            return self.jobs.handle(event, context)
        self.stock.figures = {}
        try:
            return process_partial_response(  # type: ignore[return-value]  # a TypedDict of that dict
                event=event, record_handler=self.stock.record, processor=self._processor, context=context
            )
        finally:
            if self.stock.figures and self.reports is not None:
                self.reports.batch("stock messages", dict(self.stock.figures))

    @property
    def calls(self) -> CallCounter:
        """Every BigCommerce call this function's clients made (the stock side makes none)."""
        return self.jobs.calls


def build_function(reports: Reports | None = None, start: ColdStart | None = None) -> InventoryFunction:
    """What `functions/inventory_push/app.py` runs: made once, from the environment."""
    start = start or ColdStart.from_env()
    return InventoryFunction(config=start.config, aws=start.aws, clock=start.clock, reports=reports)
