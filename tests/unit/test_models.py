from __future__ import annotations

from datetime import UTC, datetime

from bigcommerce_client.counter import endpoint_of
from bigcommerce_client.models import Order, Product, ShippingConsignment


def test_v2_dates_are_read_from_rfc_2822() -> None:
    order = Order.model_validate(
        {"id": 1, "status_id": 11, "date_modified": "Wed, 05 Dec 2018 20:16:55 +0000", "date_shipped": ""}
    )
    assert order.date_modified == datetime(2018, 12, 5, 20, 16, 55, tzinfo=UTC)
    assert order.date_shipped is None


def test_unknown_fields_are_kept_not_rejected() -> None:
    product = Product.model_validate({"id": 5, "name": "Mug", "brand_new_field": {"x": 1}})
    assert product.model_extra == {"brand_new_field": {"x": 1}}


def test_capped_consignment_is_recognised_by_its_warning() -> None:
    consignment = ShippingConsignment.model_validate({"id": 9, "line_items": [], "__warning__": {"message": "only 50"}})
    assert consignment.line_items_truncated
    assert not ShippingConsignment.model_validate({"id": 9}).line_items_truncated


def test_order_without_include_keeps_the_consignment_link() -> None:
    order = Order.model_validate(
        {"id": 1, "status_id": 11, "consignments": {"url": "u", "resource": "/orders/1/consignments"}}
    )
    assert order.embedded_consignments is None


def test_endpoints_are_counted_by_template() -> None:
    assert endpoint_of("get", "/v2/orders/123/products") == "GET /v2/orders/{id}/products"
    assert endpoint_of("PUT", "/v3/inventory/adjustments/absolute") == "PUT /v3/inventory/adjustments/absolute"
