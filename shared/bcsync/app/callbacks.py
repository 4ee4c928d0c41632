"""BigCommerce's callbacks of the single-click app: auth (install), uninstall and remove user.

- `GET /app/auth?code&scope&context`: the merchant clicked Install. The code is traded, once, at
  BigCommerce's login service (`POST {login}/oauth2/token`) for the store's token; the store is then
  connected exactly as `bcsync stores connect` connects one (`bcsync.store.connect.connect_store`: the
  token's store and scopes checked, the secret, the settings, the hooks, a first product sync).
- `GET /app/uninstall?signed_payload_jwt`: the store is disabled, its hooks removed (BigCommerce revokes
  the token, and drops the app's hooks itself, so a failure there is only logged) and its secret deleted
  at once (the token is dead). Its order records, the personal data bcsync keeps, expire as they always
  do, `OrderRetentionDays` after they were written (docs/operations.md, "Uninstalling the app").
- `GET /app/remove_user?signed_payload_jwt`: recorded in the log (the console has one user, the store).

Every signed payload is verified by `bcsync.app.signed_payload` (its jti claimed once in the state table).
The pages are plain and short: the console is the load callback's.
"""

from __future__ import annotations

import contextlib
import html
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from pydantic import SecretStr

from bcsync.app.signed_payload import (
    APP_SECRET_ENV,
    AppCredentials,
    DynamoJtiLedger,
    SignedPayload,
    SignedPayloadRefused,
    verify_signed_payload,
)
from bcsync.backbone.consumer import client_factory_for
from bcsync.backbone.messages import JobQueue
from bcsync.errors import ConfigurationError, ConnectError, CredentialsError, StoreNotConnectedError
from bcsync.store.connect import ScopesMissingError, connect_store
from bcsync.store.credentials import CredentialStore
from bcsync.store.registry import StoreRegistry
from bcsync.webhooks.registration import remove_hooks
from bigcommerce_client import SYSTEM_CLOCK, BigCommerceError, Clock, validate_store_hash

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from bcsync.aws import AwsClients
    from bcsync.backbone.function import Reports
    from bcsync.settings import RuntimeConfig


LOGIN_URL_ENV = "BIGCOMMERCE_LOGIN_URL"
DEFAULT_LOGIN_URL = "https://login.bigcommerce.com"
TOKEN_TIMEOUT_SECONDS = 10.0
HTML = "text/html; charset=utf-8"


def login_url(environ: Mapping[str, str]) -> str:
    """BigCommerce's login service: https, or http on this machine's loopback (the local sandbox)."""
    url = environ.get(LOGIN_URL_ENV) or DEFAULT_LOGIN_URL
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url.rstrip("/")
    if parts.scheme == "http" and (host == "localhost" or _is_loopback(host)):
        return url.rstrip("/")
    raise ConfigurationError(f"bcsync is not configured: {LOGIN_URL_ENV} must be an https URL, not {url!r}")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def page(status: int, title: str, *lines: str) -> Response[str]:
    """A short page; every text escaped, since store names and BigCommerce's answers are not ours."""
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
        f"<body><h1>{html.escape(title)}</h1>{paragraphs}</body></html>"
    )
    return Response(
        status_code=status,
        content_type=HTML,
        body=body,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


class TokenExchangeError(ConnectError):
    """BigCommerce's login service did not give a token for the install's code."""


@dataclass
class AppCallbacks:
    config: RuntimeConfig
    aws: AwsClients
    clock: Clock = SYSTEM_CLOCK
    reports: Reports | None = None
    environ: Mapping[str, str] | None = None
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        env = os.environ if self.environ is None else self.environ
        table = self.aws.table(self.config.state_table)
        self._registry = StoreRegistry(table)
        self._secrets = self.aws.client("secretsmanager")
        self._credentials = CredentialStore(client=self._secrets, prefix=self.config.secret_prefix)
        self._ledger = DynamoJtiLedger(table)
        sync_url = self.config.job_queue_urls.get("product_sync")
        self._first_sync = JobQueue(self.aws.client("sqs"), sync_url) if sync_url else None
        self._client_factory = client_factory_for(self.config, clock=self.clock)
        self._login_url = login_url(env)
        self._app_secret_id = env.get(APP_SECRET_ENV, "")
        self._app: AppCredentials | None = None
        self.api = APIGatewayHttpResolver()
        self.api.get("/app/auth")(self._auth)
        self.api.get("/app/uninstall")(self._uninstall)
        self.api.get("/app/remove_user")(self._remove_user)

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return self.api.resolve(event, context)

    # --- the app's own credentials ----------------------------------------------------------------

    def app_credentials(self) -> AppCredentials:
        """Read from the app's secret on first need and kept (a secret not filled in yet is read again)."""
        if self._app is None:
            if not self._app_secret_id:
                raise ConfigurationError(f"bcsync is not configured: missing or invalid {APP_SECRET_ENV}")
            self._app = AppCredentials.from_secret(self._secrets, self._app_secret_id)
        return self._app

    def _verified(self) -> SignedPayload:
        token = (self.api.current_event.query_string_parameters or {}).get("signed_payload_jwt", "")
        app = self.app_credentials()
        return verify_signed_payload(
            token,
            client_id=app.client_id,
            client_secret=app.client_secret.get_secret_value(),
            ledger=self._ledger,
            now=self.clock.now(),
        )

    def _count(self, name: str) -> None:
        if self.reports is not None:
            self.reports.count(name)

    def _warn(self, message: str, **extra: Any) -> None:
        if self.reports is not None:
            self.reports.logger.warning(message, extra=extra)

    def _info(self, message: str, **extra: Any) -> None:
        if self.reports is not None:
            self.reports.logger.info(message, extra=extra)

    def _base_url(self) -> str:
        """This API's own address, as BigCommerce called it (the Developer Portal's callback URLs)."""
        host = self.api.current_event.headers.get("host") or self.api.current_event.request_context.domain_name
        return f"https://{host}"

    # --- auth: the install ------------------------------------------------------------------------

    def _auth(self) -> Response[str]:
        query = self.api.current_event.query_string_parameters or {}
        code, scope, context = query.get("code", ""), query.get("scope", ""), query.get("context", "")
        store_hash = context.removeprefix("stores/")
        try:
            if not (code and context.startswith("stores/")):
                raise ValueError(context)
            validate_store_hash(store_hash)
        except ValueError:
            self._count("installs_refused")
            return page(400, "Not an install", "This address is BigCommerce's to call: install the app from the store.")
        try:
            app = self.app_credentials()
        except ConfigurationError as error:
            self._warn("app install refused: the app is not configured", store_hash=store_hash, problem=str(error))
            return page(503, "The app is not set up", str(error))
        base = self._base_url()
        try:
            token = self._exchange(app, code=code, scope=scope, context=context, redirect_uri=f"{base}/app/auth")
            connection = connect_store(
                store_hash=store_hash,
                token=token,
                client_id=app.client_id,
                registry=self._registry,
                credentials=self._credentials,
                client_factory=self._client_factory,
                webhook_base_url=f"{base}/webhooks",
                first_sync=self._first_sync,
            )
        except ScopesMissingError as error:
            self._count("installs_refused")
            self._warn("app install refused: scopes missing", store_hash=store_hash, missing=error.missing)
            return page(
                403,
                "The app lacks scopes",
                f"The app's OAuth scopes do not include {', '.join(error.missing)}.",
                "Add them to the app in BigCommerce's Developer Portal, then install the app again.",
            )
        except ConnectError as error:
            self._count("installs_refused")
            self._warn("app install failed", store_hash=store_hash, problem=str(error))
            return page(502, "The install did not finish", str(error), "Install the app again from the store.")
        self._count("installs")
        self._info("app installed", store_hash=store_hash, hooks=connection.hooks.summary() if connection.hooks else "")
        return page(
            200,
            "bcsync is installed",
            f"Store {connection.settings.name or store_hash} is connected; its products are being read now.",
            "Open the app from Apps > My Apps to see each sync and what needs your attention.",
        )

    def _exchange(self, app: AppCredentials, *, code: str, scope: str, context: str, redirect_uri: str) -> SecretStr:
        try:
            answer = self.session.post(
                f"{self._login_url}/oauth2/token",
                data={
                    "client_id": app.client_id,
                    "client_secret": app.client_secret.get_secret_value(),
                    "code": code,
                    "context": context,
                    "scope": scope,
                    "grant_type": "authorization_code",
                    "redirect_uri": redirect_uri,
                },
                timeout=TOKEN_TIMEOUT_SECONDS,
            )
        except requests.RequestException as error:
            raise TokenExchangeError(f"BigCommerce's login service did not answer ({type(error).__name__})") from None
        try:
            body = answer.json()
        except ValueError:
            body = {}
        if answer.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
            said = body.get("error_description") or body.get("error") if isinstance(body, dict) else ""
            raise TokenExchangeError(
                f"BigCommerce did not trade the install's code for a token ({answer.status_code}"
                f"{': ' + str(said) if said else ''}); check the app's client id, secret and auth callback URL"
            )
        if body.get("context") != context:
            raise TokenExchangeError(f"BigCommerce gave a token for {body.get('context')!r}, not for {context!r}")
        return SecretStr(str(body["access_token"]))

    # --- uninstall, remove user -------------------------------------------------------------------

    def _signed(self, callback: str) -> SignedPayload | Response[str]:
        try:
            return self._verified()
        except ConfigurationError as error:
            self._warn(f"app {callback} refused: the app is not configured", problem=str(error))
            return page(503, "The app is not set up", str(error))
        except SignedPayloadRefused as refused:
            self._count("signed_payloads_refused")
            self._warn(f"app {callback}: signed payload refused", reason=refused.reason)
            return page(401, "Not from BigCommerce", refused.reason)

    def _uninstall(self) -> Response[str]:
        payload = self._signed("uninstall")
        if isinstance(payload, Response):
            return payload
        store_hash = payload.store_hash
        try:
            settings = self._registry.set_enabled(store_hash, False)
        except StoreNotConnectedError:
            return page(200, "Uninstalled", f"Store {store_hash} was not connected: nothing to remove.")
        removed = 0
        if settings.webhook_destination:
            try:
                credentials = self._credentials.get(store_hash, force_fetch=True)
                with self._client_factory(settings, credentials) as client:
                    removed = remove_hooks(client, destination=settings.webhook_destination)
            except (BigCommerceError, CredentialsError) as error:
                # Uninstalling revokes the token and BigCommerce drops the app's hooks itself.
                self._info("app uninstall: hooks not removed here", store_hash=store_hash, problem=str(error))
        # The token is dead once the app is uninstalled: nothing in the secret is worth a recovery window.
        with contextlib.suppress(self._secrets.exceptions.ResourceNotFoundException):
            self._secrets.delete_secret(SecretId=self._credentials.name(store_hash), ForceDeleteWithoutRecovery=True)
        self._count("uninstalls")
        self._info("app uninstalled", store_hash=store_hash, hooks_removed=removed)
        return page(
            200,
            "Uninstalled",
            f"Store {store_hash} is disconnected: no job runs for it, its hooks and its token are gone.",
            "Its order records are deleted as they expire, within the retention the stack states.",
        )

    def _remove_user(self) -> Response[str]:
        payload = self._signed("remove_user")
        if isinstance(payload, Response):
            return payload
        self._count("users_removed")
        self._info("app user removed", store_hash=payload.store_hash, user_id=payload.user_id)
        return page(200, "User removed", f"User {payload.user_id} no longer opens the app for {payload.store_hash}.")


def build_callbacks(reports: Reports | None = None) -> AppCallbacks:
    """What `functions/app_callbacks/app.py` runs: made once, from the environment."""
    from bcsync.backbone.function import ColdStart

    start = ColdStart.from_env()
    return AppCallbacks(config=start.config, aws=start.aws, clock=start.clock, reports=reports)
