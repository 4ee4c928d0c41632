"""Product sync: the BigCommerce catalog becomes the warehouse's SKU master (changes only)."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from bcsync.catalog_state import CatalogState
from bcsync.events import EventPublisher
from bcsync.job_function import JobFunction
from bcsync.jobs import FanOutResult
from bcsync.product_sync import product_sync_steps
from bcsync.settings import RuntimeConfig
from bcsync.state import JobRun
from bigcommerce_client import SYSTEM_CLOCK

logger = Logger(service="product_sync")
tracer = Tracer(service="product_sync")
metrics = Metrics(namespace="bcsync", service="product_sync")

CONFIG = RuntimeConfig.from_env()
_TABLE = boto3.resource("dynamodb").Table(CONFIG.state_table)
_PUBLISHER = EventPublisher.for_stack(CONFIG)


def _report(run: JobRun) -> None:
    """One structured line and the metrics per run, with the same figures."""
    logger.info("product sync run", extra={"store_hash": run.store_hash, "outcome": run.outcome, **run.figures})
    for figure, value in run.figures.items():
        metrics.add_metric(name=figure, unit=MetricUnit.Count, value=value)


def _report_tick(result: FanOutResult) -> None:
    metrics.add_metric(name="stores_queued", unit=MetricUnit.Count, value=len(result.queued))
    metrics.add_metric(name="stores_with_problems", unit=MetricUnit.Count, value=len(result.problems))


FUNCTION = JobFunction(
    job="product_sync",
    config=CONFIG,
    step_factory=product_sync_steps(
        catalog_for=lambda store: CatalogState(_TABLE, store), publisher=_PUBLISHER, clock=SYSTEM_CLOCK
    ),
    on_run=_report,
    on_tick=_report_tick,
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return FUNCTION.handle(event, context)
