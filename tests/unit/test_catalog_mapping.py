from __future__ import annotations

from decimal import Decimal
from typing import Any

from bcsync.catalog.mapping import CategoryPaths, CustomsMapping, map_product, sku_key
from bigcommerce_client.models import Category, Product

CATEGORIES = CategoryPaths(
    [
        Category(category_id=10, parent_id=0, name="Apparel"),
        Category(category_id=11, parent_id=10, name="Shirts"),
        Category(category_id=12, parent_id=11, name="T-Shirts"),
        Category(category_id=13, parent_id=12, name="Crew neck"),
    ]
)


def product(**overrides: Any) -> Product:
    body: dict[str, Any] = {
        "id": 7,
        "name": "T-Shirt",
        "sku": "TS",
        "price": "20.00",
        "weight": "0.5",
        "brand_id": 1,
        "categories": [12],
        "inventory_tracking": "variant",
        "images": [
            {"id": 2, "is_thumbnail": False, "sort_order": 1, "url_zoom": "https://cdn/b.jpg"},
            {"id": 1, "is_thumbnail": True, "sort_order": 0, "url_zoom": "https://cdn/a.jpg"},
        ],
        "custom_fields": [{"name": "HS Code", "value": "6109.10"}, {"name": "origin", "value": "PT"}],
        "variants": [
            {
                "id": 70,
                "product_id": 7,
                "sku": "TS-L-RED",
                "price": "22.00",
                "option_values": [
                    {"label": "L", "option_display_name": "Size"},
                    {"label": "Red", "option_display_name": "Color"},
                ],
            },
            {"id": 71, "product_id": 7, "sku": "", "option_values": [{"label": "M", "option_display_name": "Size"}]},
        ],
    }
    body.update(overrides)
    return Product.model_validate(body)


def run(p: Product) -> tuple[list[Any], list[str]]:
    return map_product(
        p, brands={1: "Acme"}, categories=CATEGORIES, customs=CustomsMapping(), weight_unit="kg", dimension_unit="cm"
    )


def test_each_variant_is_one_sku_named_with_its_options() -> None:
    skus, _ = run(product())
    first = skus[0]
    assert [s.sku for s in skus] == ["TS-L-RED", "BC-7-71"]
    assert first.name == "T-Shirt - Size: L, Color: Red"
    assert first.price == Decimal("22.00") and skus[1].price == Decimal(
        "20.00"
    )  # the product's when the variant has none
    assert first.brand == "Acme" and first.categories == [["Apparel", "Shirts", "T-Shirts"]]
    assert first.main_image == "https://cdn/a.jpg" and first.images == ["https://cdn/b.jpg"]
    assert first.customs.hs_code == "6109.10" and first.customs.country_of_origin == "PT"
    assert first.dimensions.weight == Decimal("0.5") and first.dimensions.weight_unit == "kg"


def test_a_missing_sku_gets_a_stable_fallback_and_is_reported() -> None:
    skus, problems = run(product())
    assert skus[1].fallback_sku
    assert problems == ["SKU BC-7-71: product 7 variant 71 has no SKU in BigCommerce"]
    assert sku_key(sku=None, product_id=7, variant_id=None, has_options=False) == "BC-7"
    assert sku_key(sku="  ", product_id=7, variant_id=71, has_options=True) == "BC-7-71"
    assert sku_key(sku=" A-1 ", product_id=7, variant_id=71, has_options=True) == "A-1"


def test_a_product_without_variants_or_images_still_maps() -> None:
    skus, _ = run(product(variants=[], images=[], sku="", name="Ünïcødé ☕ mug"))
    assert [(s.sku, s.name, s.main_image) for s in skus] == [("BC-7", "Ünïcødé ☕ mug", None)]


def test_a_category_that_no_longer_exists_is_a_problem_not_a_crash() -> None:
    skus, problems = run(product(categories=[12, 99]))
    assert skus[0].categories == [["Apparel", "Shirts", "T-Shirts"]]
    assert "product 7: category 99 no longer exists" in problems


def test_category_paths_stop_at_three_levels() -> None:
    assert CATEGORIES.path(13) == ["Apparel", "Shirts", "T-Shirts"]


def test_the_content_hash_changes_with_content_only() -> None:
    a, _ = run(product())
    b, _ = run(product())
    assert a[0].content_hash() == b[0].content_hash()
    changed = product()
    changed.variants[0].price = Decimal("23.00")
    c, _ = run(changed)
    assert c[0].content_hash() != a[0].content_hash()
    assert c[1].content_hash() == a[1].content_hash()


def test_600_variants_map_to_600_skus() -> None:
    many = [
        {
            "id": 1000 + n,
            "product_id": 7,
            "sku": f"S-{n}",
            "option_values": [{"label": str(n), "option_display_name": "N"}],
        }
        for n in range(600)
    ]
    skus, problems = run(product(variants=many))
    assert len({s.sku for s in skus}) == 600 and problems == []
