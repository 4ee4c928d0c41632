"""Product sync: the BigCommerce catalog becomes the warehouse's SKU master, changes only.

Pages by keyset on product id (`id:greater`, `sort=id`), bounded by the run's start time
(`date_modified:max`), so products changed mid-run never shift a page; they are caught by the
next delta, whose window overlaps. For each page: one range query of what was last sent,
`Product Upserted` for new or changed SKUs and `Product Archived` for SKUs that disappeared or
were hidden, published before the catalog row is written, so a crash in between republishes
the same idempotency key and never loses an event.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from bcsync.backbone.runner import Continue, JobContext, JobStep
from bcsync.catalog.mapping import ArchivedSku, CategoryPaths, CustomsMapping, WarehouseSku, map_product
from bcsync.catalog.state import MAX_ID, CatalogRecord, CatalogState
from bcsync.store.settings import StoreSettings
from bcsync.warehouse.events import EventPublisher, OutboundEvent, product_key
from bigcommerce_client import BigCommerceClient, Clock
from bigcommerce_client.models import Category, Product

Mode = Literal["full", "delta"]
MAX_PROBLEM_LINES = 100
# The checkpoint is one DynamoDB item (400 KB): a store whose brands and categories are larger reads
# them again in each continuation instead.
MAX_CHECKPOINT_LOOKUP_CHARS = 200_000
_UNITS = {"LBS": "lb", "Ounces": "oz", "KGS": "kg", "Grams": "g", "Tonnes": "t", "Inches": "in", "Centimeters": "cm"}


@dataclass
class PageOutcome:
    events: list[OutboundEvent] = field(default_factory=list)
    records: list[CatalogRecord] = field(default_factory=list)
    upserted: int = 0
    archived: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class ProductSync:
    settings: StoreSettings
    client: BigCommerceClient
    catalog: CatalogState
    publisher: EventPublisher
    clock: Clock
    page_size: int = 250
    delta_overlap: timedelta = timedelta(minutes=5)
    skip_hidden: bool = True
    customs: CustomsMapping = field(default_factory=CustomsMapping)

    def step(self, context: JobContext) -> Continue | None:
        deleted = [int(product_id) for product_id in context.message.options.get("deleted_product_ids", [])]
        if deleted:
            context.leaves_checkpoint = True  # a delta or full sync may be paused mid-catalog
            self.archive_deleted(deleted, context)
            return None
        checkpoint = dict(context.checkpoint or {})
        if not checkpoint:
            mode: Mode = "full" if context.message.options.get("mode") == "full" else "delta"
            until = datetime.fromtimestamp(self.clock.now(), tz=UTC)
            since = self.catalog.cursor() if mode == "delta" else None
            if mode == "delta" and since is None:
                mode = "full"  # never synced: a delta has nothing to start from
            checkpoint = {
                "mode": mode,
                "last_id": 0,
                "until": until.isoformat(),
                "since": (since - self.delta_overlap).isoformat() if since else None,
            }
        lookups = checkpoint.get("lookups") or self._lookups()
        if "lookups" not in checkpoint and len(json.dumps(lookups)) <= MAX_CHECKPOINT_LOOKUP_CHARS:
            checkpoint["lookups"] = lookups  # a continuation of this run reads them from here, not again
        weight_unit, dimension_unit = lookups["weight_unit"], lookups["dimension_unit"]
        brands = {int(brand_id): name for brand_id, name in lookups["brands"].items()}
        categories = CategoryPaths(
            Category(category_id=category_id, parent_id=parent_id, name=name)
            for category_id, parent_id, name in lookups["categories"]
        )
        while True:
            params: dict[str, Any] = {
                "id:greater": checkpoint["last_id"],
                "sort": "id",
                "direction": "asc",
                "date_modified:max": checkpoint["until"],
            }
            if checkpoint["since"]:
                params["date_modified:min"] = checkpoint["since"]
            products, more = self.client.get_products_page(params, limit=self.page_size)
            full = checkpoint["mode"] == "full"
            first = checkpoint["last_id"] + 1
            last = MAX_ID if not more else (products[-1].id if products else first)
            existing = (
                self.catalog.in_product_range(first, last)
                if full
                else self.catalog.for_products([product.id for product in products])
            )
            outcome = self._compare(
                products, existing, full=full, mapping=(brands, categories, weight_unit, dimension_unit)
            )
            if outcome.events:
                self.publisher.publish(outcome.events)
            self.catalog.put_many(outcome.records)
            context.count("products", len(products))
            context.count("skus_upserted", outcome.upserted)
            context.count("skus_archived", outcome.archived)
            context.count("sku_problems", len(outcome.problems))
            room = MAX_PROBLEM_LINES - len(context.problems)
            context.problems.extend(outcome.problems[: max(room, 0)])
            if products:
                checkpoint["last_id"] = products[-1].id
            context.save_checkpoint(checkpoint)  # a crash after this page resumes after it
            if not more:
                self.catalog.set_cursor(datetime.fromisoformat(checkpoint["until"]))
                return None
            if context.time_is_short():
                return Continue(checkpoint=checkpoint)

    def _lookups(self) -> dict[str, Any]:
        """What every page's mapping needs besides the products: units, brands, the category tree."""
        info = self.client.get_store_info()
        weight = str(info.get("weight_units", ""))
        dimension = str(info.get("dimension_units", ""))
        return {
            "weight_unit": _UNITS.get(weight, weight or "lb"),
            "dimension_unit": _UNITS.get(dimension, dimension or "in"),
            "brands": {str(brand.id): brand.name for brand in self.client.iter_brands()},
            "categories": [[c.category_id, c.parent_id, c.name] for c in self.client.iter_categories()],
        }

    def archive_deleted(self, product_ids: list[int], context: JobContext) -> None:
        """`store/product/deleted` carries the id: archive its SKUs without a full sync (no API call)."""
        outcome = PageOutcome()
        for key, record in self.catalog.for_products(product_ids).items():
            if not record.archived and key[0] in product_ids:
                self._archive(record, outcome, self.settings.store_hash)
        if outcome.events:
            self.publisher.publish(outcome.events)
        self.catalog.put_many(outcome.records)
        context.count("skus_archived", outcome.archived)

    def _compare(
        self,
        products: list[Product],
        existing: dict[tuple[int, int], CatalogRecord],
        *,
        full: bool,
        mapping: tuple[dict[int, str], CategoryPaths, str, str],
    ) -> PageOutcome:
        brands, categories, weight_unit, dimension_unit = mapping
        outcome = PageOutcome()
        store_hash = self.settings.store_hash
        seen: set[tuple[int, int]] = set()
        mapped: list[WarehouseSku] = []
        for product in products:
            if self.skip_hidden and not product.is_visible:
                continue  # its rows, if any, are archived below as not seen
            skus, problems = map_product(
                product,
                brands=brands,
                categories=categories,
                customs=self.customs,
                weight_unit=weight_unit,
                dimension_unit=dimension_unit,
            )
            outcome.problems += problems
            mapped += skus
        # Who holds each SKU this page would take anew (unchanged rows hold theirs already).
        owners = self.catalog.sku_owners({sku.sku for sku in mapped if _takes_anew(sku, existing)})
        for sku in mapped:
            key = (sku.product_id, sku.variant_id or 0)
            owner = owners.get(sku.sku)
            if owner is not None and owner != key:
                outcome.problems.append(
                    f"SKU {sku.sku}: shared by product {owner[0]} variant {owner[1]} and product "
                    f"{key[0]} variant {key[1]}; only the first is synced"
                )
                continue
            owners[sku.sku] = key
            seen.add(key)
            self._upsert(sku, existing.get(key), outcome, store_hash)
        # A full sync owns the whole id range, so anything unseen there is gone; a delta only knows
        # about the products it read (a variant removed, a product hidden).
        on_page = {product.id for product in products}
        for key, record in existing.items():
            if key not in seen and not record.archived and (full or record.product_id in on_page):
                self._archive(record, outcome, store_hash)
        return outcome

    def _upsert(self, sku: WarehouseSku, previous: CatalogRecord | None, outcome: PageOutcome, store_hash: str) -> None:
        content_hash = sku.content_hash()
        if previous is not None and not previous.archived and previous.content_hash == content_hash:
            return  # unchanged: no write, no event
        if previous is not None and not previous.archived and previous.sku != sku.sku:
            self._archive(previous, outcome, store_hash)  # the variant's SKU was renamed
        generation = previous.generation if previous is not None else 0
        record = CatalogRecord(
            sku.product_id, sku.variant_id or 0, sku.sku, content_hash, False, generation, sku.inventory_tracking
        )
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

    @staticmethod
    def _archive(record: CatalogRecord, outcome: PageOutcome, store_hash: str) -> None:
        outcome.events.append(
            OutboundEvent(
                "Product Archived",
                store_hash,
                product_key(store_hash, record.sku, f"archived-{record.content_key()}"),
                ArchivedSku(
                    sku=record.sku, product_id=record.product_id, variant_id=record.variant_id or None
                ).model_dump(mode="json"),
            )
        )
        outcome.records.append(
            CatalogRecord(
                record.product_id,
                record.variant_id,
                record.sku,
                record.content_hash,
                True,
                record.generation + 1,
                record.inventory_tracking,
            )
        )
        outcome.archived += 1


def _takes_anew(sku: WarehouseSku, existing: dict[tuple[int, int], CatalogRecord]) -> bool:
    record = existing.get((sku.product_id, sku.variant_id or 0))
    return record is None or record.archived or record.sku != sku.sku


def product_sync_steps(
    *,
    catalog_for: Callable[[str], CatalogState],
    publisher: EventPublisher,
    clock: Clock,
    page_size: int | None = None,
) -> Callable[[StoreSettings, BigCommerceClient], JobStep]:
    """The step factory `build_job_consumer` takes: one ProductSync per store and message,
    configured from the store's settings (`page_size` overrides the store's, for tests)."""

    def factory(settings: StoreSettings, client: BigCommerceClient) -> JobStep:
        return ProductSync(
            settings=settings,
            client=client,
            catalog=catalog_for(settings.store_hash),
            publisher=publisher,
            clock=clock,
            page_size=page_size or settings.product_page_size,
            delta_overlap=timedelta(seconds=settings.delta_overlap_seconds),
            skip_hidden=settings.skip_hidden_products,
            customs=CustomsMapping(
                hs_code_fields=settings.hs_code_fields, country_of_origin_fields=settings.country_of_origin_fields
            ),
        ).step

    return factory
