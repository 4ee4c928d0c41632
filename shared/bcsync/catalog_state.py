"""What bcsync last sent the warehouse for each variant of a store's catalog.

One row per variant under the store's catalog partition, sorted by product then variant id,
so a page of products (keyset by id) is compared with one range query, and SKUs that
disappeared from an id range are found in the same query. Unchanged SKUs are never written.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key

from .state import batch_get, now_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

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

    def content_key(self) -> str:
        return self.content_hash if self.generation == 0 else f"{self.content_hash}-g{self.generation}"


def _sort_key(product_id: int, variant_id: int) -> str:
    return f"P#{product_id:012d}#V#{variant_id:012d}"


class CatalogState:
    def __init__(self, table: Table, store_hash: str) -> None:
        self._table = table
        self._pk = f"STORE#{store_hash}#CATALOG"
        # SKU → the variant that holds it: two variants sharing a SKU on different pages (or runs) are
        # found by reading this, never silently merged.
        self._skus_pk = f"STORE#{store_hash}#SKUS"

    def sku_owners(self, skus: set[str]) -> dict[str, tuple[int, int]]:
        items = batch_get(self._table, [{"pk": self._skus_pk, "sk": sku} for sku in sorted(skus)])
        return {str(item["sk"]): (int(item["product_id"]), int(item["variant_id"])) for item in items}

    def in_product_range(self, first_product_id: int, last_product_id: int) -> dict[tuple[int, int], CatalogRecord]:
        """Every row whose product id is in [first, last]: one query (paged by DynamoDB at 1 MB)."""
        condition = Key("pk").eq(self._pk) & Key("sk").between(
            _sort_key(first_product_id, 0), _sort_key(min(last_product_id, MAX_ID), MAX_ID)
        )
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "ConsistentRead": True}
        found: dict[tuple[int, int], CatalogRecord] = {}
        while True:
            page = self._table.query(**kwargs)
            for item in page.get("Items", []):
                record = self._record(item)
                found[(record.product_id, record.variant_id)] = record
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

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
        item = self._table.get_item(Key={"pk": self._pk, "sk": "CURSOR"}, ConsistentRead=True).get("Item")
        return datetime.fromisoformat(str(item["synced_until"])) if item else None

    def set_cursor(self, synced_until: datetime) -> None:
        self._table.put_item(Item={"pk": self._pk, "sk": "CURSOR", "synced_until": synced_until.isoformat()})

    def put(self, record: CatalogRecord) -> None:
        self._table.put_item(
            Item={
                "pk": self._pk,
                "sk": _sort_key(record.product_id, record.variant_id),
                "product_id": record.product_id,
                "variant_id": record.variant_id,
                "sku": record.sku,
                "content_hash": record.content_hash,
                "archived": record.archived,
                "generation": record.generation,
                "updated_at": now_iso(),
            }
        )
        owner = {"product_id": record.product_id, "variant_id": record.variant_id}
        if not record.archived:
            self._table.put_item(Item={"pk": self._skus_pk, "sk": record.sku, **owner})
            return
        with contextlib.suppress(self._table.meta.client.exceptions.ConditionalCheckFailedException):
            self._table.delete_item(  # the SKU is free again, unless another variant holds it by now
                Key={"pk": self._skus_pk, "sk": record.sku},
                ConditionExpression="product_id = :product_id AND variant_id = :variant_id",
                ExpressionAttributeValues={":product_id": record.product_id, ":variant_id": record.variant_id},
            )

    @staticmethod
    def _record(item: dict[str, Any]) -> CatalogRecord:
        return CatalogRecord(
            product_id=int(item["product_id"]),
            variant_id=int(item["variant_id"]),
            sku=str(item["sku"]),
            content_hash=str(item["content_hash"]),
            archived=bool(item.get("archived", False)),
            generation=int(item.get("generation", 0)),
        )
