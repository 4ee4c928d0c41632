"""v3 inventory and locations: the absolute adjustment (all or nothing), the items' levels per location,
the locations.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from .routing import ApiError, Request, Route, id_set, v3_page

MAX_ADJUSTMENT_ITEMS = 2000


def absolute_adjustment(request: Request) -> tuple[int, Any]:
    """All or nothing, as on BigCommerce: one bad item rejects the request and is named."""
    store = request.store
    body = request.body if isinstance(request.body, dict) else {}
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise ApiError(422, "The field 'items' is required.")
    if len(items) > MAX_ADJUSTMENT_ITEMS:
        raise ApiError(422, f"Too many items: the limit is {MAX_ADJUSTMENT_ITEMS}.")
    writes: list[tuple[tuple[int, str, int], int, int]] = []  # (inventory key, quantity, product id)
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ApiError(422, "Invalid item", {f"items.{index}": "must be an object"})
        location_id, quantity = item.get("location_id"), item.get("quantity")
        if location_id not in store.locations:
            raise ApiError(
                422,
                f"[Location with id {location_id} does not exist]",
                {f"items.{index}.location_id": "unknown"},
            )
        if not isinstance(quantity, int) or quantity < 0:
            raise ApiError(422, "Invalid quantity", {f"items.{index}.quantity": "must be a whole number, 0 or more"})
        keys = [name for name in ("variant_id", "product_id", "sku") if name in item]
        if len(keys) != 1:
            raise ApiError(422, "Invalid item", {f"items.{index}": "name exactly one of variant_id, product_id, sku"})
        found = None
        if "variant_id" in item:
            found = store.variant_by_id(item["variant_id"])
            label = f"variant_id {item['variant_id']}"
        elif "sku" in item:
            found = store.variant_by_sku(str(item["sku"]))
            label = f"sku {item['sku']}"
        else:
            product = store.products.get(item["product_id"])
            found = (product, product["variants"][0]) if product else None
            label = f"product_id {item['product_id']}"
        if found is None:
            raise ApiError(422, f"[Item with {label} does not exist]", {f"items.{index}": "not found"})
        product, variant = found
        tracking = product["inventory_tracking"]
        if tracking == "none":
            raise ApiError(422, f"[Item with {label} has inventory tracking disabled]")
        if tracking == "product" and "product_id" not in item:
            raise ApiError(422, f"[Item with {label} is tracked by product, please update stock by product id]")
        if tracking == "variant" and "product_id" in item:
            raise ApiError(422, f"[Item with {label} is tracked by variant, please update stock by variant id]")
        key = (
            (location_id, "product", product["id"])
            if tracking == "product"
            else (location_id, "variant", variant["id"])
        )
        writes.append((key, quantity, product["id"]))
    for key, quantity, product_id in writes:
        store.inventory[key] = quantity
        store.touch_product(product_id)
    return 200, {"transaction_id": str(uuid.uuid4())}


def list_inventory_items(request: Request) -> tuple[int, Any]:
    store = request.store
    variant_ids, product_ids = id_set(request, "variant_id:in"), id_set(request, "product_id:in")
    location_ids = id_set(request, "location_id:in") or set(store.locations)
    rows = []
    for product in sorted(store.products.values(), key=lambda p: p["id"]):
        if product["inventory_tracking"] == "none" or (product_ids and product["id"] not in product_ids):
            continue
        for variant in product["variants"]:
            if variant_ids and variant["id"] not in variant_ids:
                continue
            kind, key = (
                ("product", product["id"]) if product["inventory_tracking"] == "product" else ("variant", variant["id"])
            )
            rows.append(
                {
                    "identity": {
                        "sku": variant.get("sku") or "",
                        "variant_id": variant["id"],
                        "product_id": product["id"],
                        "sku_id": variant["sku_id"],
                    },
                    "locations": [
                        {
                            "location_id": location_id,
                            "location_code": store.locations[location_id]["code"],
                            "location_name": store.locations[location_id]["label"],
                            "available_to_sell": store.inventory.get((location_id, kind, key), 0),
                            "total_inventory_onhand": store.inventory.get((location_id, kind, key), 0),
                            "location_enabled": True,
                            "settings": {
                                "safety_stock": 0,
                                "is_in_stock": True,
                                "warning_level": 0,
                                "bin_picking_number": "",
                            },
                        }
                        for location_id in sorted(location_ids)
                        if location_id in store.locations
                    ],
                }
            )
    return v3_page(request, rows, max_limit=1000)


def list_locations(request: Request) -> tuple[int, Any]:
    return v3_page(request, [request.store.locations[key] for key in sorted(request.store.locations)])


# --- the route table (server.py serves it) ---
_ID = r"(?P<id>\d+)"
ROUTES: list[Route] = [
    (method, re.compile(f"^{path}$"), scope, handler)
    for method, path, scope, handler in [
        ("PUT", "/v3/inventory/adjustments/absolute", "store_inventory", absolute_adjustment),
        ("GET", "/v3/inventory/items", "store_inventory_read_only", list_inventory_items),
        ("GET", "/v3/inventory/locations", "store_inventory_read_only", list_locations),
    ]
]
