"""Shipments, stock and webhooks: the writes the jobs make, and what BigCommerce does with them."""

from __future__ import annotations

import pytest

from bigcommerce_client import BigCommerceClient, UnprocessableError
from bigcommerce_client.models import AbsoluteAdjustment, ShipmentCreate, ShipmentItem
from bigcommerce_sandbox import SandboxStore, add_order, seed_catalog
from tests.conftest import StoreFactory


def _order(store: SandboxStore, *, addresses: int = 1, quantity: int = 2) -> int:
    seed_catalog(store, products=6)
    product = next(p for p in store.products.values() if len(p["variants"]) > 1)
    return add_order(
        store,
        lines=[(product, variant, quantity) for variant in product["variants"][:2]],
        addresses=addresses,
    )


def _ship(client: BigCommerceClient, store: SandboxStore, order_id: int, quantity: int | None = None) -> None:
    for address in store.shipping_addresses[order_id]:
        lines = [line for line in store.order_products[order_id] if line["order_address_id"] == address["id"]]
        client.create_shipment(
            order_id,
            ShipmentCreate(
                order_address_id=address["id"],
                items=[
                    ShipmentItem(order_product_id=line["id"], quantity=quantity or line["quantity"]) for line in lines
                ],
                tracking_number="1Z999",
                tracking_carrier="ups",
                comments="bcsync:shipment=WH-1",
            ),
        )


def test_a_partial_shipment_then_the_rest_turns_the_order_shipped(make_store: StoreFactory) -> None:
    store, client = make_store()
    order_id = _order(store)
    _ship(client, store, order_id, quantity=1)
    assert client.get_order(order_id).status_id == 3  # Partially Shipped
    _ship(client, store, order_id, quantity=1)
    order = client.get_order(order_id)
    assert order.status_id == 2 and order.items_shipped == order.items_total
    shipments = client.list_shipments(order_id)
    assert len(shipments) == 2 and all(s.comments == "bcsync:shipment=WH-1" for s in shipments)


def test_shipping_more_than_is_left_is_refused_with_the_line_named(make_store: StoreFactory) -> None:
    store, client = make_store()
    order_id = _order(store)
    line = store.order_products[order_id][0]
    with pytest.raises(UnprocessableError) as caught:
        client.create_shipment(
            order_id,
            ShipmentCreate(
                order_address_id=line["order_address_id"],
                items=[ShipmentItem(order_product_id=line["id"], quantity=5)],
            ),
        )
    assert caught.value.errors["order_product_id"] == str(line["id"])
    assert store.shipments[order_id] == []


def test_an_unknown_tracking_carrier_is_refused(make_store: StoreFactory) -> None:
    store, client = make_store()
    order_id = _order(store)
    line = store.order_products[order_id][0]
    shipment = ShipmentCreate(
        order_address_id=line["order_address_id"],
        items=[ShipmentItem(order_product_id=line["id"], quantity=1)],
        tracking_carrier="pigeon-post",
    )
    with pytest.raises(UnprocessableError, match="tracking_carrier"):
        client.create_shipment(order_id, shipment)


def test_absolute_stock_is_set_per_location(make_store: StoreFactory) -> None:
    store, client = make_store()
    seed_catalog(store, products=3)
    product = next(p for p in store.products.values() if p["inventory_tracking"] == "variant")
    variant = product["variants"][0]
    client.set_inventory_absolute(
        [
            AbsoluteAdjustment(location_id=1, variant_id=variant["id"], quantity=7),
            AbsoluteAdjustment(location_id=2, variant_id=variant["id"], quantity=3),
        ],
        reason="bcsync",
    )
    levels = {
        level.location_id: level.available_to_sell
        for item in client.iter_inventory_items({"variant_id:in": variant["id"]})
        for level in item.locations
    }
    assert levels == {1: 7, 2: 3}


def test_a_variant_item_on_a_product_tracked_product_rejects_the_request_and_names_it(
    make_store: StoreFactory,
) -> None:
    store, client = make_store()
    seed_catalog(store, products=3)
    by_product = next(p for p in store.products.values() if p["inventory_tracking"] == "product")
    by_variant = next(p for p in store.products.values() if p["inventory_tracking"] == "variant")
    bad_variant = by_product["variants"][0]["id"]
    before = dict(store.inventory)
    with pytest.raises(UnprocessableError) as caught:
        client.set_inventory_absolute(
            [
                AbsoluteAdjustment(location_id=1, variant_id=by_variant["variants"][0]["id"], quantity=1),
                AbsoluteAdjustment(location_id=1, variant_id=bad_variant, quantity=1),
            ],
            reason="bcsync",
        )
    assert caught.value.errors["variant_id"] == str(bad_variant)
    assert store.inventory == before  # all or nothing


def test_more_than_2000_items_is_refused_before_any_call(make_store: StoreFactory) -> None:
    _, client = make_store()
    items = [AbsoluteAdjustment(location_id=1, variant_id=n, quantity=1) for n in range(2001)]
    with pytest.raises(ValueError, match="2000"):
        client.set_inventory_absolute(items, reason="bcsync")
    assert client.counter.total() == 0


def test_webhooks_are_created_listed_updated_and_deleted(make_store: StoreFactory) -> None:
    _, client = make_store()
    hook = client.create_hook(
        scope="store/order/created",
        destination="https://hooks.example.com/webhooks/abc123",
        headers={"X-Bcsync-Secret": "s"},
    )
    assert [h.id for h in client.list_hooks()] == [hook.id]
    assert client.update_hook(hook.id, is_active=False).is_active is False
    client.delete_hook(hook.id)
    assert client.list_hooks() == []


def test_order_status_can_be_set(make_store: StoreFactory) -> None:
    store, client = make_store()
    order_id = _order(store)
    assert client.update_order_status(order_id, 10).status == "Completed"
