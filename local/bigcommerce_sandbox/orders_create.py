"""Orders created through the API, customers and variants by SKU: what a store that fulfils is asked.

`POST /v2/orders` makes an order as BigCommerce does - its lines, addresses and status, with its
`external_order_id` kept and filterable - and refuses what BigCommerce refuses: no billing address,
no lines, a product or variant the store does not have, a quantity below 1, an unknown customer.
`/v3/customers` finds customers by e-mail and creates them (an e-mail is unique per store);
`GET /v3/catalog/variants?sku=` lists the variants holding a SKU.
"""

from __future__ import annotations

import random
import re
from typing import Any

from .orders import list_orders
from .routing import ApiError, Request, Route, v2_page, v3_page
from .seed import add_order
from .store import ORDER_STATUSES, SandboxStore, iso8601


def list_orders_by_external_id(request: Request) -> tuple[int, Any]:
    external_order_id = request.arg("external_order_id")
    if external_order_id is None:
        return list_orders(request)
    store = request.store
    rows = [
        order
        for order in sorted(store.orders.values(), key=lambda row: row["id"])
        if not order.get("is_deleted") and order.get("external_order_id") == external_order_id
    ]
    status, page = v2_page(request, rows)
    if page is None:
        return status, None
    return 200, [store.order_json(order["id"], line_items=False, consignments=False) for order in page]


def _lines(store: SandboxStore, products: Any) -> list[tuple[dict[str, Any], dict[str, Any], int, Any]]:
    if not isinstance(products, list) or not products:
        raise ApiError(400, "The field 'products' cannot be blank.")
    lines = []
    for index, line in enumerate(products):
        if not isinstance(line, dict):
            raise ApiError(400, f"The field 'products[{index}]' is invalid.")
        product = store.products.get(line.get("product_id"))  # type: ignore[arg-type]
        if product is None:
            raise ApiError(400, f"The product id {line.get('product_id')} does not exist.")
        variants = {variant["id"]: variant for variant in product["variants"]}
        variant_id = line.get("variant_id")
        if variant_id is None and len(variants) == 1:
            variant_id = next(iter(variants))
        if variant_id not in variants:
            raise ApiError(400, f"The variant id {variant_id} is not a variant of product {product['id']}.")
        quantity = line.get("quantity")
        if not isinstance(quantity, int) or quantity < 1:
            raise ApiError(400, "The field 'quantity' must be a positive integer.")
        lines.append((product, variants[variant_id], quantity, line.get("price_inc_tax")))
    return lines


_ADDRESS_FIELDS = ("first_name", "last_name", "company", "street_1", "street_2", "city", "state", "zip",
                   "country", "country_iso2", "phone", "email")  # fmt: skip


def create_order(request: Request) -> tuple[int, Any]:
    store, body = request.store, request.body
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be an object.")
    billing = body.get("billing_address")
    if not isinstance(billing, dict) or not billing:
        raise ApiError(400, "The field 'billing_address' cannot be blank.")
    if len(str(billing.get("zip") or "")) < 2:
        raise ApiError(400, "The billing address must include the ZIP code.")
    lines = _lines(store, body.get("products"))
    customer_id = body.get("customer_id", 0)
    if customer_id and customer_id not in customers_of(store):
        raise ApiError(400, f"The customer id {customer_id} does not exist.")
    status_id = body.get("status_id", 1)
    if status_id not in ORDER_STATUSES:
        raise ApiError(400, "The field 'status_id' is invalid.")
    shipping = body.get("shipping_addresses") or []
    with store.lock:
        order_id = add_order(
            store,
            status_id=status_id,
            lines=[(product, variant, quantity) for product, variant, quantity, _ in lines],
            addresses=max(len(shipping), 1),
            rng=random.Random(store.store_hash),
            customer_message=str(body.get("customer_message") or ""),
        )
        order = store.orders[order_id]
        order["customer_id"] = int(customer_id)
        order["external_order_id"] = body.get("external_order_id")
        order["external_source"] = body.get("external_source")
        order["staff_notes"] = str(body.get("staff_notes") or "")
        order["order_source"] = "external"
        order["payment_method"] = str(body.get("payment_method") or "Manual")
        order["billing_address"] = {**order["billing_address"], **_address(billing)}
        for address, given in zip(store.shipping_addresses[order_id], shipping, strict=False):
            address.update(_address(given))
            address["shipping_method"] = str(given.get("shipping_method") or "")
        for row, (_, _, _, price) in zip(store.order_products[order_id], lines, strict=True):
            if price is not None:
                row["base_price"] = row["price_ex_tax"] = row["price_inc_tax"] = f"{float(price):.4f}"
    return 200, store.order_json(order_id, line_items=False, consignments=False)


def _address(given: dict[str, Any]) -> dict[str, Any]:
    return {name: str(given[name]) for name in _ADDRESS_FIELDS if given.get(name) is not None}


# --- v3 customers ------------------------------------------------------------------------------


def customers_of(store: SandboxStore) -> dict[int, dict[str, Any]]:
    return store.customers


def list_customers(request: Request) -> tuple[int, Any]:
    rows = sorted(customers_of(request.store).values(), key=lambda row: row["id"])
    emails = request.arg("email:in")
    if emails is not None:
        wanted = {email.strip().lower() for email in emails.split(",") if email.strip()}
        rows = [row for row in rows if row["email"].lower() in wanted]
    return v3_page(request, rows)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def create_customers(request: Request) -> tuple[int, Any]:
    store, body = request.store, request.body
    if not isinstance(body, list) or not body:
        raise ApiError(422, "The request body must be a list of customers.")
    created = []
    with store.lock:
        taken = {row["email"].lower() for row in customers_of(store).values()}
        for index, given in enumerate(body):
            if not isinstance(given, dict):
                raise ApiError(422, f"Customer {index} is not an object.")
            missing = [name for name in ("email", "first_name", "last_name") if not given.get(name)]
            if missing:
                raise ApiError(422, f"Customer {index} lacks {', '.join(missing)}.", {f"{index}": "missing"})
            email = str(given["email"])
            if not _EMAIL.match(email):
                raise ApiError(422, f"The e-mail {email!r} is not valid.", {f"{index}.email": "invalid"})
            if email.lower() in taken:
                raise ApiError(422, f"The e-mail {email} is already in use.", {f"{index}.email": "duplicate"})
            taken.add(email.lower())
            customer_id = store.next_id()
            now = iso8601(store.clock.now())
            customer: dict[str, Any] = {
                "id": customer_id,
                "email": email,
                "first_name": str(given["first_name"]),
                "last_name": str(given["last_name"]),
                "company": str(given.get("company") or ""),
                "phone": str(given.get("phone") or ""),
                "notes": str(given.get("notes") or ""),
                "tax_exempt_category": "",
                "customer_group_id": 0,
                "date_created": now,
                "date_modified": now,
                "address_count": 0,
                "attribute_count": 0,
                "accepts_product_review_abandoned_cart_emails": False,
                "origin_channel_id": 1,
                "channel_ids": [1],
            }
            created.append(customer)
        for row in created:
            customers_of(store)[int(row["id"])] = row
    return 200, {"data": [dict(customer) for customer in created], "meta": {}}


# --- v3 catalog variants -----------------------------------------------------------------------


def list_variants(request: Request) -> tuple[int, Any]:
    store = request.store
    sku = request.arg("sku")
    rows = []
    for product in sorted(store.products.values(), key=lambda row: row["id"]):
        for variant in product["variants"]:
            if sku is None or variant.get("sku") == sku:
                # This spec's variant (unlike the products spec's) has no nullable prices: an unset one is left out.
                row = {key: value for key, value in variant.items() if value is not None}
                rows.append({**row, "inventory_level": store.inventory.get((1, "variant", variant["id"]), 0)})
    return v3_page(request, rows)


# server.py puts these before orders.py's routes: `GET /v2/orders` with `external_order_id` is answered here.
ROUTES: list[Route] = [
    (method, re.compile(f"^{path}$"), scope, handler)
    for method, path, scope, handler in [
        ("GET", "/v2/orders", "store_v2_orders_read_only", list_orders_by_external_id),
        ("POST", "/v2/orders", "store_v2_orders", create_order),
        ("GET", "/v3/customers", "store_v2_customers_read_only", list_customers),
        ("POST", "/v3/customers", "store_v2_customers", create_customers),
        ("GET", "/v3/catalog/variants", "store_v2_products_read_only", list_variants),
    ]
]
