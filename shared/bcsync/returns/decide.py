"""The returns flow's rules: which order lines came back, the staff note, what to refund and how.
Pure: no AWS, no HTTP (`bcsync.returns.record` does the I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from bcsync.errors import NeverValid
from bcsync.orders.mapping import RETURN_NOTE_PREFIX
from bcsync.returns.inbound import Condition, ReturnReceived
from bigcommerce_client.refunds import PaymentOption, RefundQuote

RefundLines = Literal["all", "resellable"]
MAX_NOTE_CHARS = 2000


class ReturnRefused(NeverValid):
    """A return that can never be recorded as sent: its reason goes to the DLQ and the store's problems."""


def marker(warehouse_return_id: str) -> str:
    """In the staff note and in each refunded item's reason: how any later run recognises them as ours."""
    return f"{RETURN_NOTE_PREFIX}{warehouse_return_id}]"


@dataclass(frozen=True)
class OrderLine:
    """What BigCommerce says of one line of the order now."""

    order_product_id: int
    sku: str
    quantity: int
    quantity_shipped: int
    quantity_refunded: int = 0


@dataclass(frozen=True)
class ReturnedLine:
    order_product_id: int
    sku: str
    quantity: int
    condition: Condition
    notes: str = ""


def resolve_lines(
    message: ReturnReceived, lines: list[OrderLine], returned_before: dict[int, int]
) -> list[ReturnedLine]:
    """The order's lines for the warehouse's: by `order_product_id`, or a SKU on exactly one line; never more of
    a line than BigCommerce shipped less what earlier returns brought back. Every doubt is a refusal."""
    by_id = {line.order_product_id: line for line in lines}
    resolved: dict[tuple[int, str], ReturnedLine] = {}
    for wanted in message.lines:
        if wanted.order_product_id is not None:
            line = by_id.get(wanted.order_product_id)
            if line is None:
                raise ReturnRefused(f"line {wanted.order_product_id} is not on order {message.order_id}")
        else:
            matches = [line for line in lines if line.sku == wanted.sku]
            if len(matches) != 1:
                where = "not on" if not matches else "on more than one line of"
                raise ReturnRefused(f"SKU {wanted.sku} is {where} order {message.order_id}; send order_product_id")
            line = matches[0]
        key = (line.order_product_id, wanted.condition)
        before = resolved.get(key)
        notes = "; ".join(text for text in (before.notes if before else "", wanted.notes) if text)
        quantity = wanted.quantity + (before.quantity if before else 0)
        resolved[key] = ReturnedLine(line.order_product_id, line.sku, quantity, wanted.condition, notes)
    totals: dict[int, int] = {}
    for returned in resolved.values():
        totals[returned.order_product_id] = totals.get(returned.order_product_id, 0) + returned.quantity
    for order_product_id, quantity in totals.items():
        line = by_id[order_product_id]
        left = line.quantity_shipped - returned_before.get(order_product_id, 0)
        if quantity > left:
            raise ReturnRefused(
                f"line {order_product_id} of order {message.order_id}: {quantity} returned, but "
                f"{line.quantity_shipped} shipped and {returned_before.get(order_product_id, 0)} returned before"
            )
    return list(resolved.values())


def note(message: ReturnReceived, returned: list[ReturnedLine]) -> str:
    """One line for the order's staff notes: what came back and in what condition."""
    parts = []
    for line in returned:
        text = f"{line.quantity} x {line.sku or f'line {line.order_product_id}'} ({line.condition}"
        parts.append(text + (f": {line.notes})" if line.notes else ")"))
    text = f"{marker(message.warehouse_return_id)} returned to the warehouse: {', '.join(parts)}"
    if message.notes:
        text += f". Notes: {message.notes}"
    return text[:MAX_NOTE_CHARS]


def with_note(staff_notes: str, warehouse_return_id: str, text: str) -> str | None:
    """The order's staff notes with the return's line added; None when it is there already (an earlier attempt
    wrote it before it died): the note is written once, whatever the retries."""
    if marker(warehouse_return_id) in staff_notes:
        return None
    return f"{staff_notes.rstrip()}\n{text}" if staff_notes.strip() else text


def lines_to_refund(returned: list[ReturnedLine], policy: RefundLines) -> dict[int, int]:
    """order_product_id → units to refund: every returned unit, or the resellable ones alone."""
    quantities: dict[int, int] = {}
    for line in returned:
        if policy == "all" or line.condition == "resellable":
            quantities[line.order_product_id] = quantities.get(line.order_product_id, 0) + line.quantity
    return quantities


@dataclass(frozen=True)
class RefundPlan:
    amount: Decimal
    payments: list[PaymentOption]


@dataclass(frozen=True)
class NoRefund:
    """Why no refund is made automatically (the merchant's, by hand): told in the store's problems."""

    reason: str


def plan_refund(quote: RefundQuote, *, limit: Decimal, refunded_before: Decimal) -> RefundPlan | NoRefund:
    """The refund the quote allows, exactly: BigCommerce's amount through one of its refund methods whose
    options add up to it (online ones first), or no refund at all - never a part of one, never more."""
    amount = quote.total_refund_amount
    if amount <= 0:
        return NoRefund("BigCommerce quotes nothing to refund for these lines")
    if quote.adjustment < 0:
        return NoRefund(
            f"BigCommerce would refund {amount} of {amount - quote.adjustment} for these lines (the order has less "
            "left to refund): refund it by hand"
        )
    if refunded_before + amount > limit:
        return NoRefund(
            f"a refund of {amount} would take this order past the store's limit of {limit} "
            f"({refunded_before} refunded by bcsync before): refund it by hand, or raise refund_limit_per_order"
        )
    methods = [method for method in quote.refund_methods if method and sum(o.amount for o in method) == amount]
    if not methods:
        return NoRefund(f"no refund method BigCommerce offers covers the quoted {amount}: refund it by hand")
    # Money goes back the way it came: a method that is offline ("custom": BigCommerce only records that a
    # refund was made elsewhere) or store credit would mark the order refunded while the customer got nothing
    # back on their payment. Those are the merchant's call.
    to_payment = [method for method in methods if all(_to_the_payment(option) for option in method)]
    if not to_payment:
        return NoRefund(
            f"BigCommerce offers the quoted {amount} only as store credit or an offline refund, not back to the "
            "customer's payment: refund it by hand"
        )
    return RefundPlan(amount=amount, payments=to_payment[0])


OFFLINE_OR_CREDIT = frozenset({"custom", "storecredit"})


def _to_the_payment(option: PaymentOption) -> bool:
    return not (option.offline or option.offline_provider or option.provider_id in OFFLINE_OR_CREDIT)


# The queue's maxReceiveCount (template.yaml): on that receive a return still failing is dead-lettered by the
# consumer itself, with its reason, instead of silently by SQS's redrive on the next.
MAX_RECEIVES = 5


def gives_up(receive_count: int, max_receives: int = MAX_RECEIVES) -> bool:
    return receive_count >= max_receives
