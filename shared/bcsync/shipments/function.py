"""The tracking writeback function: the `ShipmentsInbound` queue, one shipment's failure its own."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from bcsync.backbone.consumer import StoreClients
from bcsync.backbone.function import ColdStart, Reports
from bcsync.errors import ConfigurationError
from bcsync.shipments.consumer import ShipmentsConsumer
from bigcommerce_client import CallCounter


def build_function(reports: Reports | None = None, start: ColdStart | None = None) -> ShipmentsConsumer:
    """What `functions/tracking_writeback/app.py` runs: made once, from the environment."""
    start = start or ColdStart.from_env()
    config, aws, clock, table = start.config, start.aws, start.clock, start.table
    if not config.shipments_dlq_url or not config.shipments_queue_url:
        raise ConfigurationError(
            "bcsync is not configured: BCSYNC_SHIPMENTS_QUEUE_URL and BCSYNC_SHIPMENTS_DLQ_URL are needed"
        )
    calls = CallCounter()
    return ShipmentsConsumer(
        stores=StoreClients.for_stack(config, aws, table, clock=clock, calls=calls),
        table=table,
        sqs=aws.client("sqs"),
        dlq_url=config.shipments_dlq_url,
        queue_url=config.shipments_queue_url,
        persistence=DynamoDBPersistenceLayer(table_name=config.idempotency_table, boto3_client=aws.client("dynamodb")),
        clock=clock,
        retention_days=config.order_retention_days,
        on_figures=(lambda figures: reports.batch("tracking writeback batch", figures)) if reports else None,
        calls=calls,
    )
