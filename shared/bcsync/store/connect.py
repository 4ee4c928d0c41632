"""Connecting a store: check its token against BigCommerce, one probe per scope the jobs need.

Read scopes are probed with a read; write scopes with a body BigCommerce must refuse (so nothing
is ever written): a 4xx other than 401/403 means the scope is granted, a 403 that it is missing.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr, ValidationError

from bcsync.backbone.messages import JobMessage
from bcsync.errors import ConnectError, CredentialsError, InvalidSettingsError, StoreNotConnectedError
from bcsync.store.credentials import StoreCredentials
from bcsync.store.settings import (
    DEFAULT_SCHEDULE_MINUTES,
    ORDER_SCAN_MINUTES_WITH_WEBHOOKS,
    StoreSettings,
    describe_validation_error,
)
from bcsync.webhooks.registration import HookReport, ensure_hooks, remove_hooks, webhook_destination
from bigcommerce_client import (
    PROBE_HEADER,
    AuthenticationError,
    BigCommerceClient,
    BigCommerceError,
    MissingScopeError,
    NotFoundError,
    RequestRejectedError,
    UnknownStoreError,
    UnprocessableError,
)

if TYPE_CHECKING:
    from bcsync.backbone.consumer import ClientFactory
    from bcsync.backbone.messages import JobQueue
    from bcsync.store.credentials import CredentialStore
    from bcsync.store.registry import StoreRegistry


@dataclass(frozen=True)
class ScopeProbe:
    scope: str
    method: str
    api_path: str
    params: dict[str, Any] | None = None
    body: Any = None


SCOPE_PROBES: tuple[ScopeProbe, ...] = (
    ScopeProbe("Orders (read-only)", "GET", "/v2/orders", {"limit": 1}),
    # Order 0 never exists: allowed → 404/422, missing → 403.
    ScopeProbe("Orders (modify)", "POST", "/v2/orders/0/shipments", body={}),
    ScopeProbe("Products (read-only)", "GET", "/v3/catalog/products", {"limit": 1}),
    ScopeProbe("Store Inventory (read-only)", "GET", "/v3/inventory/locations", {"limit": 1}),
    ScopeProbe(
        "Store Inventory (modify)", "PUT", "/v3/inventory/adjustments/absolute", body={"reason": "probe", "items": []}
    ),
)


def check_store(client: BigCommerceClient) -> dict[str, Any]:
    """The store's information; a wrong store hash or token ends here with one clear line."""
    try:
        return client.get_store_info()
    except (AuthenticationError, UnknownStoreError) as error:
        raise ConnectError(error.message) from None
    except MissingScopeError:
        raise ConnectError(
            f"the API account of store {client.store_hash} lacks the Information & Settings (read-only) scope"
        ) from None
    except BigCommerceError as error:
        raise ConnectError(f"could not reach store {client.store_hash}: {error.message}") from None


def check_scopes(client: BigCommerceClient) -> list[str]:
    """The scopes the token lacks (empty when it has all the jobs need); raises on a bad token."""
    missing: list[str] = []
    for probe in SCOPE_PROBES:
        try:
            client.request(
                probe.method, probe.api_path, params=probe.params, json=probe.body, headers={PROBE_HEADER: "scope"}
            )
        except AuthenticationError as error:
            raise ConnectError(error.message) from None
        except MissingScopeError:
            missing.append(probe.scope)
        except (UnprocessableError, NotFoundError, RequestRejectedError):
            continue  # refused for its body or id, not for its scope: the scope is granted
        except BigCommerceError as error:
            raise ConnectError(f"could not check scope {probe.scope}: {error.message}") from None
    return missing


# --- connecting a store: what `bcsync stores connect` and the app's install both do -----------------------


class ScopesMissingError(ConnectError):
    """The token lacks scopes the jobs need; `missing` names them, and nothing was saved."""

    def __init__(self, store_hash: str, missing: list[str]) -> None:
        super().__init__(f"store {store_hash}: the token lacks {', '.join(missing)}. Nothing was saved.")
        self.missing = missing


@dataclass
class Connection:
    """What connecting did: the settings saved, the hooks registered, the first product sync queued."""

    settings: StoreSettings
    credentials: StoreCredentials
    previous_destination: str | None = None
    previous_hooks_removed: int = 0
    hooks: HookReport | None = None  # None: no hooks registered (schedules alone pick up changes)
    first_sync_queued: bool = False


def connect_store(
    *,
    store_hash: str,
    token: SecretStr,
    client_id: str,
    registry: StoreRegistry,
    credentials: CredentialStore,
    client_factory: ClientFactory,
    webhook_base_url: str | None,
    name: str = "",
    register_webhooks: bool = True,
    first_sync: JobQueue | None = None,
) -> Connection:
    """Check the token (the store, then each scope the jobs need), save the secret, then the settings that
    make the store active, register its hooks and queue its first product sync. ConnectError, with
    nothing saved, when the store or a scope is not there."""
    try:
        settings = StoreSettings(store_hash=store_hash, name=name)
    except ValidationError as error:
        raise ConnectError(describe_validation_error(store_hash, error)) from None
    store_credentials = StoreCredentials(
        store_hash=settings.store_hash,
        client_id=client_id,
        access_token=token,
        # A reconnect keeps the webhook secret, so deliveries already on their way still verify.
        webhook_secret=_existing_webhook_secret(credentials, settings.store_hash)
        or SecretStr(secrets.token_urlsafe(32)),
    )
    with client_factory(settings, store_credentials) as client:
        info = check_store(client)
        missing = check_scopes(client)
        if missing:
            raise ScopesMissingError(settings.store_hash, missing)
        first_connect = True
        with contextlib.suppress(StoreNotConnectedError, InvalidSettingsError):
            settings = registry.get(settings.store_hash).model_copy(update={"enabled": True, "name": settings.name})
            first_connect = False
        if not settings.name:
            settings.name = str(info.get("name", ""))
        connection = Connection(settings=settings, credentials=store_credentials)
        connection.previous_destination = settings.webhook_destination
        if not register_webhooks:
            settings.webhook_destination = None
        elif webhook_base_url:
            settings.webhook_destination = webhook_destination(webhook_base_url, settings.store_hash)
        scan = settings.schedule_minutes.get("order_import")
        if first_connect and settings.webhook_destination is not None:
            # Webhooks bring each order in seconds; the scan is the net under them (a reconnect keeps its interval).
            settings.schedule_minutes["order_import"] = ORDER_SCAN_MINUTES_WITH_WEBHOOKS
        elif settings.webhook_destination is None and scan == ORDER_SCAN_MINUTES_WITH_WEBHOOKS:
            # Without webhooks the scan is the only way in: the interval webhooks allowed would be 15 minutes' lag.
            settings.schedule_minutes["order_import"] = DEFAULT_SCHEDULE_MINUTES["order_import"]
        # The secret first, then the registry entry that makes the store active: a failure in between
        # leaves an inactive secret that the next connect overwrites, never an active store without one.
        credentials.put(store_credentials)
        registry.put(settings)
        previous = connection.previous_destination
        if previous and previous != settings.webhook_destination:
            connection.previous_hooks_removed = remove_hooks(client, destination=previous)
        if settings.webhook_destination is not None:
            connection.hooks = ensure_hooks(
                client,
                destination=settings.webhook_destination,
                secret=store_credentials.webhook_secret,
                source=settings.is_source,  # a source store's inventory hooks are bcsync's too
            )
    if first_sync is not None:
        first_sync.send(JobMessage(job="product_sync", store_hash=settings.store_hash, trigger="manual"))
        connection.first_sync_queued = True
    return connection


def _existing_webhook_secret(credentials: CredentialStore, store_hash: str) -> SecretStr | None:
    try:
        return credentials.get(store_hash, force_fetch=True).webhook_secret
    except CredentialsError:
        return None
