"""What the webhook receiver function does with its two triggers.

`POST /webhooks/{store_hash}` (HTTP API) → `WebhookReceiver`; the hourly schedule
(`{"action": "check_hooks"}`) → `check_all_stores`, which re-activates hooks BigCommerce
deactivated after failed deliveries.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from bcsync.app.signed_payload import APP_SECRET_ENV, AppCredentials
from bcsync.aws import AwsClients
from bcsync.backbone.consumer import client_factory_for
from bcsync.backbone.function import ColdStart, Reports
from bcsync.backbone.messages import JobQueue
from bcsync.readback.state import ReadbackState
from bcsync.settings import RuntimeConfig
from bcsync.store.credentials import CredentialStore
from bcsync.store.jobs import JobState
from bcsync.store.registry import StoreRegistry
from bcsync.store.settings import JobName
from bcsync.webhooks.receiver import HOOK_SCOPES, Verdict, WebhookReceiver
from bcsync.webhooks.registration import HookCheck, check_all_stores
from bcsync.webhooks.signature import AppSigning
from bigcommerce_client import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


# The metric each verdict but a rejection counts; a rejection counts `rejected_<reason>`.
VERDICT_METRICS = {
    "accepted": "deliveries_accepted",
    "duplicate": "duplicates_dropped",
    "ignored": "deliveries_ignored",
}


class WebhookReports(Reports):
    """A job function's reports, and the receiver's: each delivery's verdict, each hourly hook check."""

    def verdict(self, verdict: Verdict) -> None:
        rejected = verdict.outcome == "rejected"
        self.count(f"rejected_{verdict.reason}" if rejected else VERDICT_METRICS[verdict.outcome])
        if rejected:
            self.logger.warning("webhook delivery rejected", extra={"reason": verdict.reason, "status": verdict.status})

    def checks(self, checks: list[HookCheck]) -> None:
        self.count("stores_hooks_checked", len(checks))
        self.count("stores_hooks_repaired", sum(1 for c in checks if c.report is not None and c.report.changed()))
        self.count("stores_hooks_problems", sum(1 for c in checks if c.problem))


@dataclass
class WebhookFunction:
    config: RuntimeConfig
    reports: WebhookReports | None = None
    clock: Clock = SYSTEM_CLOCK
    aws: AwsClients | None = None

    def __post_init__(self) -> None:
        aws = self.aws or AwsClients()
        table = aws.table(self.config.state_table)
        sqs = aws.client("sqs")
        jobs: set[JobName] = set(HOOK_SCOPES.values())
        self._credentials = CredentialStore(client=aws.client("secretsmanager"), prefix=self.config.secret_prefix)
        self._registry = StoreRegistry(table)
        self.receiver = WebhookReceiver(
            credentials=self._credentials,
            job_state=JobState(table),
            queues={job: JobQueue(sqs, self.config.job_queue_urls[job]) for job in jobs},
            clock=self.clock,
            persistence=DynamoDBPersistenceLayer(
                table_name=self.config.idempotency_table, boto3_client=aws.client("dynamodb")
            ),
            debounce_seconds=self.config.webhook_debounce_seconds,
            app_signing=app_signing(aws, clock=self.clock),
            news=lambda store_hash, subject, at: ReadbackState(table, store_hash).note(subject, at),
        )
        self._client_factory = client_factory_for(self.config, clock=self.clock)
        self.api = APIGatewayHttpResolver()
        self.api.post("/webhooks/<store_hash>")(self._receive)

    def _receive(self, store_hash: str) -> Response[dict[str, str]]:
        event = self.api.current_event
        verdict = self.receiver.receive(
            store_hash=store_hash,
            headers=event.headers,
            body=event.decoded_body or "",
            context=self.api.lambda_context,
        )
        if self.reports is not None:
            self.reports.verdict(verdict)
        return Response(status_code=verdict.status, content_type=content_types.APPLICATION_JSON, body=verdict.body())

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if event.get("action") == "check_hooks":
            checks = list(
                check_all_stores(
                    registry=self._registry, credentials=self._credentials, client_factory=self._client_factory
                )
            )
            if self.reports is not None:
                self.reports.checks(checks)
            return {
                "checked": [check.store_hash for check in checks if check.problem is None],
                "repaired": [check.store_hash for check in checks if check.report and check.report.changed()],
                "problems": [f"store {check.store_hash}: {check.problem}" for check in checks if check.problem],
            }
        return self.api.resolve(event, context)


def app_signing(aws: AwsClients, *, clock: Clock, environ: Mapping[str, str] | None = None) -> AppSigning:
    """The app's signed deliveries, when the stack names an app secret (`BCSYNC_APP_SECRET`)."""
    secret = (os.environ if environ is None else environ).get(APP_SECRET_ENV, "")
    if not secret:
        return AppSigning(None, clock=clock.now)
    return AppSigning(lambda: AppCredentials.from_secret(aws.client("secretsmanager"), secret), clock=clock.now)


def build_function(reports: WebhookReports | None = None, start: ColdStart | None = None) -> WebhookFunction:
    """What `functions/webhook_receiver/app.py` runs: made once, from the environment."""
    start = start or ColdStart.from_env()
    return WebhookFunction(config=start.config, aws=start.aws, clock=start.clock, reports=reports)
