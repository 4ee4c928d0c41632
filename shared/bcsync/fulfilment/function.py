"""The fulfilment function: the `FulfillmentRequestsInbound` queue, one request's failure its own."""

from __future__ import annotations

import os

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from bcsync.backbone.consumer import StoreClients
from bcsync.backbone.function import ColdStart, Reports
from bcsync.errors import ConfigurationError
from bcsync.fulfilment.consumer import FulfilmentConsumer
from bcsync.warehouse.events import EventPublisher
from bigcommerce_client import CallCounter

QUEUE_URL_ENV = "BCSYNC_FULFILMENT_QUEUE_URL"  # a held request goes back here until it is due
DLQ_URL_ENV = "BCSYNC_FULFILMENT_DLQ_URL"  # refused and never-valid requests, with their reason


def build_function(reports: Reports | None = None, start: ColdStart | None = None) -> FulfilmentConsumer:
    """What `functions/fulfilment/app.py` runs: made once, from the environment."""
    start = start or ColdStart.from_env()
    config, aws, clock, table = start.config, start.aws, start.clock, start.table
    queue_url, dlq_url = os.environ.get(QUEUE_URL_ENV, ""), os.environ.get(DLQ_URL_ENV, "")
    if not queue_url or not dlq_url:
        raise ConfigurationError(f"bcsync is not configured: {QUEUE_URL_ENV} and {DLQ_URL_ENV} are needed")
    calls = CallCounter()
    return FulfilmentConsumer(
        stores=StoreClients.for_stack(config, aws, table, clock=clock, calls=calls),
        table=table,
        sqs=aws.client("sqs"),
        dlq_url=dlq_url,
        queue_url=queue_url,
        persistence=DynamoDBPersistenceLayer(table_name=config.idempotency_table, boto3_client=aws.client("dynamodb")),
        publisher=EventPublisher.for_stack(config, aws),
        clock=clock,
        retention_days=config.order_retention_days,
        on_figures=(lambda figures: reports.batch("fulfilment batch", figures)) if reports else None,
        calls=calls,
    )
