"""The v3 catalog: products (with their filters, sorts and includes), brands and categories."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .routing import ApiError, Request, Route, id_set, v3_page
from .store import parse_when


def list_products(request: Request) -> tuple[int, Any]:
    store = request.store
    products = list(store.products.values())
    ids = id_set(request, "id:in")
    if ids is not None:
        products = [product for product in products if product["id"] in ids]
    id_bounds: dict[str, Callable[[int, int], bool]] = {
        "id:greater": int.__gt__,
        "id:min": int.__ge__,
        "id:max": int.__le__,
        "id:less": int.__lt__,
    }
    for name, keep in id_bounds.items():
        bound_id = request.arg(name)
        if bound_id is not None:
            products = [product for product in products if keep(product["id"], int(bound_id))]
    for name, sign in (("date_modified:min", 1), ("date_modified:max", -1)):
        raw = request.arg(name)
        if raw:
            bound = parse_when(raw)
            products = [p for p in products if sign * (parse_when(p["date_modified"]) - bound) >= 0]
    visible = request.arg("is_visible")
    if visible is not None:
        products = [product for product in products if product["is_visible"] == (visible in {"true", "1"})]
    sort = request.arg("sort", "id") or "id"
    if sort not in {"id", "name", "date_modified"}:
        raise ApiError(422, f"The sort '{sort}' is not supported here.", {"sort": "unsupported"})
    products.sort(
        key=lambda p: (parse_when(p["date_modified"]) if sort == "date_modified" else p[sort], p["id"]),
        reverse=request.arg("direction") == "desc",
    )
    include = set((request.arg("include") or "").split(","))
    status, body = v3_page(request, products)
    body["data"] = [store.product_json(product, include) for product in body["data"]]
    return status, body


def get_product(request: Request) -> tuple[int, Any]:
    product = request.store.products.get(request.id())
    if product is None:
        raise ApiError(404, "The requested product was not found.")
    include = set((request.arg("include") or "").split(","))
    return 200, {"data": request.store.product_json(product, include), "meta": {}}


def list_brands(request: Request) -> tuple[int, Any]:
    return v3_page(request, [request.store.brands[key] for key in sorted(request.store.brands)])


def list_categories(request: Request) -> tuple[int, Any]:
    return v3_page(request, [request.store.categories[key] for key in sorted(request.store.categories)])


# --- the route table (server.py serves it) ---
_ID = r"(?P<id>\d+)"
ROUTES: list[Route] = [
    (method, re.compile(f"^{path}$"), scope, handler)
    for method, path, scope, handler in [
        ("GET", "/v3/catalog/products", "store_v2_products_read_only", list_products),
        ("GET", f"/v3/catalog/products/{_ID}", "store_v2_products_read_only", get_product),
        ("GET", "/v3/catalog/brands", "store_v2_products_read_only", list_brands),
        ("GET", "/v3/catalog/trees/categories", "store_v2_products_read_only", list_categories),
    ]
]
