"""The tracking writeback function: the `ShipmentsInbound` queue, one shipment's failure its own."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from bcsync.aws import AwsClients
from bcsync.backbone.consumer import StoreClients, client_factory_for
from bcsync.backbone.function import Reports
from bcsync.errors import ConfigurationError
from bcsync.settings import RuntimeConfig
from bcsync.shipments.consumer import ShipmentsConsumer
from bcsync.store.credentials import CredentialStore
from bcsync.store.registry import StoreRegistry
from bigcommerce_client import PROCESS_CLOCK, CallCounter, Clock


def build_function(
    reports: Reports | None = None,
    *,
    config: RuntimeConfig | None = None,
    aws: AwsClients | None = None,
    clock: Clock = PROCESS_CLOCK,
) -> ShipmentsConsumer:
    """What `functions/tracking_writeback/app.py` runs, from its environment; clients made once, here."""
    config = config or RuntimeConfig.from_env()
    if not config.shipments_dlq_url:
        raise ConfigurationError("bcsync is not configured: BCSYNC_SHIPMENTS_DLQ_URL is needed")
    aws = aws or AwsClients()
    table = aws.table(config.state_table)
    calls = CallCounter()
    return ShipmentsConsumer(
        stores=StoreClients(
            registry=StoreRegistry(table),
            credentials=CredentialStore(client=aws.client("secretsmanager")),
            client_factory=client_factory_for(config, clock=clock, counter=calls),
        ),
        table=table,
        sqs=aws.client("sqs"),
        dlq_url=config.shipments_dlq_url,
        persistence=DynamoDBPersistenceLayer(table_name=config.idempotency_table, boto3_client=aws.client("dynamodb")),
        clock=clock,
        retention_days=config.order_retention_days,
        on_figures=(lambda figures: reports.batch("tracking writeback batch", figures)) if reports else None,
        calls=calls,
    )
