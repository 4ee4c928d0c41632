"""Read back: shipments others made in BigCommerce, and a source store's stock, told to the warehouse once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from bcsync.aws import TRACED_MODULES
from bcsync.backbone.function import Reports
from bcsync.readback.function import build_function

# Service name and metrics namespace come from the template (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE).
logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()

FUNCTION = build_function(Reports(logger, metrics))


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return FUNCTION.handle(event, context)
