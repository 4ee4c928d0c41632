"""The payment actions of orders.v3.yml the returns flow uses - refund quotes, refunds, an order's refunds - and
the staff notes of `PUT /v2/orders/{id}`. server.py serves `ROUTES` before orders.py's.

What BigCommerce enforces beyond the schema: `PRODUCT` items of the order only, never more units than are
left to refund, never more money than was paid less what was refunded (a quote says so with a negative
`adjustment`; a refund is refused with a 422), a refund's payments adding up to its quote, and one refund at
a time per order (the store's lock). A refund counts the lines' units refunded and moves the order to
Partially Refunded (14), or Refunded (4) once everything paid is refunded.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .orders import update_order as update_status
from .routing import ERROR_TYPE, ApiError, Request, Route
from .store import iso8601

if TYPE_CHECKING:
    from .store import SandboxStore

REFUNDED, PARTIALLY_REFUNDED = 4, 14
CENT = Decimal("0.01")
# The refund methods a quote offers: the card the order was paid with, or "custom" (refunded outside BigCommerce).
PROVIDER = "testgateway"


def _error(status: int, message: str) -> Exception:
    return ApiError(status, message)


def refunds_of(store: SandboxStore) -> dict[int, list[dict[str, Any]]]:
    """The store's refunds per order (kept beside the store's own tables)."""
    return vars(store).setdefault("_payment_refunds", {})  # type: ignore[no-any-return]


def _order(request: Request) -> dict[str, Any]:
    order = request.store.orders.get(request.id())
    if order is None or order.get("is_deleted"):
        raise _error(404, "The requested resource was not found.")
    return order


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def _quoted(request: Request, order: dict[str, Any]) -> tuple[list[dict[str, Any]], Decimal, Decimal]:
    """The items asked for, what they cost, and what the order can still refund."""
    body = request.body
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise _error(422, "The field 'items' cannot be blank.")
    lines = {line["id"]: line for line in request.store.order_products[order["id"]]}
    wanted: dict[int, int] = {}
    for item in items:
        if not isinstance(item, dict) or item.get("item_type") != "PRODUCT":
            raise _error(422, "Only PRODUCT items can be refunded by quantity here.")
        line = lines.get(item.get("item_id"))
        quantity = item.get("quantity")
        if line is None:
            raise _error(422, f"The item {item.get('item_id')} is not on order {order['id']}.")
        if not isinstance(quantity, int) or quantity < 1:
            raise _error(422, "The field 'quantity' is invalid.")
        wanted[line["id"]] = wanted.get(line["id"], 0) + quantity
    cost = Decimal(0)
    for line_id, quantity in wanted.items():
        line = lines[line_id]
        left = line["quantity"] - line["quantity_refunded"]
        if quantity > left:
            raise _error(422, f"The item {line_id} has only {left} left to refund.")
        cost += _money(line["price_inc_tax"]) * quantity
    paid = _money(order["total_inc_tax"])
    remaining = max(paid - _money(order.get("refunded_amount")), Decimal(0))
    return items, cost, remaining


def create_refund_quote(request: Request) -> tuple[int, Any]:
    order = _order(request)
    _, cost, remaining = _quoted(request, order)
    total = min(cost, remaining)
    option = {
        "provider_id": PROVIDER, "provider_description": "Test Payment Gateway", "amount": float(total),
        "offline": False, "offline_provider": False, "offline_reason": "",
    }  # fmt: skip
    custom = {
        "provider_id": "custom", "provider_description": "Custom", "amount": float(total), "offline": True,
        "offline_provider": True, "offline_reason": "This is an offline payment provider.",
    }  # fmt: skip
    quote = {
        "order_id": order["id"],
        "total_refund_amount": float(total),
        "total_refund_tax_amount": 0.0,
        "rounding": 0.0,
        "adjustment": float(total - cost),
        "tax_inclusive": True,
        "refund_methods": [[custom], [option]] if total > 0 else [],
    }
    return 201, {"data": quote, "meta": {}}


def create_refund(request: Request) -> tuple[int, Any]:
    """A refusal is the body orders.v3.yml gives this operation's 422: `{data: [{status, title, type}]}`."""
    try:
        return _create_refund(request)
    except ApiError as error:
        if error.status != 422:
            raise
        return 422, {"data": [{"status": 422, "title": error.message, "type": ERROR_TYPE}]}


def _create_refund(request: Request) -> tuple[int, Any]:
    order = _order(request)
    items, cost, remaining = _quoted(request, order)
    body = request.body if isinstance(request.body, dict) else {}
    payments = body.get("payments")
    if not isinstance(payments, list) or not payments:
        raise _error(422, "The field 'payments' cannot be blank.")
    amount = sum((_money(p.get("amount")) for p in payments if isinstance(p, dict)), Decimal(0))
    if cost > remaining or amount > remaining:
        raise _error(422, f"The refund exceeds the {remaining} left to refund on order {order['id']}.")
    if amount != cost:
        raise _error(422, f"The payments ({amount}) do not match the refund's amount ({cost}).")
    store = request.store
    lines = {line["id"]: line for line in store.order_products[order["id"]]}
    for item in items:
        lines[item["item_id"]]["quantity_refunded"] += item["quantity"]
    refunded = _money(order.get("refunded_amount")) + amount
    order["refunded_amount"] = f"{refunded:.4f}"
    refund = {
        "id": store.next_id(),
        "order_id": order["id"],
        "user_id": 0,
        "created": iso8601(store.clock.now()),
        "reason": "",
        "total_amount": float(amount),
        "total_tax": 0.0,
        "uses_merchant_override_values": False,
        "items": [_refunded_item(item, lines[item["item_id"]]) for item in items],
        "payments": [_payment(store, payment) for payment in payments],
    }
    refunds_of(store).setdefault(order["id"], []).append(refund)
    store.set_order_status(order["id"], REFUNDED if refunded >= _money(order["total_inc_tax"]) else PARTIALLY_REFUNDED)
    return 201, {"data": refund, "meta": {}}


def _refunded_item(item: dict[str, Any], line: dict[str, Any]) -> dict[str, Any]:
    return {
        "item_type": "PRODUCT",
        "item_id": item["item_id"],
        "quantity": item["quantity"],
        "reason": str(item.get("reason") or ""),
        "requested_amount": float(_money(line["price_inc_tax"]) * item["quantity"]),
    }


def _payment(store: SandboxStore, payment: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": store.next_id(),
        "provider_id": str(payment.get("provider_id")),
        "amount": float(_money(payment.get("amount"))),
        "offline": bool(payment.get("offline")),
        "is_declined": False,
        "declined_message": "",
    }


def list_refunds(request: Request) -> tuple[int, Any]:
    order = _order(request)
    return 200, {"data": list(refunds_of(request.store).get(order["id"], [])), "meta": {}}


def update_order(request: Request) -> tuple[int, Any]:
    """`staff_notes` kept; the rest as orders.py's `PUT /v2/orders/{id}` does it."""
    order = _order(request)
    body = request.body if isinstance(request.body, dict) else {}
    if "staff_notes" in body:
        if not isinstance(body["staff_notes"], str) or len(body["staff_notes"]) > 65_535:
            raise _error(400, "The field 'staff_notes' is invalid.")
        order["staff_notes"] = body["staff_notes"]
        request.store.touch_order(order["id"])
    return update_status(request)


_ID = r"(?P<id>\d+)"
ROUTES: list[Route] = [
    (method, re.compile(f"^{path}$"), scope, handler)
    for method, path, scope, handler in [
        ("POST", f"/v3/orders/{_ID}/payment_actions/refund_quotes", "store_v2_orders", create_refund_quote),
        ("POST", f"/v3/orders/{_ID}/payment_actions/refunds", "store_v2_orders", create_refund),
        ("GET", f"/v3/orders/{_ID}/payment_actions/refunds", "store_v2_orders_read_only", list_refunds),
        ("PUT", f"/v2/orders/{_ID}", "store_v2_orders", update_order),
    ]
]
