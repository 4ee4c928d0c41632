"""The returns function: the `ReturnsInbound` queue, one return's failure its own."""

from __future__ import annotations

import os

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from bcsync.backbone.consumer import StoreClients
from bcsync.backbone.function import ColdStart, Reports
from bcsync.errors import ConfigurationError
from bcsync.returns.consumer import ReturnsConsumer
from bcsync.warehouse.events import EventPublisher
from bigcommerce_client import CallCounter

QUEUE_VARIABLE = "BCSYNC_RETURNS_QUEUE_URL"  # a return whose store has no API budget left goes back here
DLQ_VARIABLE = "BCSYNC_RETURNS_DLQ_URL"


def build_function(reports: Reports | None = None, start: ColdStart | None = None) -> ReturnsConsumer:
    """What `functions/returns/app.py` runs: made once, from the environment."""
    start = start or ColdStart.from_env()
    config, aws, clock, table = start.config, start.aws, start.clock, start.table
    queue_url, dlq_url = os.environ.get(QUEUE_VARIABLE, ""), os.environ.get(DLQ_VARIABLE, "")
    if not queue_url or not dlq_url:
        raise ConfigurationError(f"bcsync is not configured: {QUEUE_VARIABLE} and {DLQ_VARIABLE} are needed")
    calls = CallCounter()
    return ReturnsConsumer(
        stores=StoreClients.for_stack(config, aws, table, clock=clock, calls=calls),
        table=table,
        sqs=aws.client("sqs"),
        queue_url=queue_url,
        dlq_url=dlq_url,
        persistence=DynamoDBPersistenceLayer(table_name=config.idempotency_table, boto3_client=aws.client("dynamodb")),
        publisher=EventPublisher.for_stack(config, aws),
        clock=clock,
        retention_days=config.order_retention_days,
        on_figures=(lambda figures: reports.batch("returns batch", figures)) if reports else None,
        calls=calls,
    )
