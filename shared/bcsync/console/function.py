"""What `functions/console/app.py` runs: the merchant's console behind the HTTP API.

`GET /app/load` (BigCommerce's load callback) verifies the signed payload with the app's client secret,
each `jti` once (`bcsync.app.signed_payload`), and opens a session bound to the payload's store; the
`/console/...` pages then read that session. The app's secret is read on the first request that needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bcsync.app.signed_payload import AppCredentials, DynamoJtiLedger, verify_signed_payload
from bcsync.backbone.function import ColdStart
from bcsync.console.data import ConsoleData
from bcsync.console.router import ConsoleApp
from bcsync.console.session import SessionSigner, derive_key
from bcsync.store.credentials import CredentialStore

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


class MerchantConsole:
    def __init__(self, start: ColdStart) -> None:
        config, aws = start.config, start.aws
        self._secrets = aws.client("secretsmanager")
        self._app: AppCredentials | None = None
        table = aws.table(config.state_table)
        self._ledger = DynamoJtiLedger(table)
        self._clock = start.clock
        self.console = ConsoleApp(
            data=ConsoleData(
                table=table,
                sqs=aws.client("sqs"),
                credentials=CredentialStore(client=self._secrets, prefix=config.secret_prefix),
                order_import_queue_url=config.job_queue_urls.get("order_import", ""),
                retention_days=config.order_retention_days,
                clock=start.clock,
            ),
            signer=SessionSigner(self._session_key, mode="merchant", clock=start.clock),
            verify_load=self._verify_load,
        )

    def _credentials(self) -> AppCredentials:
        if self._app is None:
            self._app = AppCredentials.from_env(self._secrets)
        return self._app

    def _session_key(self) -> bytes:
        return derive_key(self._credentials().client_secret.get_secret_value())

    def _verify_load(self, token: str) -> tuple[str, str]:
        app = self._credentials()
        payload = verify_signed_payload(
            token,
            client_id=app.client_id,
            client_secret=app.client_secret.get_secret_value(),
            ledger=self._ledger,
            now=self._clock.now(),
        )
        return payload.store_hash, payload.user_email

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return self.console.handle(event, context)


def build_function(start: ColdStart | None = None) -> MerchantConsole:
    return MerchantConsole(start or ColdStart.from_env())
