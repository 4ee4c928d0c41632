"""The store registry: every connected store's settings, one partition read page by page.

Every write of a store's settings also writes its scheduled turns (`bcsync.store.turns`): the schedule
ticks read those, never this partition."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from bcsync.errors import InvalidSettingsError, StoreNotConnectedError
from bcsync.store import keys
from bcsync.store.dynamo import now_iso, query_all
from bcsync.store.settings import StoreSettings, describe_validation_error
from bcsync.store.turns import ScheduledTurns

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

logger = logging.getLogger("bcsync.store.registry")


class StoreRegistry:
    def __init__(self, table: Table) -> None:
        self._table = table

    def put(self, settings: StoreSettings) -> None:
        turns = ScheduledTurns(self._table)
        turns.follow(settings, active=True)  # before the settings: see ScheduledTurns.follow
        self._table.put_item(
            Item={
                **keys.registry_row(settings.store_hash),
                "store_hash": settings.store_hash,
                "enabled": settings.enabled,
                "settings": settings.to_stored(),
                "updated_at": now_iso(),
            }
        )
        turns.follow(settings, active=False)

    def get(self, store_hash: str) -> StoreSettings:
        item = self._table.get_item(Key=keys.registry_row(store_hash), ConsistentRead=True).get("Item")
        if item is None:
            raise StoreNotConnectedError(f"store {store_hash} is not connected (run `bcsync stores connect`)")
        return self._parse(store_hash, item)

    def list(self, *, enabled_only: bool = False) -> list[StoreSettings]:
        stores = []
        for item in self._query_all():
            store_hash = str(item["store_hash"])
            stores.append(self._parse(store_hash, item))
        return [store for store in stores if store.enabled or not enabled_only]

    def iter_valid(self, *, enabled_only: bool = True) -> Iterator[StoreSettings | InvalidSettingsError]:
        """Each store's settings, or the error that names what is wrong with them: one bad store
        must not stop the others."""
        for item in self._query_all():
            try:
                settings = self._parse(str(item["store_hash"]), item)
            except InvalidSettingsError as error:
                yield error
                continue
            if settings.enabled or not enabled_only:
                yield settings

    def entries(self, *, consistent: bool = False) -> Iterator[tuple[str, StoreSettings | InvalidSettingsError]]:
        """Every connected store (enabled or not) with its settings or what is wrong with them, page by page."""
        for item in self._query_all(consistent=consistent):
            store_hash = str(item["store_hash"])
            try:
                yield store_hash, self._parse(store_hash, item)
            except InvalidSettingsError as error:
                yield store_hash, error

    def set_enabled(self, store_hash: str, enabled: bool) -> StoreSettings:
        settings = self.get(store_hash)
        settings.enabled = enabled
        self.put(settings)
        return settings

    def _query_all(self, *, consistent: bool = False) -> Iterator[dict[str, Any]]:
        return query_all(
            self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": keys.REGISTRY, ":prefix": keys.REGISTRY_ROW_PREFIX},
            ConsistentRead=consistent,
        )

    @staticmethod
    def _parse(store_hash: str, item: dict[str, Any]) -> StoreSettings:
        try:
            settings = StoreSettings.read(str(item["settings"]))
        except ValidationError as error:
            raise InvalidSettingsError(describe_validation_error(store_hash, error)) from None
        except ValueError as error:
            raise InvalidSettingsError(f"store {store_hash}: settings: {error}") from None
        if settings.unknown_fields:
            # Written by a newer release (a rollback since): kept and ignored, never fatal.
            logger.warning(
                "settings fields this release does not know are kept",
                extra={"store_hash": store_hash, "fields": settings.unknown_fields},
            )
        return settings
