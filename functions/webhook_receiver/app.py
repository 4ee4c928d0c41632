"""Webhook receiver: BigCommerce's deliveries mark the store's jobs due, within seconds."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from bcsync.aws import TRACED_MODULES, AwsClients
from bcsync.settings import RuntimeConfig
from bcsync.webhooks.function import WebhookFunction
from bcsync.webhooks.receiver import Verdict
from bcsync.webhooks.registration import HookCheck
from bigcommerce_client import PROCESS_CLOCK

logger = Logger(service="webhook_receiver")
tracer = Tracer(service="webhook_receiver", patch_modules=TRACED_MODULES)
metrics = Metrics(namespace="bcsync", service="webhook_receiver")

_VERDICT_METRICS = {
    "accepted": "deliveries_accepted",
    "duplicate": "duplicates_dropped",
    "ignored": "deliveries_ignored",
}


def _count_verdict(verdict: Verdict) -> None:
    name = f"rejected_{verdict.reason}" if verdict.outcome == "rejected" else _VERDICT_METRICS[verdict.outcome]
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    if verdict.outcome == "rejected":
        logger.warning("webhook delivery rejected", extra={"reason": verdict.reason, "status": verdict.status})


def _count_checks(checks: list[HookCheck]) -> None:
    repaired = sum(1 for check in checks if check.report is not None and check.report.changed())
    metrics.add_metric(name="stores_hooks_checked", unit=MetricUnit.Count, value=len(checks))
    metrics.add_metric(name="stores_hooks_repaired", unit=MetricUnit.Count, value=repaired)
    metrics.add_metric(name="stores_hooks_problems", unit=MetricUnit.Count, value=sum(1 for c in checks if c.problem))


FUNCTION = WebhookFunction(
    config=RuntimeConfig.from_env(),
    aws=AwsClients(),
    on_verdict=_count_verdict,
    on_check=_count_checks,
    clock=PROCESS_CLOCK,
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return FUNCTION.handle(event, context)
