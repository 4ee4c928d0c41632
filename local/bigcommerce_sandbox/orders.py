"""The store and its v2 orders: list and read orders, their lines, addresses and shipments, a status set
by `PUT`, and a shipment created with what BigCommerce checks beyond the schema.
"""

from __future__ import annotations

import re
from typing import Any

from .routing import ApiError, Request, Route, v2_page
from .store import ORDER_STATUSES, parse_when


def get_store(request: Request) -> tuple[int, Any]:
    store = request.store
    return 200, {
        "id": store.store_hash,
        "domain": f"{store.store_hash}.example.com",
        "secure_url": f"https://{store.store_hash}.example.com",
        "name": f"Sandbox store {store.store_hash}",
        "plan_level": "Standard" if store.quota <= 150 else "Pro",
        "status": "live",
        "timezone": {"name": "Etc/UTC", "raw_offset": 0},
        "currency": "USD",
        "weight_units": "LBS",
        "dimension_units": "Inches",
        "features": {"multi_location_inventory": True},
    }


_SORT = re.compile(r"^(id|customer_id|date_created|date_modified|status_id|channel_id|external_id)(:(asc|desc))?$")


def list_orders(request: Request) -> tuple[int, Any]:
    store = request.store
    orders = [order for order in store.orders.values() if not order.get("is_deleted")]
    status = request.arg("status_id")
    if status is not None:
        if not status.isdigit():
            raise ApiError(400, "The filter 'status_id' is invalid.")
        orders = [order for order in orders if order["status_id"] == int(status)]
    for name, key, compare in (
        ("min_date_modified", "date_modified", float.__ge__),
        ("max_date_modified", "date_modified", float.__le__),
        ("min_date_created", "date_created", float.__ge__),
        ("max_date_created", "date_created", float.__le__),
    ):
        raw = request.arg(name)
        if raw is not None:
            try:
                bound = parse_when(raw)
            except (ValueError, TypeError):
                raise ApiError(400, f"The filter '{name}' is not a valid date.") from None
            orders = [order for order in orders if compare(parse_when(order[key]), bound)]
    for name, sign in (("min_id", 1), ("max_id", -1)):
        bound_id = request.arg(name)
        if bound_id is not None:
            orders = [order for order in orders if sign * (order["id"] - int(bound_id)) >= 0]
    sort = request.arg("sort", "id") or "id"
    match = _SORT.match(sort)
    if match is None:
        raise ApiError(400, "The sort field is invalid.")
    field_name, descending = match.group(1), match.group(3) == "desc"

    def sort_key(order: dict[str, Any]) -> tuple[Any, int]:
        value = order.get(field_name)
        if field_name.startswith("date_"):
            value = parse_when(value) if value else 0.0
        return (value, order["id"])

    orders.sort(key=sort_key, reverse=descending)
    include = set((request.arg("include") or "").split(","))
    structured = request.arg("consignment_structure") == "object"
    if include & {"consignments", "consignments.line_items"} and not structured:
        raise ApiError(400, "Use consignment_structure=object with include=consignments.")
    status_code, page = v2_page(request, orders)
    if page is None:
        return status_code, None
    return 200, [
        store.order_json(
            order["id"],
            line_items="consignments.line_items" in include,
            consignments=bool(include & {"consignments", "consignments.line_items"}),
        )
        for order in page
    ]


def _order(request: Request) -> dict[str, Any]:
    order = request.store.orders.get(request.id())
    if order is None or order.get("is_deleted"):
        raise ApiError(404, "The requested resource was not found.")
    return order


def get_order(request: Request) -> tuple[int, Any]:
    order = _order(request)
    include = set((request.arg("include") or "").split(","))
    consignments = bool(include & {"consignments", "consignments.line_items"})
    return 200, request.store.order_json(
        order["id"], line_items="consignments.line_items" in include, consignments=consignments
    )


def update_order(request: Request) -> tuple[int, Any]:
    order = _order(request)
    body = request.body if isinstance(request.body, dict) else {}
    if "status_id" in body:
        status_id = body["status_id"]
        if not isinstance(status_id, int) or status_id not in ORDER_STATUSES:
            raise ApiError(400, "The field 'status_id' is invalid.")
        request.store.set_order_status(order["id"], status_id)
    return 200, request.store.order_json(order["id"], line_items=False, consignments=False)


def list_order_products(request: Request) -> tuple[int, Any]:
    order = _order(request)
    return v2_page(request, request.store.order_products[order["id"]])


def list_shipping_addresses(request: Request) -> tuple[int, Any]:
    order = _order(request)
    return v2_page(request, request.store.shipping_addresses[order["id"]])


def list_shipments(request: Request) -> tuple[int, Any]:
    order = _order(request)
    return v2_page(request, request.store.shipments[order["id"]])


def create_shipment(request: Request) -> tuple[int, Any]:
    """What BigCommerce enforces beyond the schema: ids that belong to the order, quantities
    not above what is left to ship, and a known tracking carrier."""
    order = _order(request)
    body = request.body
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be an object.")
    address_id = body.get("order_address_id")
    items = body.get("items")
    if not isinstance(address_id, int):
        raise ApiError(400, "The field 'order_address_id' is invalid.")
    if not isinstance(items, list) or not items:
        raise ApiError(400, "The field 'items' cannot be blank.")
    store = request.store
    addresses = {address["id"] for address in store.shipping_addresses[order["id"]]}
    if address_id not in addresses:
        raise ApiError(422, f"The order_address_id {address_id} does not belong to order {order['id']}.")
    lines = {line["id"]: line for line in store.order_products[order["id"]]}
    for item in items:
        line = lines.get(item.get("order_product_id")) if isinstance(item, dict) else None
        if line is None or line["order_address_id"] != address_id:
            raise ApiError(422, f"The order_product_id {item.get('order_product_id')} is not on this address.")
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or quantity < 1:
            raise ApiError(400, "The field 'quantity' is invalid.")
        if quantity > line["quantity"] - line["quantity_shipped"]:
            left = line["quantity"] - line["quantity_shipped"]
            raise ApiError(422, f"The order_product_id {line['id']} has only {left} left to ship.")
    carrier = body.get("tracking_carrier", "")
    if carrier and request.carriers is not None and carrier not in request.carriers:
        raise ApiError(422, f"The tracking_carrier '{carrier}' is not a valid value.")
    if len(str(body.get("tracking_number", ""))) > 50:
        raise ApiError(400, "The field 'tracking_number' is too long.")
    return 201, store.record_shipment(order["id"], body)


# --- the route table (server.py serves it) ---
_ID = r"(?P<id>\d+)"
ROUTES: list[Route] = [
    (method, re.compile(f"^{path}$"), scope, handler)
    for method, path, scope, handler in [
        ("GET", "/v2/store", None, get_store),
        ("GET", "/v2/orders", "store_v2_orders_read_only", list_orders),
        ("GET", f"/v2/orders/{_ID}", "store_v2_orders_read_only", get_order),
        ("PUT", f"/v2/orders/{_ID}", "store_v2_orders", update_order),
        ("GET", f"/v2/orders/{_ID}/products", "store_v2_orders_read_only", list_order_products),
        ("GET", f"/v2/orders/{_ID}/shipping_addresses", "store_v2_orders_read_only", list_shipping_addresses),
        ("GET", f"/v2/orders/{_ID}/shipments", "store_v2_orders_read_only", list_shipments),
        ("POST", f"/v2/orders/{_ID}/shipments", "store_v2_orders", create_shipment),
    ]
]
