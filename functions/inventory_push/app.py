"""Inventory push: BigCommerce shows what the warehouse can really sell."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from bcsync.aws import TRACED_MODULES, AwsClients
from bcsync.backbone.function import powertools_batch_report, powertools_reports
from bcsync.inventory.function import InventoryFunction
from bcsync.settings import RuntimeConfig
from bigcommerce_client import PROCESS_CLOCK

logger = Logger(service="inventory_push")
tracer = Tracer(service="inventory_push", patch_modules=TRACED_MODULES)
metrics = Metrics(namespace="bcsync", service="inventory_push")


FUNCTION = InventoryFunction(
    config=RuntimeConfig.from_env(),
    aws=AwsClients(),
    clock=PROCESS_CLOCK,
    on_figures=powertools_batch_report("stock messages", logger, metrics),
    **powertools_reports("inventory_push", logger, metrics),
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return FUNCTION.handle(event, context)
