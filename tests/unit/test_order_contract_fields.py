"""What order events carry for a warehouse from schema_version 3 - prices, customs data, options, shipping
cost, state codes, form fields, pickup details, payment status and channel - read from what BigCommerce
already returned, and never a new version of an order released before the upgrade."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bcsync.orders.mapping import CatalogLine, WarehouseOrder, build_warehouse_order
from bcsync.orders.subdivisions import state_code
from bcsync.store.settings import StoreSettings
from bigcommerce_client.models import Order

SETTINGS = StoreSettings(store_hash="abc123")
# The content hash of `_order()` as the release before schema_version 3 computed it: the order a warehouse
# already has must keep its version when the new fields appear.
HASH_BEFORE_VERSION_3 = "ae437043c9eda272c3590fa30f92c4db"


def _line(line_id: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": line_id, "order_id": 5, "product_id": 77, "variant_id": 701, "order_address_id": 9, "name": "T-Shirt",
        "sku": "TEE-L", "type": "physical", "quantity": 3, "quantity_refunded": 1,
        "base_price": "20.0000", "price_ex_tax": "20.0000", "price_inc_tax": "21.6500",
        "product_options": [
            {"id": 45, "option_id": 18, "display_name": "Size", "display_value": "L", "value": "69",
             "name": "Apparel sizes", "type": "Multiple choice"},
            {"id": 46, "option_id": 3, "display_name": "Color", "display_value": "Blue", "value": "112",
             "name": "Colors", "type": "Swatch"},
        ],
    }  # fmt: skip
    body.update(changes)
    return body


def _order(**changes: Any) -> Order:
    shipping = [{
        "id": 9, "first_name": "Ana", "city": "Austin", "state": "Texas", "country": "United States",
        "country_iso2": "US", "shipping_method": "Flat Rate", "cost_ex_tax": 7.39, "cost_inc_tax": 8.0,
        "form_fields": [{"name": "Gate code", "value": "4411"}], "line_items": [_line(1)],
    }]  # fmt: skip
    body: dict[str, Any] = {
        "id": 5, "status_id": 11, "customer_message": "ring twice", "channel_id": 1, "payment_status": "captured",
        "shipping_cost_ex_tax": "7.3900", "shipping_cost_inc_tax": "8.0000",
        "billing_address": {"first_name": "Ana", "state": "Ontario", "country_iso2": "CA", "form_fields": []},
        "consignments": {"shipping": shipping, "pickups": [], "downloads": []},
    }  # fmt: skip
    body.update(changes)
    return Order.model_validate(body)


def _build(order: Order) -> WarehouseOrder:
    built = build_warehouse_order(order, store_hash="abc123", settings=SETTINGS)
    assert isinstance(built, WarehouseOrder)
    return built


def test_a_line_carries_its_unit_price_declared_value_and_structured_options() -> None:
    (line,) = _build(_order()).lines()
    assert (line.unit_price_ex_tax, line.unit_price_inc_tax) == (Decimal("20.0000"), Decimal("21.6500"))
    assert line.declared_value == Decimal("40")  # the 2 units left to ship (3 ordered, 1 refunded), tax excluded
    assert [(o.name, o.value, o.option_id) for o in line.options] == [("Size", "L", 18), ("Color", "Blue", 3)]
    assert line.name == "T-Shirt - Size: L, Color: Blue"  # as before


def test_a_line_without_a_readable_price_has_none_rather_than_a_wrong_one() -> None:
    (line,) = _build(
        _order(consignments={"shipping": [{"id": 9, "line_items": [_line(1, price_ex_tax="n/a")]}]})
    ).lines()
    assert (line.unit_price_ex_tax, line.declared_value) == (None, None)


def test_customs_data_comes_from_the_catalog_product_sync_holds() -> None:
    built = _build(_order()).with_catalog({"TEE-L": CatalogLine(hs_code="6109.10", country_of_origin="PT")})
    (line,) = built.lines()
    assert (line.sku_in_catalog, line.hs_code, line.country_of_origin) == (True, "6109.10", "PT")
    (unknown,) = _build(_order()).with_catalog({}).lines()
    assert (unknown.sku_in_catalog, unknown.hs_code, unknown.country_of_origin) == (False, None, None)


def test_the_shipment_carries_its_cost_form_fields_and_state_code_and_the_order_its_payment_and_channel() -> None:
    built = _build(_order())
    (shipment,) = built.shipments
    assert (shipment.ship_to["state"], shipment.ship_to["state_code"]) == ("Texas", "TX")
    assert built.billing_address["state_code"] == "ON"
    assert [(f.name, f.value) for f in shipment.form_fields] == [("Gate code", "4411")]
    numbered = _order(consignments={"shipping": [{"id": 9, "line_items": [_line(1)],
                                                  "form_fields": [{"name": "Floor", "value": 5},
                                                                  {"name": "Drop-off", "value": ["porch", "garage"]}]}]})  # fmt: skip
    fields = _build(numbered).shipments[0].model_dump_json(include={"form_fields"})
    assert fields == '{"form_fields":[{"name":"Floor","value":5},{"name":"Drop-off","value":["porch","garage"]}]}'
    assert (shipment.shipping_cost_ex_tax, shipment.shipping_cost_inc_tax) == (Decimal("7.39"), Decimal("8.0"))
    assert (built.shipping_cost_ex_tax, built.shipping_cost_inc_tax) == (Decimal("7.39"), Decimal("8"))
    assert (built.payment_status, built.channel_id) == ("captured", 1)


def test_a_pickup_carries_its_location_method_and_instructions() -> None:
    pickup = {
        "id": 99, "pickup_method_id": 1, "pickup_method_display_name": "Pick Up",
        "collection_instructions": "Bring your ID", "collection_time_description": "9am - 6pm",
        "location": {"id": 1, "name": "Location 1", "code": "LOCATION-1", "address_line_1": "123 Main Street",
                     "city": "Austin", "state": "Texas", "postal_code": "78726", "country_alpha2": "US"},
        "line_items": [_line(1)],
    }  # fmt: skip
    (shipment,) = _build(_order(consignments={"shipping": [], "pickups": [pickup], "downloads": []})).shipments
    assert shipment.pickup and shipment.pickup_location is not None
    assert (shipment.pickup_location.code, shipment.pickup_location.state_code) == ("LOCATION-1", "TX")
    assert (shipment.pickup_method_id, shipment.pickup_method_name) == (1, "Pick Up")
    assert (shipment.collection_instructions, shipment.collection_time_description) == ("Bring your ID", "9am - 6pm")


def test_none_of_it_makes_a_new_version_of_an_order_released_before() -> None:
    assert _build(_order()).content_hash() == HASH_BEFORE_VERSION_3
    changed = _order(consignments={"shipping": [{**_order().model_dump(by_alias=True)["consignments"]["shipping"][0],
                                                 "form_fields": []}], "pickups": [], "downloads": []},
                     payment_status="refunded", channel_id=2)  # fmt: skip
    assert _build(changed).content_hash() == HASH_BEFORE_VERSION_3


@pytest.mark.parametrize(
    ("country", "state", "code"),
    [
        ("US", "Texas", "TX"), ("US", "tx", "TX"), ("US", " new  york ", "NY"), ("US", "District of Columbia", "DC"),
        ("CA", "Québec", "QC"), ("CA", "Ontario", "ON"), ("AU", "New South Wales", "NSW"), ("AU", "WA", "WA"),
        ("AU", "Northern Territory", "NT"), ("US", "Ontario", ""), ("DE", "Bayern", ""), ("US", "", ""),
    ],
)  # fmt: skip
def test_a_state_code_is_derived_for_us_canada_and_australia_only(country: str, state: str, code: str) -> None:
    assert state_code(country, state) == code
