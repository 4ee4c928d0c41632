"""What bcsync last sent the warehouse for each variant of a store's catalog.

One row per variant under the store's catalog partition, sorted by product then variant id,
so a page of products (keyset by id) is compared with one range query, and SKUs that
disappeared from an id range are found in the same query. Unchanged SKUs are never written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from boto3.dynamodb.conditions import Key

from bcsync.store import keys
from bcsync.store.dynamo import batch_get, conditional, now_iso, partition, query_all

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


from typing import Literal

MAX_ID = 10**12 - 1


@dataclass(frozen=True)
class CatalogRecord:
    product_id: int
    variant_id: int  # 0 for a product without variants
    sku: str
    content_hash: str
    archived: bool
    # Bumped by each archive: a SKU restored with the same content needs a new idempotency key,
    # or the warehouse would drop its return as a duplicate of its first upsert.
    generation: int = 0
    # none | product | variant: how the inventory push keys this SKU's stock ("" on rows written before)
    inventory_tracking: str = ""
    # --- customs data on the SKU index (order events carry it on their lines) ---
    # What product sync last sent as the SKU's customs data; `customs_indexed` is False on a row written
    # before the index held it, which the next sync writes again (without an event) even if unchanged.
    hs_code: str = ""
    country_of_origin: str = ""
    customs_indexed: bool = True

    def content_key(self) -> str:
        return self.content_hash if self.generation == 0 else f"{self.content_hash}-g{self.generation}"


class CatalogState:
    def __init__(self, table: Table, store_hash: str) -> None:
        self._table = table
        self.store_hash = store_hash
        self._pk = keys.catalog(store_hash)
        # SKU → the variant that holds it: two variants sharing a SKU on different pages (or runs) are
        # found by reading this, never silently merged.
        self._skus_pk = keys.sku_index(store_hash)

    def sku_owners(self, skus: set[str]) -> dict[str, tuple[int, int]]:
        items = batch_get(self._table, [keys.sku_owner(self.store_hash, sku) for sku in sorted(skus)])
        return {str(item["sk"]): (int(item["product_id"]), int(item["variant_id"])) for item in items}

    # --- customs data on the SKU index ---
    def sku_catalog(self, skus: set[str]) -> dict[str, tuple[str, str]]:
        """(hs_code, country_of_origin) of each of these SKUs product sync holds ("" where it has none): the
        same one BatchGetItem as `sku_owners`, so an order's lines learn their customs data at no extra cost."""
        items = batch_get(self._table, [keys.sku_owner(self.store_hash, sku) for sku in sorted(skus)])
        return {
            str(item["sk"]): (str(item.get("hs_code", "")), str(item.get("country_of_origin", ""))) for item in items
        }

    def index_version(self) -> str:
        """Changes whenever the SKU index is written: a reader may keep the index until it does."""
        item = self._table.get_item(
            Key=keys.catalog_item(self.store_hash, keys.CATALOG_INDEX_VERSION), ConsistentRead=True
        ).get("Item")
        return str(item["version"]) if item else ""

    def sku_index(self) -> dict[str, CatalogEntry]:
        """Every SKU the warehouse holds for this store, with BigCommerce's ids and tracking mode."""
        return {
            str(item["sk"]): CatalogEntry(
                product_id=int(item["product_id"]),
                variant_id=int(item["variant_id"]),
                tracking=cast("Tracking", str(item.get("inventory_tracking", ""))),
            )
            for item in partition(
                self._table, self._skus_pk, attributes=("sk", "product_id", "variant_id", "inventory_tracking")
            )
        }

    def in_product_range(self, first_product_id: int, last_product_id: int) -> dict[tuple[int, int], CatalogRecord]:
        """Every row whose product id is in [first, last]: one query (paged by DynamoDB at 1 MB)."""
        condition = Key("pk").eq(self._pk) & Key("sk").between(
            keys.catalog_row_sk(first_product_id, 0), keys.catalog_row_sk(min(last_product_id, MAX_ID), MAX_ID)
        )
        found: dict[tuple[int, int], CatalogRecord] = {}
        for item in query_all(self._table, KeyConditionExpression=condition, ConsistentRead=True):
            record = self._record(item)
            found[(record.product_id, record.variant_id)] = record
        return found

    def for_products(self, product_ids: list[int]) -> dict[tuple[int, int], CatalogRecord]:
        """Rows of these products (a delta page): one query per contiguous run of ids is too many
        for scattered ids, so this reads the whole id span once when it is dense, else per product."""
        if not product_ids:
            return {}
        low, high = min(product_ids), max(product_ids)
        if high - low < 4 * len(product_ids):
            wanted = set(product_ids)
            return {key: r for key, r in self.in_product_range(low, high).items() if key[0] in wanted}
        found: dict[tuple[int, int], CatalogRecord] = {}
        for product_id in product_ids:
            found.update(self.in_product_range(product_id, product_id))
        return found

    def cursor(self) -> datetime | None:
        """When the last completed sync started: the next delta reads from there (minus an overlap)."""
        item = self._table.get_item(
            Key=keys.catalog_item(self.store_hash, keys.CATALOG_CURSOR), ConsistentRead=True
        ).get("Item")
        return datetime.fromisoformat(str(item["synced_until"])) if item else None

    def set_cursor(self, synced_until: datetime) -> None:
        self._table.put_item(
            Item={**keys.catalog_item(self.store_hash, keys.CATALOG_CURSOR), "synced_until": synced_until.isoformat()}
        )

    def put(self, record: CatalogRecord) -> None:
        self.put_many([record])

    def put_many(self, records: list[CatalogRecord]) -> None:
        """Catalog and SKU-index rows in batches of 25 (BatchWriteItem); an archived SKU's index row is
        deleted on its own, with the condition that no other variant holds the SKU by now."""
        archived = []
        with self._table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for record in records:
                batch.put_item(Item=self._row(record))
                if record.archived:
                    archived.append(record)
                else:
                    batch.put_item(Item={**keys.sku_owner(self.store_hash, record.sku), **self._owner(record)})
        for record in archived:
            conditional(  # the SKU is free again, unless another variant holds it by now
                self._table.delete_item,
                Key=keys.sku_owner(self.store_hash, record.sku),
                ConditionExpression="product_id = :product_id AND variant_id = :variant_id",
                ExpressionAttributeValues={":product_id": record.product_id, ":variant_id": record.variant_id},
            )
        if records:  # after the rows: a reader that saw the old version reads the index again later
            self._table.put_item(
                Item={**keys.catalog_item(self.store_hash, keys.CATALOG_INDEX_VERSION), "version": uuid.uuid4().hex}
            )

    def _row(self, record: CatalogRecord) -> dict[str, Any]:
        return {
            **keys.catalog_item(self.store_hash, keys.catalog_row_sk(record.product_id, record.variant_id)),
            "sku": record.sku,
            "content_hash": record.content_hash,
            "archived": record.archived,
            "generation": record.generation,
            "updated_at": now_iso(),
            **self._owner(record),
        }

    @staticmethod
    def _owner(record: CatalogRecord) -> dict[str, Any]:
        return {
            "product_id": record.product_id,
            "variant_id": record.variant_id,
            "inventory_tracking": record.inventory_tracking,
            # customs data on the SKU index
            "hs_code": record.hs_code,
            "country_of_origin": record.country_of_origin,
            "customs_indexed": True,
        }

    @staticmethod
    def _record(item: dict[str, Any]) -> CatalogRecord:
        return CatalogRecord(
            product_id=int(item["product_id"]),
            variant_id=int(item["variant_id"]),
            sku=str(item["sku"]),
            content_hash=str(item["content_hash"]),
            archived=bool(item.get("archived", False)),
            generation=int(item.get("generation", 0)),
            inventory_tracking=str(item.get("inventory_tracking", "")),
            hs_code=str(item.get("hs_code", "")),
            country_of_origin=str(item.get("country_of_origin", "")),
            customs_indexed=bool(item.get("customs_indexed", False)),
        )


Tracking = Literal["none", "product", "variant", ""]  # "": not known yet (a catalog row older than the field)


@dataclass(frozen=True)
class CatalogEntry:
    """What BigCommerce calls a SKU: its ids and how the product tracks inventory."""

    product_id: int
    variant_id: int
    tracking: Tracking
