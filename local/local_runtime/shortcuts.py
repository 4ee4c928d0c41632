"""State a test or benchmark sets up directly, where running the job that writes it is not what is measured."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bcsync.catalog.state import CatalogRecord, CatalogState
from bigcommerce_sandbox import SandboxStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def catalog_as_synced(table: Table, store: SandboxStore, product_ids: list[int]) -> int:
    """The catalog rows and SKU index product sync writes for these products' variants, written at
    once (BatchWriteItem): what the inventory push reads to key each SKU. Returns the SKUs written."""
    records = [
        CatalogRecord(
            product_id=product_id,
            variant_id=variant["id"],
            sku=variant["sku"],
            content_hash="seeded",
            archived=False,
            inventory_tracking=store.products[product_id]["inventory_tracking"],
        )
        for product_id in product_ids
        for variant in store.products[product_id]["variants"]
    ]
    CatalogState(table, store.store_hash).put_many(records)
    return len(records)
