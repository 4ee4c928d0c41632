"""What read back needs of the sandbox: shipments a merchant makes, edits and deletes (in the control panel or
through the API), stock a merchant sets, and the webhooks BigCommerce fires for each.

BigCommerce fires `store/shipment/created|updated|deleted` (`data: {type: "shipment", id, orderId}`) for every
shipment, whoever made it - bcsync's own `POST` too, which is what lets a test show it is never echoed - and
`store/sku/inventory/updated` / `store/product/inventory/updated` (`data.inventory: {product_id, method, value,
variant_id}`) for every level set, bcsync's own pushes included (docs/webhooks/callbacks in the API specs).

server.py serves `ROUTES` before everyone else's: the shipment `POST` (orders.py) and the absolute adjustment
(inventory.py) keep their checks and add the webhooks; `PUT` and `DELETE` of one shipment are new.
"""

from __future__ import annotations

import re
from typing import Any

from .inventory import absolute_adjustment
from .orders import create_shipment
from .routing import ApiError, Request, Route
from .store import PARTIALLY_SHIPPED, SandboxStore

AWAITING_FULFILLMENT = 11
SHIPMENT_FIELDS = ("tracking_number", "tracking_carrier", "tracking_link", "shipping_method", "comments")


def emit_shipment(store: SandboxStore, scope: str, order_id: int, shipment_id: int) -> None:
    store.emit(f"store/shipment/{scope}", "shipment", shipment_id, orderId=order_id)


def emit_stock(store: SandboxStore, kind: str, item_id: int, quantity: int) -> None:
    """The hook BigCommerce fires when an item's level is set (`kind`: variant or product)."""
    if kind == "variant":
        found = store.variant_by_id(item_id)
        if found is None:
            return
        product, variant = found
        inventory = {"product_id": product["id"], "method": "absolute", "value": quantity, "variant_id": variant["id"]}
        store.emit("store/sku/inventory/updated", "sku", variant["sku_id"], inventory=inventory)
    else:
        inventory = {"product_id": item_id, "method": "absolute", "value": quantity}
        store.emit("store/product/inventory/updated", "product", item_id, inventory=inventory)


# --- what a merchant does by hand ---------------------------------------------------------------------


def merchant_ship(
    store: SandboxStore,
    order_id: int,
    items: dict[int, int] | None = None,
    *,
    tracking_number: str = "1Z999AA10123456784",
    tracking_carrier: str = "ups",
    shipping_method: str = "Ground",
    tracking_link: str = "",
) -> dict[str, Any]:
    """A shipment made in the control panel: `items` (order_product_id -> quantity), or everything left to
    ship on the order's first address. Fires `store/shipment/created`."""
    with store.lock:
        lines = store.order_products[order_id]
        if items is None:
            address_id = store.shipping_addresses[order_id][0]["id"]
            items = {
                line["id"]: line["quantity"] - line["quantity_shipped"]
                for line in lines
                if line["order_address_id"] == address_id
                and line["type"] == "physical"
                and line["quantity"] > line["quantity_shipped"]
            }
        else:
            address_id = next(line["order_address_id"] for line in lines if line["id"] in items)
        body = {
            "order_address_id": address_id,
            "items": [{"order_product_id": opid, "quantity": quantity} for opid, quantity in items.items()],
            "tracking_number": tracking_number,
            "tracking_carrier": tracking_carrier,
            "shipping_method": shipping_method,
            "tracking_link": tracking_link,
        }
        shipment = store.record_shipment(order_id, body)
        emit_shipment(store, "created", order_id, shipment["id"])
        return shipment


def merchant_update_shipment(store: SandboxStore, order_id: int, shipment_id: int, **fields: Any) -> dict[str, Any]:
    """A shipment's tracking edited by hand: fires `store/shipment/updated`."""
    with store.lock:
        shipment = _shipment(store, order_id, shipment_id)
        shipment.update({name: value for name, value in fields.items() if name in SHIPMENT_FIELDS})
        store.touch_order(order_id)
        emit_shipment(store, "updated", order_id, shipment_id)
        return shipment


def merchant_delete_shipment(store: SandboxStore, order_id: int, shipment_id: int) -> None:
    """A shipment deleted by hand: its units are unshipped again (as BigCommerce counts them), the order back
    to Partially Shipped or Awaiting Fulfillment; fires `store/shipment/deleted`."""
    with store.lock:
        shipment = _shipment(store, order_id, shipment_id)
        store.shipments[order_id].remove(shipment)
        lines = {line["id"]: line for line in store.order_products[order_id]}
        order = store.orders[order_id]
        for item in shipment["items"]:
            lines[item["order_product_id"]]["quantity_shipped"] -= item["quantity"]
            order["items_shipped"] -= item["quantity"]
            for address in store.shipping_addresses[order_id]:
                if address["id"] == shipment["order_address_id"]:
                    address["items_shipped"] -= item["quantity"]
        store.set_order_status(order_id, PARTIALLY_SHIPPED if order["items_shipped"] else AWAITING_FULFILLMENT)
        emit_shipment(store, "deleted", order_id, shipment_id)


def merchant_set_stock(store: SandboxStore, *, variant_id: int, quantity: int, location_id: int = 1) -> None:
    """A level set by hand for a variant-tracked item: fires `store/sku/inventory/updated`."""
    with store.lock:
        found = store.variant_by_id(variant_id)
        assert found is not None, f"no variant {variant_id}"
        product, _ = found
        kind, item_id = (
            ("product", product["id"]) if product["inventory_tracking"] == "product" else ("variant", variant_id)
        )
        store.inventory[(location_id, kind, item_id)] = quantity
        store.touch_product(product["id"])
        emit_stock(store, kind, item_id, quantity)


def _shipment(store: SandboxStore, order_id: int, shipment_id: int) -> dict[str, Any]:
    shipment = next((s for s in store.shipments.get(order_id, []) if s["id"] == shipment_id), None)
    if shipment is None:
        raise ApiError(404, "The requested shipment was not found.")
    return shipment


# --- the routes ---------------------------------------------------------------------------------------


def create_and_fire(request: Request) -> tuple[int, Any]:
    status, shipment = create_shipment(request)
    emit_shipment(request.store, "created", int(shipment["order_id"]), int(shipment["id"]))
    return status, shipment


def update_shipment(request: Request) -> tuple[int, Any]:
    body = request.body if isinstance(request.body, dict) else None
    if body is None:
        raise ApiError(400, "The request body must be an object.")
    order_id = request.id("order")
    shipment = merchant_update_shipment(request.store, order_id, request.id("shipment"), **body)
    return 200, shipment


def delete_shipment(request: Request) -> tuple[int, Any]:
    merchant_delete_shipment(request.store, request.id("order"), request.id("shipment"))
    return 204, None


def adjust_and_fire(request: Request) -> tuple[int, Any]:
    status, answer = absolute_adjustment(request)
    store = request.store
    for item in request.body["items"]:
        if "variant_id" in item:
            found = store.variant_by_id(item["variant_id"])
            product = found[0] if found else None
            if product is not None and product["inventory_tracking"] == "variant":
                emit_stock(store, "variant", int(item["variant_id"]), int(item["quantity"]))
        elif "product_id" in item:
            emit_stock(store, "product", int(item["product_id"]), int(item["quantity"]))
    return status, answer


_SHIPMENT = r"/v2/orders/(?P<order>\d+)/shipments/(?P<shipment>\d+)"
ROUTES: list[Route] = [
    ("POST", re.compile(r"^/v2/orders/(?P<id>\d+)/shipments$"), "store_v2_orders", create_and_fire),
    ("PUT", re.compile(f"^{_SHIPMENT}$"), "store_v2_orders", update_shipment),
    ("DELETE", re.compile(f"^{_SHIPMENT}$"), "store_v2_orders", delete_shipment),
    ("PUT", re.compile("^/v3/inventory/adjustments/absolute$"), "store_inventory", adjust_and_fire),
]


__all__ = [
    "ROUTES",
    "merchant_delete_shipment",
    "merchant_set_stock",
    "merchant_ship",
    "merchant_update_shipment",
]
