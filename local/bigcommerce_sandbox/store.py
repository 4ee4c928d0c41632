"""The state of one sandbox store, shaped the way BigCommerce's API returns it.

Every mutation goes through a method here, under the store's lock, and stamps
`date_modified` from the injectable clock, so keyset paging behaves as it does on BigCommerce.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from bigcommerce_client.clock import Clock

from .webhooks import PendingDelivery, WebhookOutbox, payload, scope_matches

# BigCommerce's order statuses (docs/design.md, "BigCommerce facts"): id → name.
ORDER_STATUSES: dict[int, str] = {
    0: "Incomplete",
    1: "Pending",
    2: "Shipped",
    3: "Partially Shipped",
    4: "Refunded",
    5: "Cancelled",
    6: "Declined",
    7: "Awaiting Payment",
    8: "Awaiting Pickup",
    9: "Awaiting Shipment",
    10: "Completed",
    11: "Awaiting Fulfillment",
    12: "Manual Verification Required",
    13: "Disputed",
    14: "Partially Refunded",
}
SHIPPED, PARTIALLY_SHIPPED = 2, 3
CONSIGNMENT_LINE_CAP = 50
CONSIGNMENT_WARNING = (
    "Not all line items of this consignment are returned with this response, only 50 are included. "
    "Please use the `/v2/orders/{order_id}/products` endpoint to fetch all line items."
)
ALL_SCOPES = frozenset(
    {
        "store_v2_orders",
        "store_v2_products",
        "store_inventory",
        "store_v2_information",
        # a store that fulfils: orders created through the API may name or create customers
        "store_v2_customers",
    }
)


def rfc2822(moment: float) -> str:
    return format_datetime(datetime.fromtimestamp(moment, tz=UTC))


def iso8601(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=UTC).isoformat(timespec="seconds")


def parse_when(text: str) -> float:
    """BigCommerce filters accept RFC 2822 or ISO 8601 (or a unix timestamp)."""
    text = text.strip()
    if text.isdigit():
        return float(text)
    if text[:4].isdigit():
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    return parsedate_to_datetime(text).timestamp()


class RateWindow:
    """A fixed per-store window: `quota` requests per `window_ms`, shared by every app.

    `other_apps` is the store's other apps' steady load: that many requests spread evenly over each
    window (the storefront's apps, an ERP, a marketing feed), so `Requests-Left` falls as a window ages.
    """

    def __init__(self, clock: Clock, quota: int, window_ms: int, *, other_apps: int = 0) -> None:
        self.clock = clock
        self.quota = quota
        self.window_ms = window_ms
        self.other_apps = other_apps
        self.started_at: float | None = None
        self.used = 0  # by the apps that call the sandbox, and consume_elsewhere()
        self.lowest_left = quota

    def _roll(self, now: float) -> None:
        if self.started_at is None or now >= self.started_at + self.window_ms / 1000:
            self.started_at, self.used = now, 0

    def _used_by_other_apps(self, now: float) -> int:
        assert self.started_at is not None
        share = (now - self.started_at) / (self.window_ms / 1000)
        return min(math.floor(self.other_apps * share), self.other_apps)

    def left(self) -> int:
        now = self.clock.now()
        self._roll(now)
        return max(self.quota - self.used - self._used_by_other_apps(now), 0)

    def take(self, count: int = 1) -> bool:
        if self.left() < count:
            return False
        self.used += count
        self.lowest_left = min(self.lowest_left, self.left())
        return True

    def consume_elsewhere(self, count: int) -> None:
        """Requests made by the store's other apps, at once."""
        self._roll(self.clock.now())
        self.used = min(self.quota, self.used + count)

    def headers(self, *, exhausted: bool = False) -> dict[str, str]:
        left = self.left()
        assert self.started_at is not None
        reset_ms = max(round((self.started_at + self.window_ms / 1000 - self.clock.now()) * 1000), 0)
        return {
            "X-Rate-Limit-Requests-Left": str(0 if exhausted else left),
            "X-Rate-Limit-Requests-Quota": str(self.quota),
            "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
            "X-Rate-Limit-Time-Window-Ms": str(self.window_ms),
        }


@dataclass
class SandboxStore:
    store_hash: str
    clock: Clock
    tokens: dict[str, frozenset[str]] = field(default_factory=dict)
    quota: int = 150
    window_ms: int = 30_000
    other_apps: int = 0  # requests per window the store's other apps make, spread evenly
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    brands: dict[int, dict[str, Any]] = field(default_factory=dict)
    categories: dict[int, dict[str, Any]] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    order_products: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    shipping_addresses: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    shipments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    locations: dict[int, dict[str, Any]] = field(default_factory=dict)
    # (location_id, "variant"|"product", id) → quantity
    inventory: dict[tuple[int, str, int], int] = field(default_factory=dict)
    _variants_by_id: dict[int, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict, repr=False)
    hooks: dict[int, dict[str, Any]] = field(default_factory=dict)
    # v3 customers (orders_create.py): id → customer
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    webhooks: WebhookOutbox = field(default_factory=WebhookOutbox)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.rate = RateWindow(self.clock, self.quota, self.window_ms, other_apps=self.other_apps)
        self._next_id = 1000
        if not self.locations:
            self.add_location(1, "BC-LOCATION-1", "Default location")

    def next_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    def add_token(self, token: str, scopes: frozenset[str] = ALL_SCOPES) -> None:
        self.tokens[token] = scopes

    def add_location(self, location_id: int, code: str, label: str) -> None:
        self.locations[location_id] = {
            "id": location_id,
            "code": code,
            "label": label,
            "description": "",
            "managed_by_external_source": False,
            "type_id": "PHYSICAL",
            "enabled": True,
            "operating_hours": {},
            "time_zone": "Etc/UTC",
            "created_at": iso8601(self.clock.now()),
            "updated_at": iso8601(self.clock.now()),
            "address": {
                "address1": "1 Warehouse Way",
                "address2": "",
                "city": "Austin",
                "state": "Texas",
                "zip": "78701",
                "email": "warehouse@example.com",
                "phone": "",
                "geo_coordinates": {"latitude": 30.27, "longitude": -97.74},
                "country_code": "US",
            },
            "storefront_visibility": True,
            "special_hours": [],
        }

    # --- webhooks --------------------------------------------------------------------------

    def emit(self, scope: str, resource_type: str, resource_id: int, **extra: Any) -> None:
        """Queue a delivery to every active hook of this scope (fired by `webhooks.fire`)."""
        with self.lock:
            body = payload(
                store_hash=self.store_hash,
                scope=scope,
                data={"type": resource_type, "id": resource_id, **extra},
                created_at=int(self.clock.now()),
            )
            for hook_id in sorted(self.hooks):
                hook = self.hooks[hook_id]
                if hook["is_active"] and scope_matches(hook["scope"], scope):
                    self.webhooks.pending.append(
                        PendingDelivery(hook_id, hook["destination"], dict(hook["headers"] or {}), body)
                    )

    # --- catalog ---------------------------------------------------------------------------

    def touch_product(self, product_id: int) -> None:
        self.products[product_id]["date_modified"] = iso8601(self.clock.now())

    def update_product(self, product_id: int, **fields: Any) -> None:
        """A merchant's edit in the control panel: the product's date_modified moves."""
        with self.lock:
            self.products[product_id].update(fields)
            self.touch_product(product_id)
            self.emit("store/product/updated", "product", product_id)

    def update_variant(self, product_id: int, variant_id: int, **fields: Any) -> None:
        with self.lock:
            variant = next(v for v in self.products[product_id]["variants"] if v["id"] == variant_id)
            variant.update(fields)
            self.touch_product(product_id)
            sku_id = int(variant.get("sku_id") or variant["id"])
            self.emit("store/sku/updated", "sku", sku_id, sku={"product_id": product_id, "variant_id": variant_id})

    def delete_product(self, product_id: int) -> None:
        with self.lock:
            del self.products[product_id]
            self.emit("store/product/deleted", "product", product_id)

    def product_json(self, product: dict[str, Any], include: set[str]) -> dict[str, Any]:
        body = {key: value for key, value in product.items() if key not in {"variants", "images", "custom_fields"}}
        if product["inventory_tracking"] == "product":
            body["inventory_level"] = self.inventory.get((1, "product", product["id"]), 0)
        for name in ("variants", "images", "custom_fields"):
            if name in include:
                body[name] = [dict(row) for row in product[name]]
        for variant in body.get("variants", []):
            variant["inventory_level"] = self.inventory.get((1, "variant", variant["id"]), 0)
        return body

    def variant_by_id(self, variant_id: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """An index, rebuilt when a hit is stale or a miss may be new: tests edit products directly."""
        hit = self._variants_by_id.get(variant_id)
        if hit is None or not self._still_listed(*hit):
            self._variants_by_id = {v["id"]: (p, v) for p in self.products.values() for v in p["variants"]}
            hit = self._variants_by_id.get(variant_id)
        return hit

    def _still_listed(self, product: dict[str, Any], variant: dict[str, Any]) -> bool:
        return self.products.get(product["id"]) is product and any(v is variant for v in product["variants"])

    def variant_by_sku(self, sku: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        for product in self.products.values():
            for variant in product["variants"]:
                if variant.get("sku") == sku:
                    return product, variant
        return None

    # --- orders ----------------------------------------------------------------------------

    def touch_order(self, order_id: int) -> None:
        self.orders[order_id]["date_modified"] = rfc2822(self.clock.now())

    def set_order_status(self, order_id: int, status_id: int) -> None:
        order = self.orders[order_id]
        previous = order["status_id"]
        order["status_id"] = status_id
        order["status"] = ORDER_STATUSES[status_id]
        order["custom_status"] = ORDER_STATUSES[status_id]
        self.touch_order(order_id)
        if previous != status_id:
            self.emit("store/order/updated", "order", order_id)
            status = {"previous_status_id": previous, "new_status_id": status_id}
            self.emit("store/order/statusUpdated", "order", order_id, status=status)

    def order_json(self, order_id: int, *, line_items: bool, consignments: bool) -> dict[str, Any]:
        order = dict(self.orders[order_id])
        if consignments:
            shipping = []
            for address in self.shipping_addresses.get(order_id, []):
                entry: dict[str, Any] = {
                    key: address[key]
                    for key in (
                        "id", "first_name", "last_name", "company", "street_1", "street_2", "city", "state", "zip",
                        "country", "country_iso2", "email", "phone", "form_fields", "items_total", "items_shipped",
                        "shipping_method", "base_cost", "cost_ex_tax", "cost_inc_tax", "cost_tax",
                        "cost_tax_class_id", "base_handling_cost", "handling_cost_ex_tax", "handling_cost_inc_tax",
                        "handling_cost_tax", "handling_cost_tax_class_id", "shipping_zone_id", "shipping_zone_name",
                    )
                }  # fmt: skip
                lines = [line for line in self.order_products[order_id] if line["order_address_id"] == address["id"]]
                if line_items:
                    entry["line_items"] = [dict(line) for line in lines[:CONSIGNMENT_LINE_CAP]]
                    if len(lines) > CONSIGNMENT_LINE_CAP:
                        entry["__warning__"] = {"message": CONSIGNMENT_WARNING}
                else:
                    entry["line_items"] = [
                        {
                            "url": f"https://api.bigcommerce.com/stores/{self.store_hash}/v2/orders/{order_id}/products/{line['id']}",
                            "resource": f"/orders/{order_id}/products/{line['id']}",
                        }
                        for line in lines
                    ]
                for key in _CONSIGNMENT_NUMBERS:  # money is a string on addresses, a number on consignments
                    entry[key] = float(entry[key])
                shipping.append(entry)
            pickups = order.pop("_pickups", [])
            downloads = order.pop("_downloads", [])
            order["consignments"] = {
                "pickups": pickups,
                "shipping": shipping,
                "downloads": downloads,
                "email": {"gift_certificates": []},
            }
        else:
            order["consignments"] = {
                "url": f"https://api.bigcommerce.com/stores/{self.store_hash}/v2/orders/{order_id}/consignments",
                "resource": f"/orders/{order_id}/consignments",
            }
        order.pop("_pickups", None)
        order.pop("_downloads", None)
        return order

    def record_shipment(self, order_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """BigCommerce's side effects: items_shipped counts, then Shipped or Partially Shipped."""
        order = self.orders[order_id]
        lines = {line["id"]: line for line in self.order_products[order_id]}
        address = next(a for a in self.shipping_addresses[order_id] if a["id"] == body["order_address_id"])
        items = []
        for item in body["items"]:
            line = lines[item["order_product_id"]]
            line["quantity_shipped"] += item["quantity"]
            address["items_shipped"] += item["quantity"]
            order["items_shipped"] += item["quantity"]
            items.append(
                {
                    "order_product_id": line["id"],
                    "product_id": line["product_id"],
                    "quantity": item["quantity"],
                }
            )
        shipment = {
            "id": self.next_id(),
            "order_id": order_id,
            "customer_id": order["customer_id"],
            "order_address_id": address["id"],
            "date_created": rfc2822(self.clock.now()),
            "tracking_number": body.get("tracking_number", ""),
            "merchant_shipping_cost": "0.0000",
            "shipping_method": body.get("shipping_method", ""),
            "shipping_provider": body.get("shipping_provider", ""),
            "tracking_carrier": body.get("tracking_carrier", ""),
            "tracking_link": body.get("tracking_link", ""),
            "comments": body.get("comments", ""),
            "billing_address": {key: order["billing_address"][key] for key in _BILLING_FIELDS},
            "shipping_address": {key: address[key] for key in _BILLING_FIELDS},
            "items": items,
            "shipping_provider_display_name": "",
            "generated_tracking_link": "",
        }
        self.shipments.setdefault(order_id, []).append(shipment)
        fully = all(
            line["quantity_shipped"] >= line["quantity"] for line in lines.values() if line["type"] == "physical"
        )
        self.set_order_status(order_id, SHIPPED if fully else PARTIALLY_SHIPPED)
        if fully:
            order["date_shipped"] = rfc2822(self.clock.now())
        return shipment


_CONSIGNMENT_NUMBERS = (
    "base_cost", "cost_ex_tax", "cost_inc_tax", "cost_tax", "base_handling_cost", "handling_cost_ex_tax",
    "handling_cost_inc_tax", "handling_cost_tax",
)  # fmt: skip
_BILLING_FIELDS = (
    "first_name", "last_name", "company", "street_1", "street_2", "city", "state", "zip", "country",
    "country_iso2", "phone", "email",
)  # fmt: skip


def _address(rng: random.Random, index: int) -> dict[str, Any]:
    return {
        "first_name": rng.choice(["Ada", "Grace", "Linus", "Maya", "Noor", "Sam"]),
        "last_name": rng.choice(["Lovelace", "Hopper", "Okafor", "Tanaka", "Silva"]),
        "company": "",
        "street_1": f"{100 + index} Main Street",
        "street_2": "",
        "city": "Austin",
        "state": "Texas",
        "zip": "78751",
        "country": "United States",
        "country_iso2": "US",
        "phone": "555-0100",
        "email": f"customer{index}@example.com",
    }
