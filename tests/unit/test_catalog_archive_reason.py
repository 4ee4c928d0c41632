"""A `Product Archived` says why (hidden, deleted, SKU changed), and the SKU index keeps the customs data
product sync sent, which order events then carry on their lines."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bcsync.catalog.decide import Lookups, PageOutcome, archive, decide_page, map_page
from bcsync.catalog.mapping import CategoryPaths, CustomsMapping
from bcsync.catalog.state import CatalogRecord
from bigcommerce_client.models import Product

STORE = "abc123"
LOOKUPS = Lookups(brands={}, categories=CategoryPaths([]), weight_unit="kg", dimension_unit="cm")


def _product(product_id: int, *skus: str, visible: bool = True) -> Product:
    variants = [
        {"id": product_id * 10 + n, "product_id": product_id, "sku": sku,
         "option_values": [{"label": str(n), "option_display_name": "Size"}]}
        for n, sku in enumerate(skus, start=1)
    ]  # fmt: skip
    body: dict[str, Any] = {
        "id": product_id, "name": "Tee", "is_visible": visible, "variants": variants,
        "custom_fields": [{"name": "hs_code", "value": "6109.10"}, {"name": "Country of Origin", "value": "PT"}],
    }  # fmt: skip
    return Product.model_validate(body)


def _outcome(products: list[Product], existing: dict[tuple[int, int], CatalogRecord], **kw: Any) -> PageOutcome:
    mapped, _ = map_page(products, LOOKUPS, customs=CustomsMapping(), skip_hidden=True)
    return decide_page(STORE, products, mapped, existing, {}, **kw)


def _sent(products: list[Product]) -> dict[tuple[int, int], CatalogRecord]:
    return {(r.product_id, r.variant_id): r for r in _outcome(products, {}).records}


def _reasons(outcome: PageOutcome) -> dict[str, Any]:
    return {str(e.data["sku"]): e.data["reason"] for e in outcome.events if e.detail_type == "Product Archived"}


def test_a_hidden_product_says_hidden_and_a_deleted_one_or_a_removed_variant_says_deleted() -> None:
    sent = _sent([_product(1, "A", "B"), _product(2, "C")])
    assert _reasons(_outcome([_product(1, "A", "B", visible=False)], sent)) == {"A": "hidden", "B": "hidden"}
    assert _reasons(_outcome([_product(1, "A")], sent)) == {"B": "deleted"}
    assert _reasons(_outcome([], sent, gone={2})) == {"C": "deleted"}


def test_a_renamed_sku_says_sku_changed() -> None:
    sent = _sent([_product(1, "A")])
    assert _reasons(_outcome([_product(1, "A2")], sent)) == {"A": "sku_changed"}


def test_an_archive_from_the_product_deleted_webhook_says_deleted() -> None:
    outcome = PageOutcome()
    archive(CatalogRecord(1, 11, "A", "h", False), outcome, STORE, reason="deleted")
    (event,) = outcome.events
    assert event.data == {"sku": "A", "product_id": 1, "variant_id": 11, "reason": "deleted"}
    assert event.idempotency_key == f"product:{STORE}:A:archived-h"  # the key does not depend on the reason


def test_the_sku_index_keeps_the_customs_data_product_sync_sent() -> None:
    (record,) = _outcome([_product(1, "A")], {}).records
    assert (record.hs_code, record.country_of_origin, record.customs_indexed) == ("6109.10", "PT", True)


def test_a_row_from_before_the_index_held_customs_is_written_again_without_an_event() -> None:
    sent = _sent([_product(1, "A")])
    older = {
        key: replace(record, hs_code="", country_of_origin="", customs_indexed=False) for key, record in sent.items()
    }
    outcome = _outcome([_product(1, "A")], older)
    assert outcome.events == [] and outcome.upserted == 0
    assert [(r.sku, r.hs_code, r.customs_indexed) for r in outcome.records] == [("A", "6109.10", True)]
    assert _outcome([_product(1, "A")], sent).records == []  # once written, an unchanged SKU is left alone
