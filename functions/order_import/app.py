"""Order import: every paid order reaches the warehouse, once per version, in seconds."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from bcsync.aws import TRACED_MODULES, AwsClients
from bcsync.backbone.function import JobFunction, powertools_reports
from bcsync.catalog.state import CatalogState
from bcsync.orders.in_flight import InFlightOrders
from bcsync.orders.job import order_import_steps
from bcsync.orders.state import HeldOrders, OrderState
from bcsync.settings import RuntimeConfig
from bcsync.warehouse.events import EventPublisher
from bigcommerce_client import PROCESS_CLOCK

logger = Logger(service="order_import")
tracer = Tracer(service="order_import", patch_modules=TRACED_MODULES)
metrics = Metrics(namespace="bcsync", service="order_import")

CONFIG = RuntimeConfig.from_env()
AWS = AwsClients()
_TABLE = AWS.table(CONFIG.state_table)
_PUBLISHER = EventPublisher.for_stack(CONFIG, AWS)

FUNCTION = JobFunction(
    clock=PROCESS_CLOCK,
    job="order_import",
    config=CONFIG,
    aws=AWS,
    step_factory=order_import_steps(
        state_for=lambda store: OrderState(_TABLE, store, retention_days=CONFIG.order_retention_days),
        held_for=lambda store: HeldOrders(_TABLE, store),
        catalog_for=lambda store: CatalogState(_TABLE, store),
        in_flight_for=lambda store: InFlightOrders(_TABLE, store, retention_days=CONFIG.order_retention_days),
        publisher=_PUBLISHER,
        clock=PROCESS_CLOCK,
    ),
    **powertools_reports("order_import", logger, metrics),
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return FUNCTION.handle(event, context)
