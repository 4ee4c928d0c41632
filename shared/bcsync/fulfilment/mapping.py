"""A fulfillment request as BigCommerce's `POST /v2/orders` body, and the hash that says what it asked."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from bcsync.fulfilment.request import Address, FulfillmentRequest
from bcsync.orders.mapping import BCSYNC_EXTERNAL_SOURCE

# BigCommerce asks apps that create orders to name themselves here; order import skips such orders.
EXTERNAL_SOURCE = BCSYNC_EXTERNAL_SOURCE


@dataclass(frozen=True)
class Variant:
    """Where a SKU lives in BigCommerce (variant_id 0: a product without variants of its own)."""

    product_id: int
    variant_id: int


def content_hash(request: FulfillmentRequest) -> str:
    """What the request asks for, without when it was asked or sent: a redelivery hashes the same, a request
    id reused for other lines or addresses does not."""
    body = request.model_dump(mode="json", exclude={"requested_at", "schema_version"})
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


def _address(address: Address, *, email: str) -> dict[str, Any]:
    body = address.model_dump(mode="json")
    if not body["email"] and email:
        body["email"] = email
    return {name: value for name, value in body.items() if value != ""}


def order_body(
    request: FulfillmentRequest, variants: dict[str, Variant], *, customer_id: int, status_id: int
) -> dict[str, Any]:
    """The order to create: every line by product and variant, its price as given (BigCommerce takes no tax
    on it), the request id as `external_order_id`. `variants` must name every SKU of the request."""
    products = []
    for line in request.lines:
        variant = variants[line.sku]
        product: dict[str, Any] = {"product_id": variant.product_id, "quantity": line.quantity}
        if variant.variant_id:
            product["variant_id"] = variant.variant_id
        price = float(line.price)
        product["price_inc_tax"] = price
        product["price_ex_tax"] = price
        products.append(product)
    method = " ".join(part for part in (request.carrier, request.ship_method) if part)
    shipping = _address(request.ship_to, email=request.email)
    if method:
        shipping["shipping_method"] = method
    body: dict[str, Any] = {
        "status_id": status_id,
        "customer_id": customer_id,
        "external_order_id": request.request_id,
        "external_source": EXTERNAL_SOURCE,
        "billing_address": _address(request.bill_to, email=request.email),
        "shipping_addresses": [shipping],
        "products": products,
    }
    if request.notes:
        body["customer_message"] = request.notes
    return body


def new_customer(request: FulfillmentRequest) -> dict[str, Any]:
    """The customer `create_if_missing` makes, from the bill-to address."""
    bill_to = request.bill_to
    customer: dict[str, Any] = {
        "email": request.email,
        "first_name": bill_to.first_name,
        "last_name": bill_to.last_name or bill_to.first_name,
    }
    if bill_to.company:
        customer["company"] = bill_to.company
    if bill_to.phone:
        customer["phone"] = bill_to.phone
    return customer
