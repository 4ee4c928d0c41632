"""Tracking writeback: each warehouse shipment becomes exactly one BigCommerce shipment."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from bcsync.aws import TRACED_MODULES, AwsClients
from bcsync.backbone.function import powertools_batch_report
from bcsync.settings import RuntimeConfig
from bcsync.shipments.consumer import build_shipments_consumer
from bigcommerce_client import PROCESS_CLOCK

logger = Logger(service="tracking_writeback")
tracer = Tracer(service="tracking_writeback", patch_modules=TRACED_MODULES)
metrics = Metrics(namespace="bcsync", service="tracking_writeback")


CONSUMER = build_shipments_consumer(
    config=RuntimeConfig.from_env(),
    aws=AwsClients(),
    clock=PROCESS_CLOCK,
    on_figures=powertools_batch_report("tracking writeback batch", logger, metrics),
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return CONSUMER.handle(event, context)
