"""The catalog as the warehouse sees it: every variant one SKU, keyed by one rule.

Pure logic, no I/O: mapping BigCommerce products (with brands and the category tree) to
`WarehouseSku` records and their content hashes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bigcommerce_client.models import Category, Product, Variant

MAX_CATEGORY_LEVELS = 3


def sku_key(*, sku: str | None, product_id: int, variant_id: int | None, has_options: bool) -> str:
    """The warehouse SKU of a variant (product sync and order import both use this rule).

    The variant's own SKU when it has one; otherwise a stable fallback that never changes for
    that variant: `BC-<product_id>` for a product without options, `BC-<product_id>-<variant_id>`.
    """
    own = (sku or "").strip()
    if own:
        return own
    if not has_options or variant_id is None:
        return f"BC-{product_id}"
    return f"BC-{product_id}-{variant_id}"


class Dimensions(BaseModel):
    model_config = ConfigDict(frozen=True)

    weight: Decimal | None = Field(default=None, description="the variant's weight (or its product's), in weight_unit")
    width: Decimal | None = Field(default=None, description="width, in dimension_unit")
    height: Decimal | None = Field(default=None, description="height, in dimension_unit")
    depth: Decimal | None = Field(default=None, description="depth, in dimension_unit")
    weight_unit: str = Field(default="lb", description="the store's weight unit: lb, kg, g or oz")
    dimension_unit: str = Field(default="in", description="the store's length unit: in or cm")


class Customs(BaseModel):
    model_config = ConfigDict(frozen=True)

    hs_code: str | None = Field(
        default=None, description="HS (tariff) code from the product's custom fields (the store's hs_code_fields)"
    )
    country_of_origin: str | None = Field(
        default=None, description="country of origin from the custom fields (the store's country_of_origin_fields)"
    )


class WarehouseSku(BaseModel):
    """`data` of a `Product Upserted` event (docs/warehouse-contract.md)."""

    model_config = ConfigDict(frozen=True)

    sku: str = Field(description="the warehouse SKU: the variant's SKU, or a fallback key (fallback_sku)")
    product_id: int = Field(description="BigCommerce's product id")
    variant_id: int | None = Field(description="BigCommerce's variant id; null for a product without variants")
    name: str = Field(description="the product's name, the variant's options appended")
    options: dict[str, str] = Field(default_factory=dict, description="the variant's options, name to value")
    main_image: str | None = Field(default=None, description="URL of the variant's image, or the product's first")
    images: list[str] = Field(default_factory=list, description="URLs of the product's other images")
    brand: str | None = Field(default=None, description="the brand's name")
    categories: list[list[str]] = Field(
        default_factory=list, description="each category as a path of names, root first"
    )  # each a path, root first, ≤ 3 levels
    dimensions: Dimensions = Field(default_factory=Dimensions, description="weight and size, with their units")
    price: Decimal | None = Field(default=None, description="the variant's price (or its product's)")
    retail_price: Decimal | None = Field(default=None, description="the retail (list) price")
    cost_price: Decimal | None = Field(default=None, description="the cost price")
    upc: str | None = Field(default=None, description="UPC, the variant's or its product's")
    gtin: str | None = Field(default=None, description="GTIN, the variant's or its product's")
    mpn: str | None = Field(default=None, description="manufacturer part number")
    bin_picking_number: str | None = Field(default=None, description="the store's bin picking number")
    custom_fields: dict[str, str] = Field(
        default_factory=dict, description="the product's custom fields, name to value"
    )
    customs: Customs = Field(default_factory=Customs, description="customs data, from the custom fields")
    inventory_tracking: Literal["none", "product", "variant"] = Field(
        default="none", description="how BigCommerce tracks its stock: per variant, per product, or not at all"
    )
    fallback_sku: bool = Field(default=False, description="the variant has no SKU in BigCommerce: sku is BC-<ids>")

    def content_hash(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]


# Why a SKU was archived: its product hidden in BigCommerce (it may come back), the product or variant deleted,
# or the variant's SKU changed (the new SKU is upserted in the same sync).
ArchiveReason = Literal["hidden", "deleted", "sku_changed"]


class ArchivedSku(BaseModel):
    """`data` of a `Product Archived` event: the SKU is gone from the store, or hidden."""

    model_config = ConfigDict(frozen=True)

    sku: str = Field(description="the SKU as product sync sent it")
    product_id: int = Field(description="BigCommerce's product id")
    variant_id: int | None = Field(description="BigCommerce's variant id; null for a product without variants")
    reason: ArchiveReason | None = Field(
        default=None,
        description="from schema_version 2: hidden (the product was hidden in BigCommerce and may come back),"
        " deleted (the product or the variant was deleted) or sku_changed (the variant now has another SKU,"
        " upserted in the same sync); absent in version 1",
    )


class CustomsMapping(BaseModel):
    """Where a store keeps customs data: custom field names (or option names) per value."""

    hs_code_fields: tuple[str, ...] = ("hs_code", "HS Code", "hs-code", "tariff_code")
    country_of_origin_fields: tuple[str, ...] = ("country_of_origin", "Country of Origin", "origin")


class CategoryPaths:
    """Category id → path of names (root first), from the flat `/catalog/trees/categories` list."""

    def __init__(self, categories: Iterable[Category]) -> None:
        self._by_id = {category.category_id: category for category in categories}

    def path(self, category_id: int) -> list[str] | None:
        """None for a category that no longer exists (a product may still point at it)."""
        names: list[str] = []
        current = self._by_id.get(category_id)
        if current is None:
            return None
        seen: set[int] = set()
        while current is not None and current.category_id not in seen:
            seen.add(current.category_id)
            names.append(current.name)
            current = self._by_id.get(current.parent_id) if current.parent_id else None
        return list(reversed(names))[:MAX_CATEGORY_LEVELS]


def _first(fields: Mapping[str, str], names: Iterable[str]) -> str | None:
    lowered = {key.lower(): value for key, value in fields.items()}
    for name in names:
        value = lowered.get(name.lower())
        if value:
            return value
    return None


def _blank_to_none(value: str | None) -> str | None:
    return value if value and value.strip() else None


def map_product(
    product: Product,
    *,
    brands: Mapping[int, str],
    categories: CategoryPaths,
    customs: CustomsMapping,
    weight_unit: str,
    dimension_unit: str,
) -> tuple[list[WarehouseSku], list[str]]:
    """The product's SKUs and the problems found (never an exception for bad data)."""
    problems: list[str] = []
    variants = product.variants or [Variant(id=0, product_id=product.id, sku=product.sku)]
    has_options = any(variant.option_values for variant in variants)
    custom_fields = {field.name: field.value for field in product.custom_fields}
    images = sorted(product.images, key=lambda image: (not image.is_thumbnail, image.sort_order))
    image_urls = [url for image in images if (url := image.url_zoom or image.url_standard)]
    paths: list[list[str]] = []
    for category_id in product.categories:
        path = categories.path(category_id)
        if path is None:
            problems.append(f"product {product.id}: category {category_id} no longer exists")
        elif path not in paths:
            paths.append(path)
    brand = brands.get(product.brand_id) if product.brand_id else None
    skus = []
    for variant in variants:
        variant_id = variant.id or None
        key = sku_key(sku=variant.sku, product_id=product.id, variant_id=variant_id, has_options=has_options)
        fallback = not (variant.sku or "").strip()
        if fallback:
            problems.append(f"SKU {key}: product {product.id} variant {variant_id} has no SKU in BigCommerce")
        options = {value.option_display_name: value.label for value in variant.option_values}
        name = product.name
        if options:
            name += " - " + ", ".join(f"{option}: {value}" for option, value in options.items())
        option_customs = {value.option_display_name: value.label for value in variant.option_values}
        main_image = _blank_to_none(variant.image_url) or (image_urls[0] if image_urls else None)
        skus.append(
            WarehouseSku(
                sku=key,
                product_id=product.id,
                variant_id=variant_id,
                name=name,
                options=options,
                main_image=main_image,
                images=[url for url in image_urls if url != main_image],
                brand=brand,
                categories=paths,
                dimensions=Dimensions(
                    weight=variant.weight if variant.weight is not None else product.weight,
                    width=variant.width if variant.width is not None else product.width,
                    height=variant.height if variant.height is not None else product.height,
                    depth=variant.depth if variant.depth is not None else product.depth,
                    weight_unit=weight_unit,
                    dimension_unit=dimension_unit,
                ),
                price=variant.price if variant.price is not None else product.price,
                retail_price=variant.retail_price if variant.retail_price is not None else product.retail_price,
                cost_price=variant.cost_price if variant.cost_price is not None else product.cost_price,
                upc=_blank_to_none(variant.upc) or _blank_to_none(product.upc),
                gtin=_blank_to_none(variant.gtin) or _blank_to_none(product.gtin),
                mpn=_blank_to_none(variant.mpn) or _blank_to_none(product.mpn),
                bin_picking_number=_blank_to_none(variant.bin_picking_number)
                or _blank_to_none(product.bin_picking_number),
                custom_fields=custom_fields,
                customs=Customs(
                    hs_code=_first(custom_fields, customs.hs_code_fields)
                    or _first(option_customs, customs.hs_code_fields),
                    country_of_origin=_first(custom_fields, customs.country_of_origin_fields)
                    or _first(option_customs, customs.country_of_origin_fields),
                ),
                inventory_tracking=product.inventory_tracking,
                fallback_sku=fallback,
            )
        )
    return skus, problems
