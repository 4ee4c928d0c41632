"""The merchant's console: BigCommerce's load callback and the pages it opens."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from bcsync.aws import TRACED_MODULES
from bcsync.console.function import build_function

# Service name comes from the template (POWERTOOLS_SERVICE_NAME).
logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)

FUNCTION = build_function()


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return FUNCTION.handle(event, context)
