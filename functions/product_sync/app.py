"""Product sync: the BigCommerce catalog becomes the warehouse's SKU master (changes only)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from bcsync.aws import TRACED_MODULES, AwsClients
from bcsync.backbone.function import JobFunction, powertools_reports
from bcsync.catalog.job import product_sync_steps
from bcsync.catalog.state import CatalogState
from bcsync.settings import RuntimeConfig
from bcsync.warehouse.events import EventPublisher
from bigcommerce_client import PROCESS_CLOCK

logger = Logger(service="product_sync")
tracer = Tracer(service="product_sync", patch_modules=TRACED_MODULES)
metrics = Metrics(namespace="bcsync", service="product_sync")

CONFIG = RuntimeConfig.from_env()
AWS = AwsClients()
_TABLE = AWS.table(CONFIG.state_table)
_PUBLISHER = EventPublisher.for_stack(CONFIG, AWS)

FUNCTION = JobFunction(
    clock=PROCESS_CLOCK,
    job="product_sync",
    config=CONFIG,
    aws=AWS,
    step_factory=product_sync_steps(
        catalog_for=lambda store: CatalogState(_TABLE, store), publisher=_PUBLISHER, clock=PROCESS_CLOCK
    ),
    **powertools_reports("product_sync", logger, metrics),
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return FUNCTION.handle(event, context)
