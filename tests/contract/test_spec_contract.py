"""The client's requests and the sandbox's responses against BigCommerce's official specs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bigcommerce_client.customers import create_customer, find_customer
from bigcommerce_client.models import AbsoluteAdjustment, ShipmentCreate, ShipmentItem
from bigcommerce_client.orders_write import create_order, find_orders_by_external_id
from bigcommerce_client.refunds import RefundLine, create_refund, create_refund_quote, list_refunds, set_staff_notes
from bigcommerce_client.variants import variants_by_sku
from bigcommerce_sandbox import Exchange, Sandbox, seed_catalog, seed_orders
from bigcommerce_sandbox.contract import ERRATA, ERRATA_KEYS, ContractValidator
from bigcommerce_sandbox.server import ROUTES
from tests.conftest import StoreFactory

HEADERS = {"Accept": "application/json", "X-Auth-Token": "t"}


def exchange(
    method: str,
    api_path: str,
    *,
    query: dict[str, str] | None = None,
    body: Any = None,
    status: int | None = None,
    response: Any = None,
) -> Exchange:
    headers = dict(HEADERS)
    if body is not None:
        headers["Content-Type"] = "application/json"
    return Exchange(
        store_hash="abc123",
        method=method,
        api_path=api_path,
        query={key: [value] for key, value in (query or {}).items()},
        request_headers=headers,
        request_body=json.dumps(body).encode() if body is not None else b"",
        status=status,
        response_headers={"Content-Type": "application/json"} if response is not None else {},
        response_body=json.dumps(response).encode() if response is not None else b"",
    )


def test_every_route_of_the_sandbox_is_exercised_and_keeps_the_contract(
    make_store: StoreFactory, sandbox: Sandbox
) -> None:
    store, client = make_store()
    seed_catalog(store, products=12)
    order_ids = seed_orders(store, orders=4)
    order_id = order_ids[-1]
    line = store.order_products[order_id][0]
    client.get_store_info()
    list(client.iter_orders(modified_since=store_epoch()))
    client.get_order(order_id, include_line_items=True)
    client.update_order_status(order_id, 11)
    list(client.iter_order_products(order_id))
    client.list_shipping_addresses(order_id)
    client.create_shipment(
        order_id,
        ShipmentCreate(
            order_address_id=line["order_address_id"],
            items=[ShipmentItem(order_product_id=line["id"], quantity=1)],
            tracking_number="1Z",
            tracking_carrier="ups",
            tracking_link="https://track.example.com/1Z",
            shipping_method="Ground",
            comments="bcsync:WH-9",
        ),
    )
    shipment = client.list_shipments(order_id)[0]
    # read back: a shipment's PUT and DELETE (a merchant's or another app's edits, which fire their webhooks)
    client.request("PUT", f"/v2/orders/{order_id}/shipments/{shipment.id}", json={"tracking_number": "1Z2"})
    client.request("DELETE", f"/v2/orders/{order_id}/shipments/{shipment.id}")
    product = next(iter(store.products.values()))
    client.get("/v3/catalog/products/" + str(product["id"]), {"include": "variants"})
    list(client.iter_products())
    list(client.iter_brands())
    list(client.iter_categories())
    tracked = next(p for p in store.products.values() if p["inventory_tracking"] == "variant")
    client.set_inventory_absolute(
        [AbsoluteAdjustment(location_id=1, variant_id=tracked["variants"][0]["id"], quantity=4)],
        reason="contract",
    )
    list(client.iter_inventory_items())
    list(client.iter_locations())
    hook = client.create_hook(scope="store/order/updated", destination="https://example.com/h")
    client.get(f"/v3/hooks/{hook.id}")
    client.list_hooks()
    client.update_hook(hook.id, is_active=False)
    client.delete_hook(hook.id)
    # --- returns: staff notes and the payment actions (bigcommerce_client.refunds) ---
    set_staff_notes(client, order_id, "[bcsync return R-1] returned to the warehouse: 1 x SKU (resellable)")
    refund_line = RefundLine(item_id=line["id"], quantity=1, reason="[bcsync return R-1]")
    quote = create_refund_quote(client, order_id, [refund_line])
    create_refund(client, order_id, [refund_line], quote.refund_methods[0])
    assert [refund.total_amount for refund in list_refunds(client, order_id)] == [quote.total_refund_amount]
    # --- a store that fulfils: orders created through the API, customers, variants by SKU ---
    customer = create_customer(client, {"email": "ada@example.com", "first_name": "Ada", "last_name": "L"})
    assert find_customer(client, "ada@example.com") == customer
    variant = product["variants"][0]
    assert [v.id for v in variants_by_sku(client, variant["sku"])] == [variant["id"]]
    billing = {"first_name": "Ada", "last_name": "L", "street_1": "1 Main", "city": "Austin", "state": "TX",
               "zip": "78751", "country": "United States", "country_iso2": "US", "email": "ada@example.com"}  # fmt: skip
    created = create_order(client, {
        "customer_id": customer.id, "status_id": 11, "external_order_id": "REQ-1", "billing_address": billing,
        "shipping_addresses": [{**billing, "shipping_method": "Ground"}],
        "products": [{"product_id": product["id"], "variant_id": variant["id"], "quantity": 1, "price_inc_tax": 5.0,
                      "price_ex_tax": 5.0}],
    })  # fmt: skip
    assert [order.id for order in find_orders_by_external_id(client, "REQ-1")] == [created.id]

    exercised = {(e.method, pattern.pattern) for e in sandbox.recorder.exchanges for m, pattern, _, _ in ROUTES  # type: ignore[attr-defined]
                 if m == e.method and pattern.match(e.api_path)}  # fmt: skip
    assert exercised == {(method, pattern.pattern) for method, pattern, _, _ in ROUTES}


def store_epoch() -> Any:
    from datetime import UTC, datetime

    return datetime(2000, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("case", "bad"),
    [
        ("unknown body field", exchange("POST", "/v2/orders/5/shipments", body={"order_address_id": 1, "items": [{"order_product_id": 1, "quantity": 1}], "tracking_no": "x"})),
        ("unknown nested field", exchange("POST", "/v2/orders/5/shipments", body={"order_address_id": 1, "items": [{"order_product_id": 1, "qty": 1}]})),
        ("wrong type", exchange("POST", "/v2/orders/5/shipments", body={"order_address_id": "first", "items": [{"order_product_id": 1, "quantity": 1}]})),
        ("wrong path", exchange("GET", "/v2/order/5")),
        ("wrong method", exchange("DELETE", "/v3/inventory/adjustments/absolute")),
        ("unknown query parameter", exchange("GET", "/v2/orders", query={"modified_since": "2024-01-01"})),
        ("wrong query type", exchange("GET", "/v2/orders", query={"status_id": "paid"})),
        ("wrong enum", exchange("GET", "/v2/orders", query={"sort": "total:asc"})),
        ("stock item with a negative field type", exchange("PUT", "/v3/inventory/adjustments/absolute", body={"reason": "r", "items": [{"location_id": "one", "variant_id": 1, "quantity": 1}]})),
        ("missing token", Exchange("abc123", "GET", "/v2/orders", {}, {"Accept": "application/json"}, b"", None)),
    ],
)  # fmt: skip
def test_a_wrong_request_fails_the_contract(contract_validator: ContractValidator, case: str, bad: Exchange) -> None:
    assert contract_validator.check_request(bad), f"{case} was not caught"


def test_a_right_request_passes(contract_validator: ContractValidator) -> None:
    good = exchange(
        "POST",
        "/v2/orders/5/shipments",
        body={"order_address_id": 1, "items": [{"order_product_id": 1, "quantity": 1}]},
    )
    assert contract_validator.check_request(good) == []


def test_a_wrong_response_fails_the_contract(contract_validator: ContractValidator) -> None:
    wrong = exchange(
        "GET",
        "/v3/catalog/products",
        status=200,
        response={"data": [{"id": "seven", "name": "Mug"}], "meta": {"pagination": {"total": 1}}},
    )
    assert contract_validator.check_response(wrong)


# --- the errata, each shown to do what it says ---------------------------------------------------


def test_the_errata_are_one_documented_list() -> None:
    assert len(ERRATA_KEYS) == len(ERRATA)
    assert all(len(erratum.reason) > 40 for erratum in ERRATA)


def test_erratum_orders_sort_direction(contract_validator: ContractValidator) -> None:
    assert contract_validator.check_request(exchange("GET", "/v2/orders", query={"sort": "date_modified:asc"})) == []
    assert contract_validator.check_request(exchange("GET", "/v2/orders", query={"sort": "date_modified:sideways"}))


def test_erratum_shipment_required_in_prose(contract_validator: ContractValidator) -> None:
    problems = contract_validator.check_request(
        exchange("POST", "/v2/orders/5/shipments", body={"tracking_number": "1Z"})
    )
    assert any("order_address_id" in problem for problem in problems)
    assert any("'items'" in problem for problem in problems)


def test_erratum_v2_empty_page_204(contract_validator: ContractValidator) -> None:
    assert contract_validator.check_response(exchange("GET", "/v2/orders", status=204)) == []


def test_erratum_undocumented_error_statuses(contract_validator: ContractValidator) -> None:
    assert (
        contract_validator.check_response(
            exchange("GET", "/v2/orders", status=429, response=[{"status": 429, "message": "slow down"}])
        )
        == []
    )
    assert contract_validator.check_response(
        exchange("GET", "/v3/catalog/products", status=503, response={"oops": True})
    )


def test_erratum_consignment_warning_on_a_capped_shipping_consignment_validates(
    contract_validator: ContractValidator,
) -> None:
    order = {
        "id": 1,
        "status_id": 11,
        "consignments": {"shipping": [{"id": 2, "line_items": [], "__warning__": {"message": "only 50"}}]},
    }
    assert contract_validator.check_response(exchange("GET", "/v2/orders", status=200, response=[order])) == []


def test_erratum_consignment_oneof_ambiguity(contract_validator: ContractValidator) -> None:
    link = {
        "url": "https://api.bigcommerce.com/stores/{store_hash}/v2/orders/1/consignments",
        "resource": "/orders/1/consignments",
    }
    embedded = {"shipping": [], "pickups": [], "downloads": [], "email": {"gift_certificates": []}}
    for consignments in (link, embedded):
        order = {"id": 1, "status_id": 11, "consignments": consignments}
        assert contract_validator.check_response(exchange("GET", "/v2/orders/1", status=200, response=order)) == []
    half = {"id": 1, "status_id": 11, "consignments": {"resource": "/orders/1/consignments"}}
    assert contract_validator.check_response(exchange("GET", "/v2/orders/1", status=200, response=half))


def test_erratum_empty_hook_list(contract_validator: ContractValidator) -> None:
    empty = {
        "data": [],
        "meta": {"pagination": {"total": 0, "count": 0, "per_page": 50, "current_page": 1, "total_pages": 1}},
    }
    assert contract_validator.check_response(exchange("GET", "/v3/hooks", status=200, response=empty)) == []


def test_store_information_is_held_to_its_own_spec(contract_validator: ContractValidator) -> None:
    """`GET /v2/store` has a spec of its own now: a wrong type is caught there, not by a list of fields."""
    assert contract_validator.check_request(exchange("GET", "/v2/store")) == []
    assert contract_validator.check_response(exchange("GET", "/v2/store", status=200, response={"id": 7}))


def test_erratum_content_type_on_bodiless_get(contract_validator: ContractValidator) -> None:
    # A GET the v2 spec gives a required Content-Type passes without one; a POST with a body does not.
    assert contract_validator.check_request(exchange("GET", "/v2/orders/5/products")) == []
    post = exchange("POST", "/v2/orders", body={"billing_address": {"zip": "78751"}, "products": []})
    del post.request_headers["Content-Type"]
    assert "the required Content-Type header is missing" in contract_validator.check_request(post)
