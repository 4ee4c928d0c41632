"""Disabling and enabling a store: `bcsync stores disable|enable` and the operator's console."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bcsync.store.registry import StoreRegistry
from bcsync.webhooks.registration import ensure_hooks, remove_hooks
from bigcommerce_client import BigCommerceClient

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

    from bcsync.store.credentials import CredentialStore


def set_store_enabled(table: Table, credentials: CredentialStore, store_hash: str, enabled: bool) -> str:
    """No job runs for a disabled store, and its webhooks are removed (enabling restores them). Returns what
    happened to the webhooks, for the operator."""
    settings = StoreRegistry(table).set_enabled(store_hash, enabled)
    if not settings.webhook_destination:
        return ""
    secret = credentials.get(store_hash, force_fetch=True)
    with BigCommerceClient(store_hash=store_hash, access_token=secret.access_token) as client:
        if not enabled:
            return f"Webhooks: {remove_hooks(client, destination=settings.webhook_destination)} removed."
        report = ensure_hooks(
            client, destination=settings.webhook_destination, secret=secret.webhook_secret, source=settings.is_source
        )
        return f"Webhooks → {settings.webhook_destination}: {report.summary()}."
