"""Product sync's rules for one page: what to upsert and what to archive. Pure: no AWS, no HTTP.

The job (`bcsync.catalog.job`) reads a page of products and what was last sent for them, asks who holds
the SKUs the page would take anew, and applies the `PageOutcome`: events first, catalog rows second.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace

from bcsync.catalog.mapping import ArchivedSku, ArchiveReason, CategoryPaths, CustomsMapping, WarehouseSku, map_product
from bcsync.catalog.state import CatalogRecord
from bcsync.warehouse.events import OutboundEvent, product_key
from bigcommerce_client.models import Product

VariantKey = tuple[int, int]  # (product id, variant id; 0 for a product without variants)


@dataclass
class PageOutcome:
    events: list[OutboundEvent] = field(default_factory=list)
    records: list[CatalogRecord] = field(default_factory=list)
    upserted: int = 0
    archived: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Lookups:
    """What every page's mapping needs besides the products: units, brands, the category tree."""

    brands: Mapping[int, str]
    categories: CategoryPaths
    weight_unit: str
    dimension_unit: str


def map_page(
    products: list[Product], lookups: Lookups, *, customs: CustomsMapping, skip_hidden: bool
) -> tuple[list[WarehouseSku], list[str]]:
    """The page's SKUs and the problems found; a hidden product maps to nothing (its rows are archived)."""
    mapped: list[WarehouseSku] = []
    problems: list[str] = []
    for product in products:
        if skip_hidden and not product.is_visible:
            continue
        skus, found = map_product(
            product,
            brands=lookups.brands,
            categories=lookups.categories,
            customs=customs,
            weight_unit=lookups.weight_unit,
            dimension_unit=lookups.dimension_unit,
        )
        problems += found
        mapped += skus
    return mapped, problems


def takes_anew(sku: WarehouseSku, existing: Mapping[VariantKey, CatalogRecord]) -> bool:
    """A SKU this variant did not hold until now: whether another variant holds it must be read."""
    record = existing.get((sku.product_id, sku.variant_id or 0))
    return record is None or record.archived or record.sku != sku.sku


def absent_products(products: list[Product], existing: Mapping[VariantKey, CatalogRecord]) -> list[int]:
    """Products a full page's id range still holds live rows of, yet the page did not list: deleted, or
    edited after the run started (the listing is bounded by its start). Only BigCommerce can tell which."""
    on_page = {product.id for product in products}
    return sorted({r.product_id for r in existing.values() if not r.archived and r.product_id not in on_page})


def decide_page(
    store_hash: str,
    products: list[Product],
    mapped: list[WarehouseSku],
    existing: Mapping[VariantKey, CatalogRecord],
    owners: Mapping[str, VariantKey],
    *,
    gone: Collection[int] = (),
) -> PageOutcome:
    """Upserts for new and changed SKUs, archives for what is gone: `existing` is what was last sent for
    the page's id range (full) or its products (delta); `owners`, who holds each SKU taken anew; `gone`,
    the products BigCommerce confirmed deleted."""
    outcome = PageOutcome()
    holders = dict(owners)
    seen: set[VariantKey] = set()
    for sku in mapped:
        key = (sku.product_id, sku.variant_id or 0)
        owner = holders.get(sku.sku)
        if owner is not None and owner != key:
            outcome.problems.append(
                f"SKU {sku.sku}: shared by product {owner[0]} variant {owner[1]} and product "
                f"{key[0]} variant {key[1]}; only the first is synced"
            )
            continue
        holders[sku.sku] = key
        seen.add(key)
        upsert(sku, existing.get(key), outcome, store_hash)
    # A product that was read tells which of its variants are gone (removed, or the product hidden); one
    # that was not is archived only once BigCommerce has confirmed it deleted: a product missing from a
    # listing may merely have been edited since the listing's bound, and archiving it would take a live
    # SKU from the warehouse until the next sync.
    read = {product.id: product for product in products}
    for key, record in existing.items():
        if key not in seen and not record.archived and (record.product_id in read or record.product_id in gone):
            product = read.get(record.product_id)
            hidden = product is not None and not product.is_visible and record.product_id not in gone
            archive(record, outcome, store_hash, reason="hidden" if hidden else "deleted")
    return outcome


def upsert(sku: WarehouseSku, previous: CatalogRecord | None, outcome: PageOutcome, store_hash: str) -> None:
    content_hash = sku.content_hash()
    generation = previous.generation if previous is not None else 0
    record = CatalogRecord(
        sku.product_id,
        sku.variant_id or 0,
        sku.sku,
        content_hash,
        False,
        generation,
        sku.inventory_tracking,
        hs_code=sku.customs.hs_code or "",
        country_of_origin=sku.customs.country_of_origin or "",
    )
    if previous is not None and not previous.archived and previous.content_hash == content_hash:
        if not previous.customs_indexed:  # a row from before the SKU index held customs data: write it, no event
            outcome.records.append(record)
        return  # unchanged: no event
    if previous is not None and not previous.archived and previous.sku != sku.sku:
        archive(previous, outcome, store_hash, reason="sku_changed")  # the variant's SKU was renamed
    outcome.events.append(
        OutboundEvent(
            "Product Upserted",
            store_hash,
            product_key(store_hash, sku.sku, record.content_key()),
            sku.model_dump(mode="json"),
        )
    )
    outcome.records.append(record)
    outcome.upserted += 1


def archive(record: CatalogRecord, outcome: PageOutcome, store_hash: str, *, reason: ArchiveReason) -> None:
    """`Product Archived`, under a key of its own generation: a SKU restored later gets a new key. `reason`
    tells the warehouse why (the key does not depend on it)."""
    archived = ArchivedSku(
        sku=record.sku, product_id=record.product_id, variant_id=record.variant_id or None, reason=reason
    )
    outcome.events.append(
        OutboundEvent(
            "Product Archived",
            store_hash,
            product_key(store_hash, record.sku, f"archived-{record.content_key()}"),
            archived.model_dump(mode="json"),
        )
    )
    outcome.records.append(replace(record, archived=True, generation=record.generation + 1))
    outcome.archived += 1
