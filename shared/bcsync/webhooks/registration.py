"""The store's hooks: exactly one active hook per scope the jobs need, pointing at our endpoint.

`ensure_hooks` is what `stores connect` and the hourly check both run: one list call when all is
well; a create for a missing scope; an update for a hook BigCommerce deactivated (or whose secret
header is stale); a delete for a duplicate or a scope we no longer need. Hooks of other apps, and
ours pointing elsewhere, are left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import SecretStr

from bcsync.errors import CredentialsError
from bcsync.webhooks.receiver import HOOK_SCOPES, SECRET_HEADER, SOURCE_HOOK_SCOPES
from bigcommerce_client import BigCommerceClient, BigCommerceError
from bigcommerce_client.models import Hook

if TYPE_CHECKING:
    from bcsync.backbone.consumer import ClientFactory
    from bcsync.store.credentials import CredentialStore
    from bcsync.store.registry import StoreRegistry


logger = logging.getLogger("bcsync.webhooks.registration")


def webhook_destination(base_url: str, store_hash: str) -> str:
    """`https://…/webhooks` + the store: the receiver learns the store from its path."""
    return f"{base_url.rstrip('/')}/{store_hash}"


@dataclass
class HookReport:
    created: list[str] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def changed(self) -> bool:
        return bool(self.created or self.reactivated or self.updated or self.deleted)

    def summary(self) -> str:
        parts = [f"{len(names)} {what}" for what, names in vars(self).items() if names]
        return ", ".join(parts) or "all in place"


def ensure_hooks(client: BigCommerceClient, *, destination: str, secret: SecretStr, source: bool = False) -> HookReport:
    """`source`: the store is a source (settings `role`), so its inventory scopes are ours too."""
    report = HookReport()
    scopes = [*HOOK_SCOPES, *(SOURCE_HOOK_SCOPES if source else ())]
    headers = {SECRET_HEADER: secret.get_secret_value()}
    ours: dict[str, list[Hook]] = {}
    for hook in client.list_hooks():
        if hook.destination == destination:
            ours.setdefault(hook.scope, []).append(hook)
    for scope in scopes:
        # Prefer a hook that needs no change; any others for the scope are duplicates.
        hooks = sorted(ours.pop(scope, []), key=lambda h: (not h.is_active, h.headers != headers, h.id))
        if not hooks:
            client.create_hook(scope=scope, destination=destination, headers=headers)
            report.created.append(scope)
            continue
        keep, duplicates = hooks[0], hooks[1:]
        if not keep.is_active or keep.headers != headers:
            client.update_hook(keep.id, is_active=True, headers=headers)
            (report.reactivated if not keep.is_active else report.updated).append(scope)
        for duplicate in duplicates:
            client.delete_hook(duplicate.id)
            report.deleted.append(scope)
    for scope, hooks in ours.items():  # scopes of ours the jobs no longer need
        for hook in hooks:
            client.delete_hook(hook.id)
            report.deleted.append(scope)
    return report


def remove_hooks(client: BigCommerceClient, *, destination: str) -> int:
    """Delete every hook pointing at our endpoint for this store; returns how many."""
    removed = 0
    for hook in client.list_hooks():
        if hook.destination == destination:
            client.delete_hook(hook.id)
            removed += 1
    return removed


@dataclass
class HookCheck:
    """One store's outcome in the scheduled check."""

    store_hash: str
    report: HookReport | None = None
    problem: str | None = None


def check_all_stores(
    *, registry: StoreRegistry, credentials: CredentialStore, client_factory: ClientFactory
) -> Iterator[HookCheck]:
    """Re-ensure the hooks of every enabled store that registered them; one store's trouble is its own."""
    from bcsync.errors import InvalidSettingsError

    for settings in registry.iter_valid(enabled_only=True):
        if isinstance(settings, InvalidSettingsError):
            continue  # reported by every job's fan-out already
        if not settings.webhook_destination:
            continue
        try:
            store_credentials = credentials.get(settings.store_hash)
            with client_factory(settings, store_credentials) as client:
                report = ensure_hooks(
                    client,
                    destination=settings.webhook_destination,
                    secret=store_credentials.webhook_secret,
                    source=settings.is_source,
                )
        except Exception as error:
            problem = str(error) if isinstance(error, BigCommerceError | CredentialsError) else type(error).__name__
            logger.warning("hook check failed", extra={"store_hash": settings.store_hash, "problem": problem})
            yield HookCheck(store_hash=settings.store_hash, problem=problem)
            continue
        if report.changed():
            logger.warning("hooks repaired", extra={"store_hash": settings.store_hash, "hooks": report.summary()})
        yield HookCheck(store_hash=settings.store_hash, report=report)
