"""Fulfillment requests: the request model, its order body, its hash, and the decisions about it (pure)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from bcsync.fulfilment.decide import FulfilmentRecord, decide, resolve
from bcsync.fulfilment.mapping import Variant, content_hash, new_customer, order_body
from bcsync.fulfilment.request import FulfillmentRequest

ADDRESS = {"first_name": "Ada", "street_1": "1 Main", "city": "Austin", "zip": "78751", "country_iso2": "US"}


def _request(**fields: Any) -> FulfillmentRequest:
    body = {"type": "Fulfillment Request", "store_hash": "abc123", "request_id": "PO-1",
            "lines": [{"sku": "A", "quantity": 2, "price": "9.99"}, {"sku": "B", "quantity": 1, "price": 0}],
            "ship_to": ADDRESS, "bill_to": ADDRESS, **fields}  # fmt: skip
    return FulfillmentRequest.model_validate(body)


def test_the_order_body_names_each_variant_and_carries_the_request_id_where_it_can_be_looked_up() -> None:
    body = order_body(
        _request(carrier="UPS", ship_method="Ground", notes="fragile", email="ada@example.com"),
        {"A": Variant(10, 11), "B": Variant(20, 0)},
        customer_id=0,
        status_id=11,
    )
    assert body["external_order_id"] == "PO-1" and body["status_id"] == 11 and body["customer_id"] == 0
    assert body["products"] == [
        {"product_id": 10, "variant_id": 11, "quantity": 2, "price_inc_tax": 9.99, "price_ex_tax": 9.99},
        {"product_id": 20, "quantity": 1, "price_inc_tax": 0.0, "price_ex_tax": 0.0},  # no variant of its own
    ]
    assert body["shipping_addresses"][0]["shipping_method"] == "UPS Ground"
    assert body["billing_address"]["email"] == "ada@example.com"  # the request's e-mail when the address has none
    assert body["customer_message"] == "fragile"


def test_the_hash_ignores_when_a_request_was_made_and_sees_what_it_asks_for() -> None:
    same = content_hash(_request())
    assert content_hash(_request(requested_at="2026-01-01T10:00:00Z")) == same  # a held copy is dated
    assert content_hash(_request(lines=[{"sku": "A", "quantity": 3, "price": "9.99"}])) != same
    assert content_hash(_request(ship_to={**ADDRESS, "city": "Dallas"})) != same


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"lines": [{"sku": "A", "quantity": 0, "price": 1}]}, "quantity"),
        ({"lines": [{"sku": "A", "quantity": "2", "price": 1}]}, "quantity"),  # a string is not guessed at
        ({"lines": []}, "lines"),
        ({"bill_to": None}, "bill_to"),
        ({"ship_to": {**ADDRESS, "country_iso2": ""}}, "country"),
        ({"customer_policy": "must_exist"}, "email"),
        ({"request_id": "PO:1"}, "request_id"),  # `:` separates the parts of bcsync's keys
    ],
)
def test_a_request_that_cannot_be_an_order_is_refused_naming_the_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        _request(**fields)


@pytest.mark.parametrize(
    ("record", "decision"),
    [
        (None, "create"),
        (FulfilmentRecord("PO-1", "h1", "creating"), "recover"),  # its create may have reached BigCommerce
        (FulfilmentRecord("PO-1", "h1", "created", order_id=7), "answer"),
        (FulfilmentRecord("PO-1", "h2", "created", order_id=7), "reused"),
        (FulfilmentRecord("PO-1", "h2", "creating"), "reused"),
    ],
)
def test_what_a_request_means_given_its_record(record: FulfilmentRecord | None, decision: str) -> None:
    assert decide(record, "h1") == decision


def test_skus_resolve_through_the_index_first_then_the_stores_variants() -> None:
    resolution = resolve(
        ["A", "B", "C", "D", "A"],
        indexed={"A": Variant(1, 2)},
        looked_up={"B": [Variant(3, 4)], "C": [], "D": [Variant(5, 6), Variant(7, 8)]},
    )
    assert resolution.variants == {"A": Variant(1, 2), "B": Variant(3, 4)}
    assert (resolution.unknown, resolution.ambiguous) == (("C",), ("D",))
    reason = resolution.refusal() or ""
    assert "unknown SKU C" in reason and "SKU D is on more than one variant" in reason
    assert resolve(["A"], {"A": Variant(1, 2)}, {}).refusal() is None


def test_a_customer_made_from_the_bill_to_address() -> None:
    request = _request(customer_policy="create_if_missing", email="ada@example.com",
                       bill_to={**ADDRESS, "company": "Engines", "phone": "555"})  # fmt: skip
    assert new_customer(request) == {
        "email": "ada@example.com", "first_name": "Ada", "last_name": "Ada", "company": "Engines", "phone": "555",
    }  # fmt: skip
