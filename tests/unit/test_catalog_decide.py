"""Product sync's rules for a page, without moto: what is upserted, archived, reported."""

from __future__ import annotations

from typing import Any

from bcsync.catalog.decide import Lookups, absent_products, decide_page, map_page, takes_anew
from bcsync.catalog.mapping import CategoryPaths, CustomsMapping, WarehouseSku
from bcsync.catalog.state import CatalogRecord
from bigcommerce_client.models import Product

STORE = "abc123"
LOOKUPS = Lookups(brands={}, categories=CategoryPaths([]), weight_unit="kg", dimension_unit="cm")


def _product(product_id: int, *skus: str, visible: bool = True, name: str = "Tee") -> Product:
    variants = [
        {"id": product_id * 10 + n, "product_id": product_id, "sku": sku,
         "option_values": [{"label": str(n), "option_display_name": "Size"}]}
        for n, sku in enumerate(skus, start=1)
    ]  # fmt: skip
    body: dict[str, Any] = {"id": product_id, "name": name, "is_visible": visible, "variants": variants}
    return Product.model_validate(body)


def _sent(products: list[Product]) -> dict[tuple[int, int], CatalogRecord]:
    """What a previous run recorded for these products, unchanged since."""
    mapped, _ = map_page(products, LOOKUPS, customs=CustomsMapping(), skip_hidden=True)
    return {
        (sku.product_id, sku.variant_id or 0): CatalogRecord(
            sku.product_id, sku.variant_id or 0, sku.sku, sku.content_hash(), False
        )
        for sku in mapped
    }


def _page(
    products: list[Product],
    existing: dict[tuple[int, int], CatalogRecord],
    owners: dict[str, tuple[int, int]] | None = None,
    *,
    gone: set[int] | None = None,
) -> tuple[list[str], list[str], list[str]]:
    mapped, problems = map_page(products, LOOKUPS, customs=CustomsMapping(), skip_hidden=True)
    outcome = decide_page(STORE, products, mapped, existing, owners or {}, gone=gone or set())
    upserted = [str(e.data["sku"]) for e in outcome.events if e.detail_type == "Product Upserted"]
    archived = [str(e.data["sku"]) for e in outcome.events if e.detail_type == "Product Archived"]
    return upserted, archived, problems + outcome.problems


def test_a_new_product_upserts_each_variant() -> None:
    assert _page([_product(1, "A", "B")], {})[:2] == (["A", "B"], [])


def test_an_unchanged_page_publishes_and_writes_nothing() -> None:
    products = [_product(1, "A", "B")]
    mapped, _ = map_page(products, LOOKUPS, customs=CustomsMapping(), skip_hidden=True)
    outcome = decide_page(STORE, products, mapped, _sent(products), {})
    assert (outcome.events, outcome.records) == ([], [])


def test_a_changed_name_upserts_again() -> None:
    assert _page([_product(1, "A", name="Tee v2")], _sent([_product(1, "A")]))[:2] == (["A"], [])


def test_a_hidden_product_is_archived_and_so_is_one_bigcommerce_confirmed_deleted() -> None:
    existing = _sent([_product(1, "A"), _product(2, "B")])
    assert _page([_product(1, "A", visible=False)], existing, gone={2})[:2] == ([], ["A", "B"])


def test_a_product_missing_from_a_page_is_not_archived_until_bigcommerce_confirms_it_gone() -> None:
    """A full page is bounded by the run's start: a product edited since is missing from it, yet live."""
    existing = _sent([_product(1, "A"), _product(2, "B"), _product(3, "C")])
    page = [_product(1, "A")]
    assert absent_products(page, existing) == [2, 3]  # what the job reads again by id
    assert _page(page, existing)[:2] == ([], [])
    assert _page(page, existing, gone={3})[:2] == ([], ["C"])


def test_a_product_already_archived_is_not_read_again() -> None:
    archived = CatalogRecord(2, 21, "B", "x", True)
    assert absent_products([_product(1, "A")], {**_sent([_product(1, "A")]), (2, 21): archived}) == []


def test_a_delta_archives_only_within_the_products_it_read() -> None:
    existing = _sent([_product(1, "A"), _product(2, "B")])
    assert _page([_product(1, "A", visible=False)], existing)[:2] == ([], ["A"])


def test_a_renamed_sku_archives_the_old_name_and_upserts_the_new() -> None:
    assert _page([_product(1, "A2")], _sent([_product(1, "A")]))[:2] == (["A2"], ["A"])


def test_a_sku_another_variant_holds_is_reported_and_not_taken() -> None:
    upserted, archived, problems = _page([_product(2, "A")], {}, owners={"A": (1, 11)})
    assert (upserted, archived) == ([], [])
    assert problems == ["SKU A: shared by product 1 variant 11 and product 2 variant 21; only the first is synced"]


def test_two_variants_of_one_page_sharing_a_sku_keep_the_first() -> None:
    upserted, _, problems = _page([_product(1, "A"), _product(2, "A")], {})
    assert upserted == ["A"] and len(problems) == 1 and "product 1 variant 11" in problems[0]


def test_a_sku_is_read_for_its_holder_only_when_taken_anew() -> None:
    sku = WarehouseSku(sku="A", product_id=1, variant_id=11, name="Tee")
    held = CatalogRecord(1, 11, "A", "x", False)
    assert not takes_anew(sku, {(1, 11): held})
    assert takes_anew(sku, {}) and takes_anew(sku, {(1, 11): CatalogRecord(1, 11, "A", "x", True)})


def test_an_archive_then_a_return_get_keys_of_their_own_generation() -> None:
    products = [_product(1, "A")]
    mapped, _ = map_page(products, LOOKUPS, customs=CustomsMapping(), skip_hidden=True)
    first = decide_page(STORE, products, mapped, {}, {})
    gone = decide_page(STORE, [], [], {(1, 11): first.records[0]}, {}, gone={1})
    back = decide_page(STORE, products, mapped, {(1, 11): gone.records[0]}, {})
    keys = [first.events[0].idempotency_key, gone.events[0].idempotency_key, back.events[0].idempotency_key]
    assert len(set(keys)) == 3 and gone.records[0].archived and back.records[0].generation == 1
