"""Product sync: the BigCommerce catalog becomes the warehouse's SKU master, changes only.

Pages by keyset on product id (`id:greater`, `sort=id`), bounded by the run's start time
(`date_modified:max`), so products changed mid-run never shift a page; they are caught by the
next delta, whose window overlaps. For each page: one range query of what was last sent,
`Product Upserted` for new or changed SKUs and `Product Archived` for SKUs that disappeared or
were hidden, published before the catalog row is written, so a crash in between republishes
the same idempotency key and never loses an event. A full page's products that were sent before
but are not listed - deleted, or edited after the run's start - are read once more by id without
the bound (`id:in`, one call for up to 250): only those BigCommerce no longer has are archived.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel

from bcsync.backbone.messages import ProductSyncOptions
from bcsync.backbone.runner import Continue, JobContext, JobStep
from bcsync.catalog.decide import (
    Lookups,
    PageOutcome,
    absent_products,
    archive,
    decide_page,
    map_page,
    takes_anew,
)
from bcsync.catalog.mapping import CategoryPaths, CustomsMapping
from bcsync.catalog.state import MAX_ID, CatalogState
from bcsync.store.settings import StoreSettings
from bcsync.warehouse.events import EventPublisher
from bigcommerce_client import BigCommerceClient, Clock
from bigcommerce_client.models import Category, Product

Mode = Literal["full", "delta"]
MAX_PROBLEM_LINES = 100
# The checkpoint is one DynamoDB item (400 KB): a store whose brands and categories are larger reads
# them again in each continuation instead.
MAX_CHECKPOINT_LOOKUP_CHARS = 200_000
MAX_CONFIRM_IDS = 250  # BigCommerce's largest page: ids a single `id:in` read can confirm
_UNITS = {"LBS": "lb", "Ounces": "oz", "KGS": "kg", "Grams": "g", "Tonnes": "t", "Inches": "in", "Centimeters": "cm"}


class StoredLookups(BaseModel):
    """The lookups as a checkpoint keeps them (JSON: brand ids as strings, categories as triples)."""

    weight_unit: str
    dimension_unit: str
    brands: dict[str, str]
    categories: list[tuple[int, int, str]]

    def for_mapping(self) -> Lookups:
        return Lookups(
            brands={int(brand_id): name for brand_id, name in self.brands.items()},
            categories=CategoryPaths(
                Category(category_id=category_id, parent_id=parent_id, name=name)
                for category_id, parent_id, name in self.categories
            ),
            weight_unit=self.weight_unit,
            dimension_unit=self.dimension_unit,
        )


class SyncCheckpoint(BaseModel):
    """Where a sync left off: the next page starts after `last_id`, within the run's window."""

    mode: Mode
    last_id: int = 0
    until: AwareDatetime  # the run's start: products modified after it wait for the next delta
    since: AwareDatetime | None = None  # a delta's window start (the last sync's start, less an overlap)
    lookups: StoredLookups | None = None


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
        options = context.message.options_as(ProductSyncOptions)
        if options.deleted_product_ids:
            context.leaves_checkpoint = True  # a delta or full sync may be paused mid-catalog
            self.archive_deleted(options.deleted_product_ids, context)
            return None
        fresh = not context.checkpoint
        checkpoint = SyncCheckpoint.model_validate(context.checkpoint) if context.checkpoint else self._start(options)
        if checkpoint.lookups is None:
            lookups = self._lookups()
            if len(lookups.model_dump_json()) <= MAX_CHECKPOINT_LOOKUP_CHARS:
                checkpoint.lookups = lookups  # a continuation of this run reads them from here, not again
        else:
            lookups = checkpoint.lookups
        mapping = lookups.for_mapping()
        full = checkpoint.mode == "full"
        while True:
            params: dict[str, Any] = {
                "id:greater": checkpoint.last_id,
                "sort": "id",
                "direction": "asc",
                "date_modified:max": checkpoint.until.isoformat(),
            }
            if checkpoint.since:
                params["date_modified:min"] = checkpoint.since.isoformat()
            listed, more = self.client.get_products_page(params, limit=self.page_size)
            products = list(listed)
            first = checkpoint.last_id + 1
            last = MAX_ID if not more else (listed[-1].id if listed else first)
            existing = (
                self.catalog.in_product_range(first, last)
                if full
                else self.catalog.for_products([product.id for product in products])
            )
            gone: list[int] = []
            if full:
                missing = absent_products(products, existing)
                still_there = self._still_there(missing)
                gone = sorted(set(missing) - {product.id for product in still_there})
                products = products + still_there  # read anew: decided like the page's own
            mapped, problems = map_page(products, mapping, customs=self.customs, skip_hidden=self.skip_hidden)
            # Who holds each SKU this page would take anew (unchanged rows hold theirs already).
            owners = self.catalog.sku_owners({sku.sku for sku in mapped if takes_anew(sku, existing)})
            outcome = decide_page(self.settings.store_hash, products, mapped, existing, owners, gone=gone)
            outcome.problems[:0] = problems
            if outcome.events:
                self.publisher.publish(outcome.events)
            self.catalog.put_many(outcome.records)
            context.count("products", len(listed))
            context.count("skus_upserted", outcome.upserted)
            context.count("skus_archived", outcome.archived)
            context.count("sku_problems", len(outcome.problems))
            room = MAX_PROBLEM_LINES - len(context.problems)
            context.problems.extend(outcome.problems[: max(room, 0)])
            if listed:
                checkpoint.last_id = listed[-1].id
            if not more:
                # The last page: no checkpoint to save (a crash before the cursor moves redoes this page, which
                # then changes nothing). A delta from the cursor that listed no product at all leaves the cursor
                # where it is: the next delta's window, from the same cursor less the overlap, holds this one's.
                quiet = fresh and not full and checkpoint.last_id == 0
                if not quiet:
                    self.catalog.set_cursor(checkpoint.until)
                return None
            context.save_checkpoint(checkpoint.model_dump(mode="json"))  # a crash after this page resumes after it
            if context.time_is_short():
                return Continue(checkpoint=checkpoint.model_dump(mode="json"))

    def _still_there(self, product_ids: list[int]) -> list[Product]:
        """Which of these products BigCommerce still has, whatever their date_modified: one call per
        250 ids (`id:in`), none when the page listed every product it held before."""
        found: list[Product] = []
        for start in range(0, len(product_ids), MAX_CONFIRM_IDS):
            chunk = product_ids[start : start + MAX_CONFIRM_IDS]
            params = {"id:in": ",".join(map(str, chunk)), "sort": "id", "direction": "asc"}
            page, _ = self.client.get_products_page(params, limit=len(chunk))
            found += page
        return found

    def _start(self, options: ProductSyncOptions) -> SyncCheckpoint:
        until = datetime.fromtimestamp(self.clock.now(), tz=UTC)
        since = self.catalog.cursor() if options.mode == "delta" else None
        # Never synced: a delta has nothing to start from.
        mode: Mode = "delta" if options.mode == "delta" and since is not None else "full"
        return SyncCheckpoint(mode=mode, until=until, since=since - self.delta_overlap if since else None)

    def _lookups(self) -> StoredLookups:
        """What every page's mapping needs besides the products: units, brands, the category tree."""
        info = self.client.get_store_info()
        weight = str(info.get("weight_units", ""))
        dimension = str(info.get("dimension_units", ""))
        return StoredLookups(
            weight_unit=_UNITS.get(weight, weight or "lb"),
            dimension_unit=_UNITS.get(dimension, dimension or "in"),
            brands={str(brand.id): brand.name for brand in self.client.iter_brands()},
            categories=[(c.category_id, c.parent_id, c.name) for c in self.client.iter_categories()],
        )

    def archive_deleted(self, product_ids: list[int], context: JobContext) -> None:
        """`store/product/deleted` carries the id: archive its SKUs without a full sync (no API call)."""
        outcome = PageOutcome()
        for key, record in self.catalog.for_products(product_ids).items():
            if not record.archived and key[0] in product_ids:
                archive(record, outcome, self.settings.store_hash, reason="deleted")
        if outcome.events:
            self.publisher.publish(outcome.events)
        self.catalog.put_many(outcome.records)
        context.count("skus_archived", outcome.archived)


def product_sync_steps(
    *,
    catalog_for: Callable[[str], CatalogState],
    publisher: EventPublisher,
    clock: Clock,
    page_size: int | None = None,
) -> Callable[[StoreSettings, BigCommerceClient], JobStep]:
    """The job function's step factory (`ColdStart.job_function`): one ProductSync per store and message,
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
