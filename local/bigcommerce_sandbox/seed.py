"""Deterministic seed data: the catalog and orders that make a connector's life hard."""

from __future__ import annotations

import random
from typing import Any

from .store import ORDER_STATUSES, SandboxStore, _address, iso8601, rfc2822

COLORS = ("Red", "Blue", "Green", "Black")
SIZES = ("S", "M", "L", "XL")


def seed_catalog(store: SandboxStore, *, products: int = 40, seed: int = 7, variants_per_product: int = 4) -> None:
    """Products with and without variants, SKU-less items, hidden products, a bundle, and stock at two locations.

    Every 10th product is hidden, every 7th has a SKU-less variant, every 3rd has no options.
    """
    rng = random.Random(seed)
    with store.lock:
        _seed_taxonomy(store)
        for index in range(products):
            add_product(store, rng, index, variants=0 if index % 3 == 2 else variants_per_product)
        bundle_id = store.next_id()
        _put_product(
            store,
            bundle_id,
            name="Gift Bundle",
            sku="BUNDLE-GIFT",
            variants=[],
            tracking="product",
            hidden=False,
            rng=rng,
        )


def _seed_taxonomy(store: SandboxStore) -> None:
    """A second location, three brands and a category tree (the products point at them)."""
    if 2 not in store.locations:
        store.add_location(2, "WH-EAST", "East warehouse")
    for brand_id, name in enumerate(("Acme", "Globex", "Initech"), start=1):
        store.brands[brand_id] = {
            "id": brand_id,
            "name": name,
            "page_title": name,
            "meta_keywords": [],
            "meta_description": "",
            "search_keywords": "",
            "image_url": "",
            "custom_url": {"url": f"/{name.lower()}/", "is_customized": False},
        }
    tree = [
        (10, 0, "Apparel"),
        (11, 10, "Shirts"),
        (12, 11, "T-Shirts"),
        (20, 0, "Home"),
        (21, 20, "Kitchen"),
    ]
    for category_id, parent_id, name in tree:
        store.categories[category_id] = {
            "category_id": category_id,
            "parent_id": parent_id,
            "tree_id": 1,
            "name": name,
            "is_visible": True,
            "sort_order": 0,
            "url": {"path": f"/{name.lower()}/", "is_customized": False},
        }


def seed_variants(store: SandboxStore, *, products: int, variants_per_product: int, seed: int = 3) -> list[int]:
    """Plain visible products whose every variant has a SKU and variant-level stock (stock at scale).
    Returns the product ids."""
    rng = random.Random(seed)
    with store.lock:
        _seed_taxonomy(store)
        return [add_product(store, rng, 0, variants=variants_per_product) for _ in range(products)]


def add_product(store: SandboxStore, rng: random.Random, index: int, *, variants: int) -> int:
    product_id = store.next_id()
    hidden = index % 10 == 9
    variant_rows: list[dict[str, Any]] = []
    if variants:
        for position in range(variants):
            variant_id = store.next_id()
            color, size = COLORS[position % len(COLORS)], SIZES[(position // len(COLORS)) % len(SIZES)]
            sku = "" if index % 7 == 6 and position == 0 else f"SKU-{product_id}-{position + 1}"
            variant_rows.append(_variant(product_id, variant_id, sku, rng, color=color, size=size))
    _put_product(
        store,
        product_id,
        name=f"Product {index + 1}",
        sku=f"P-{product_id}",
        variants=variant_rows,
        tracking="variant" if variants else "product",
        hidden=hidden,
        rng=rng,
    )
    return product_id


def _variant(
    product_id: int, variant_id: int, sku: str, rng: random.Random, *, color: str, size: str
) -> dict[str, Any]:
    return {
        "id": variant_id,
        "product_id": product_id,
        "sku": sku,
        "sku_id": variant_id + 500_000,
        "price": round(rng.uniform(5, 90), 2),
        "calculated_price": 10.0,
        "sale_price": None,
        "retail_price": 99.0,
        "map_price": None,
        "weight": 0.5,
        "calculated_weight": 0.5,
        "width": 10.0,
        "height": 2.0,
        "depth": 30.0,
        "is_free_shipping": False,
        "fixed_cost_shipping_price": None,
        "purchasing_disabled": False,
        "purchasing_disabled_message": "",
        "image_url": "",
        "cost_price": 4.0,
        "upc": f"0{variant_id:011d}",
        "mpn": f"MPN-{variant_id}",
        "gtin": "",
        "inventory_level": 0,
        "inventory_warning_level": 0,
        "bin_picking_number": f"A-{variant_id % 97}",
        "option_values": [
            {"id": 1, "label": size, "option_id": 1, "option_display_name": "Size"},
            {"id": 2, "label": color, "option_id": 2, "option_display_name": "Color"},
        ],
    }


def _put_product(
    store: SandboxStore,
    product_id: int,
    *,
    name: str,
    sku: str,
    variants: list[dict[str, Any]],
    tracking: str,
    hidden: bool,
    rng: random.Random,
) -> None:
    now = store.clock.now()
    base_variant = _variant(product_id, store.next_id(), sku, rng, color="", size="")
    base_variant["option_values"] = []
    store.products[product_id] = {
        "id": product_id,
        "name": name,
        "type": "physical",
        "sku": sku,
        "description": "",
        "weight": 0.5,
        "width": 10.0,
        "depth": 30.0,
        "height": 2.0,
        "price": 19.99,
        "cost_price": 4.0,
        "retail_price": 29.99,
        "sale_price": 0.0,
        "map_price": 0.0,
        "tax_class_id": 0,
        "product_tax_code": "",
        "categories": [12] if product_id % 2 else [21],
        "brand_id": 1 + product_id % 3,
        "inventory_level": 0,
        "inventory_warning_level": 0,
        "inventory_tracking": tracking,
        "is_free_shipping": False,
        "is_visible": not hidden,
        "is_featured": False,
        "upc": "",
        "mpn": "",
        "gtin": "",
        "bin_picking_number": "",
        "availability": "available",
        "condition": "New",
        "date_created": iso8601(now),
        "date_modified": iso8601(now),
        "base_variant_id": base_variant["id"],
        "variants": variants or [base_variant],
        "images": [
            {
                "id": product_id * 10 + n,
                "product_id": product_id,
                "is_thumbnail": n == 0,
                "sort_order": n,
                "description": "",
                "image_file": f"p{product_id}_{n}.jpg",
                "url_zoom": f"https://cdn.example.com/p{product_id}_{n}_zoom.jpg",
                "url_standard": f"https://cdn.example.com/p{product_id}_{n}.jpg",
                "url_thumbnail": f"https://cdn.example.com/p{product_id}_{n}_thumb.jpg",
                "url_tiny": f"https://cdn.example.com/p{product_id}_{n}_tiny.jpg",
                "date_modified": iso8601(now),
            }
            for n in range(2)
        ],
        "custom_fields": [
            {"id": product_id * 10, "name": "hs_code", "value": "6109.10"},
            {"id": product_id * 10 + 1, "name": "country_of_origin", "value": "PT"},
        ],
    }
    for variant in variants or [base_variant]:
        kind, key = ("variant", variant["id"]) if tracking == "variant" else ("product", product_id)
        store.inventory[(1, kind, key)] = rng.randint(0, 40)
        store.inventory[(2, kind, key)] = rng.randint(0, 20)


def add_order(
    store: SandboxStore,
    *,
    status_id: int = 11,
    lines: list[tuple[dict[str, Any], dict[str, Any], int]] | None = None,
    addresses: int = 1,
    pickup: bool = False,
    digital: bool = False,
    rng: random.Random | None = None,
    at: float | None = None,
    gift_message: str | None = None,
    customer_message: str | None = None,
    form_fields: list[dict[str, Any]] | None = None,
) -> int:
    """Add an order; `lines` are (product, variant, quantity), spread over `addresses`.
    A gift message goes with gift wrapping on the first line; `form_fields` (the store's own address form
    fields, e.g. a gate code) go on every shipping address."""
    rng = rng or random.Random(store.next_id())
    with store.lock:
        order_id = store.next_id()
        now = store.clock.now() if at is None else at
        billing = _address(rng, order_id)
        address_rows = []
        for n in range(addresses):
            address_id = store.next_id()
            address_rows.append(
                {
                    "id": address_id,
                    "order_id": order_id,
                    **_address(rng, order_id * 10 + n),
                    "form_fields": list(form_fields or []),
                    "items_total": 0,
                    "items_shipped": 0,
                    "shipping_method": "Pickup" if pickup else "Flat Rate",
                    "base_cost": "5.0000",
                    "cost_ex_tax": "5.0000",
                    "cost_inc_tax": "5.0000",
                    "cost_tax": "0.0000",
                    "cost_tax_class_id": 2,
                    "base_handling_cost": "0.0000",
                    "handling_cost_ex_tax": "0.0000",
                    "handling_cost_inc_tax": "0.0000",
                    "handling_cost_tax": "0.0000",
                    "handling_cost_tax_class_id": 2,
                    "shipping_zone_id": 1,
                    "shipping_zone_name": "United States",
                    "shipping_quotes": {
                        "url": f"https://api.bigcommerce.com/stores/{store.store_hash}/v2/orders/{order_id}/shipping_addresses/{address_id}/shipping_quotes",
                        "resource": f"/orders/{order_id}/shipping_addresses/{address_id}/shipping_quotes",
                    },
                }
            )
        line_rows = []
        for n, (product, variant, quantity) in enumerate(lines or []):
            address = address_rows[n % len(address_rows)] if address_rows and not digital else None
            line_rows.append(
                {
                    "id": store.next_id(),
                    "order_id": order_id,
                    "product_id": product["id"],
                    "variant_id": variant["id"],
                    "order_address_id": address["id"] if address else 0,
                    "name": product["name"],
                    "sku": variant.get("sku") or "",
                    "type": "digital" if digital else "physical",
                    "base_price": "19.9900",
                    "price_ex_tax": "19.9900",
                    "price_inc_tax": "19.9900",
                    "quantity": quantity,
                    "quantity_shipped": 0,
                    "quantity_refunded": 0,
                    "upc": variant.get("upc") or "",
                    "bin_picking_number": variant.get("bin_picking_number") or "",
                    "parent_order_product_id": None,
                    "wrapping_name": "Gift box" if gift_message and n == 0 else "",
                    "wrapping_message": gift_message if gift_message and n == 0 else "",
                    "product_options": [
                        {
                            "id": value["id"],
                            "option_id": value["option_id"],
                            "order_product_id": 0,
                            "product_option_id": value["option_id"],
                            "display_name": value["option_display_name"],
                            "display_value": value["label"],
                            "value": str(value["id"]),
                            "type": "Multiple choice",
                            "name": value["option_display_name"],
                            "display_style": "Dropdown",
                        }
                        for value in variant.get("option_values", [])
                    ],
                }
            )
            if address:
                address["items_total"] += quantity
        if digital:
            address_rows = []
        shipping_cost = f"{0 if pickup else 5 * len(address_rows)}.0000"  # each address's base_cost, together
        store.orders[order_id] = {
            "id": order_id,
            "customer_id": 1,
            "date_created": rfc2822(now),
            "date_modified": rfc2822(now),
            "date_shipped": "",
            "status_id": status_id,
            "status": ORDER_STATUSES[status_id],
            "custom_status": ORDER_STATUSES[status_id],
            "subtotal_ex_tax": "19.9900",
            "subtotal_inc_tax": "19.9900",
            "subtotal_tax": "0.0000",
            "total_ex_tax": "24.9900",
            "total_inc_tax": "24.9900",
            "total_tax": "0.0000",
            "base_shipping_cost": shipping_cost,
            "shipping_cost_ex_tax": shipping_cost,
            "shipping_cost_inc_tax": shipping_cost,
            "shipping_cost_tax": "0.0000",
            "items_total": sum(line["quantity"] for line in line_rows),
            "items_shipped": 0,
            "payment_method": "Credit Card",
            "payment_status": "captured",
            "currency_code": "USD",
            "customer_message": customer_message
            if customer_message is not None
            else ("Please gift wrap" if order_id % 5 == 0 else ""),
            "staff_notes": "",
            "channel_id": 1,
            "order_source": "www",
            "billing_address": {**billing, "form_fields": []},
            "is_deleted": False,
            "_pickups": [
                {
                    "id": store.next_id(),
                    "pickup_method_id": 1,
                    "pickup_method_display_name": "Pick Up",
                    "collection_instructions": "Bring your ID",
                    "collection_time_description": "9am - 6pm",
                    "location": {
                        "id": 1,
                        "name": "Default location",
                        "code": "BC-LOCATION-1",
                        "address_line_1": "500 Congress Avenue",
                        "address_line_2": "",
                        "city": "Austin",
                        "state": "Texas",
                        "postal_code": "78701",
                        "country_alpha2": "US",
                        "email": "pickup@example.com",
                        "phone": "555-0199",
                    },
                    "line_items": [dict(line) for line in line_rows],
                }
            ]
            if pickup
            else [],
            "_downloads": [{"id": store.next_id(), "line_items": [dict(line) for line in line_rows]}]
            if digital
            else [],
        }
        store.order_products[order_id] = line_rows
        store.shipping_addresses[order_id] = [] if pickup else address_rows
        store.shipments[order_id] = []
        store.emit("store/order/created", "order", order_id)
        return order_id


def seed_orders(store: SandboxStore, *, orders: int = 30, seed: int = 11) -> list[int]:
    """Orders in every status, plus multi-address, pickup, digital-only and a 60-line order."""
    rng = random.Random(seed)
    sellable = [(p, v) for p in store.products.values() for v in p["variants"] if p["is_visible"]]
    if not sellable:
        raise ValueError("seed the catalog before the orders")
    created = []
    statuses = list(ORDER_STATUSES)
    start = store.clock.now() - orders  # one order a second up to now: distinct date_modified, as real traffic has
    for n in range(orders):
        picks = [(p, v, rng.randint(1, 3)) for p, v in rng.sample(sellable, k=min(len(sellable), rng.randint(1, 4)))]
        created.append(add_order(store, status_id=statuses[n % len(statuses)], lines=picks, rng=rng, at=start + n))
    created.append(add_order(store, lines=[(p, v, 1) for p, v in sellable[:4]], addresses=2, rng=rng))
    created.append(add_order(store, lines=[(p, v, 1) for p, v in sellable[:2]], pickup=True, rng=rng))
    created.append(add_order(store, lines=[(p, v, 1) for p, v in sellable[:1]], digital=True, rng=rng))
    big = [(sellable[i % len(sellable)][0], sellable[i % len(sellable)][1], 1) for i in range(60)]
    created.append(add_order(store, lines=big, rng=rng))
    return created
