"""The returns flow's rules, one row per rule: which lines came back, the staff note, what is refunded and how."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from bcsync.orders.mapping import without_return_notes
from bcsync.returns.decide import (
    MAX_RECEIVES,
    NoRefund,
    OrderLine,
    RefundPlan,
    ReturnedLine,
    ReturnRefused,
    gives_up,
    lines_to_refund,
    note,
    plan_refund,
    resolve_lines,
    with_note,
)
from bcsync.returns.inbound import RETURNS_INBOUND, ReturnReceived
from bcsync.store.settings import StoreSettings
from bigcommerce_client.refunds import PaymentOption, RefundQuote
from tests.aws import load_template

LINES = [
    OrderLine(order_product_id=1, sku="A", quantity=3, quantity_shipped=2),
    OrderLine(order_product_id=2, sku="B", quantity=1, quantity_shipped=1),
    OrderLine(order_product_id=3, sku="B", quantity=1, quantity_shipped=1),  # B is on two lines
]


def _message(*lines: dict[str, Any], notes: str = "") -> ReturnReceived:
    return ReturnReceived.model_validate(
        {"type": "Return Received", "store_hash": "abc123", "order_id": 7, "warehouse_return_id": "R1",
         "lines": list(lines), "notes": notes}
    )  # fmt: skip


def _line(condition: str = "resellable", **fields: Any) -> dict[str, Any]:
    return {"quantity": 1, "condition": condition, **fields}


@pytest.mark.parametrize(
    ("lines", "before", "expected"),
    [
        ([_line(order_product_id=1)], {}, [(1, "A", 1, "resellable")]),
        ([_line(sku="A", quantity=2)], {}, [(1, "A", 2, "resellable")]),  # by a SKU on one line
        ([_line(order_product_id=1), _line(order_product_id=1)], {}, [(1, "A", 2, "resellable")]),  # one line, summed
        ([_line(order_product_id=1), _line("damaged", order_product_id=1)], {},
         [(1, "A", 1, "resellable"), (1, "A", 1, "damaged")]),  # each condition its own
        ([_line(order_product_id=1)], {1: 1}, [(1, "A", 1, "resellable")]),  # 2 shipped, 1 back before, 1 now
    ],
)  # fmt: skip
def test_the_lines_that_came_back(lines: list[dict[str, Any]], before: dict[int, int], expected: list[Any]) -> None:
    returned = resolve_lines(_message(*lines), LINES, before)
    assert [(r.order_product_id, r.sku, r.quantity, r.condition) for r in returned] == expected


@pytest.mark.parametrize(
    ("lines", "before", "reason"),
    [
        ([_line(order_product_id=9)], {}, "line 9 is not on order 7"),
        ([_line(sku="Z")], {}, "SKU Z is not on order 7"),
        ([_line(sku="B")], {}, "SKU B is on more than one line of order 7; send order_product_id"),
        ([_line(order_product_id=1, quantity=3)], {}, "3 returned, but 2 shipped and 0 returned before"),
        ([_line(order_product_id=1), _line("damaged", order_product_id=1, quantity=2)], {},
         "3 returned, but 2 shipped"),  # the conditions together count against what shipped
        ([_line(order_product_id=1, quantity=2)], {1: 1}, "2 returned, but 2 shipped and 1 returned before"),
    ],
)  # fmt: skip
def test_every_doubt_about_the_lines_is_a_refusal(
    lines: list[dict[str, Any]], before: dict[int, int], reason: str
) -> None:
    with pytest.raises(ReturnRefused, match=reason.replace("(", r"\(").replace(")", r"\)")):
        resolve_lines(_message(*lines), LINES, before)


@pytest.mark.parametrize(
    "body",
    [
        {"lines": [{"quantity": 1, "condition": "resellable"}]},  # names no line
        {"lines": [{"order_product_id": 1, "quantity": 0, "condition": "resellable"}]},
        {"lines": [{"order_product_id": 1, "quantity": 1, "condition": "as new"}]},
        {"lines": []},
        {"lines": [{"order_product_id": 1, "quantity": 1, "condition": "damaged"}], "warehouse_return_id": "R[1]"},
    ],
)
def test_a_return_message_that_can_never_be_read_is_refused_by_its_schema(body: dict[str, Any]) -> None:
    message = {"type": "Return Received", "store_hash": "abc123", "order_id": 7, "warehouse_return_id": "R1"} | body
    with pytest.raises(ValidationError):
        RETURNS_INBOUND.validate_python(message)


def test_the_staff_note_says_what_came_back_and_is_written_once() -> None:
    message = _message(_line(order_product_id=1), _line("damaged", order_product_id=2, notes="torn"), notes="late")
    text = note(message, resolve_lines(message, LINES, {}))
    assert (
        text == "[bcsync return R1] returned to the warehouse: 1 x A (resellable), 1 x B (damaged: torn). Notes: late"
    )
    assert with_note("", "R1", text) == text
    assert with_note("Fragile\n", "R1", text) == f"Fragile\n{text}"
    assert with_note(f"Fragile\n{text}", "R1", text) is None  # an earlier attempt wrote it: not again
    # Order import does not take bcsync's own note for a change the warehouse must hear of.
    assert without_return_notes(f"Fragile\n{text}") == "Fragile"
    assert without_return_notes("Fragile \n") == "Fragile \n"  # notes without one stay byte for byte


RETURNED = [ReturnedLine(1, "A", 2, "resellable"), ReturnedLine(2, "B", 1, "damaged")]


@pytest.mark.parametrize(("policy", "expected"), [("all", {1: 2, 2: 1}), ("resellable", {1: 2})])
def test_what_is_refunded_is_every_line_or_the_resellable_ones(policy: Any, expected: dict[int, int]) -> None:
    assert lines_to_refund(RETURNED, policy) == expected


def test_refunds_are_off_by_default_and_refund_resellable_lines_up_to_100() -> None:
    settings = StoreSettings(store_hash="abc123")
    assert (settings.refunds_enabled, settings.refund_lines, settings.refund_limit_per_order) == (
        False, "resellable", Decimal("100"),
    )  # fmt: skip
    with pytest.raises(ValidationError):
        StoreSettings(store_hash="abc123", refund_limit_per_order=Decimal("0"))


def _option(amount: str, *, provider: str = "card", offline: bool = False) -> PaymentOption:
    return PaymentOption(provider_id=provider, amount=Decimal(amount), offline=offline)


def _quote(total: str, *methods: list[PaymentOption], adjustment: str = "0") -> RefundQuote:
    return RefundQuote(order_id=7, total_refund_amount=Decimal(total), adjustment=Decimal(adjustment),
                       refund_methods=list(methods))  # fmt: skip


CUSTOM = _option("19.99", provider="custom", offline=True)


@pytest.mark.parametrize(
    ("quote", "before", "expected"),
    [
        (_quote("19.99", [CUSTOM], [_option("19.99")]), "0", RefundPlan(Decimal("19.99"), [_option("19.99")])),
        # an offline refund or store credit marks the order refunded with nothing back on the payment: by hand
        (_quote("19.99", [CUSTOM]), "0", NoRefund("only as store credit or an offline refund")),
        (_quote("19.99", [_option("9.99"), _option("10.00", provider="storecredit")]), "0",
         NoRefund("only as store credit or an offline refund")),
        (_quote("19.99", [_option("19.99", provider="storecredit")], [_option("19.99")]), "0",
         RefundPlan(Decimal("19.99"), [_option("19.99")])),
        (_quote("19.99", [_option("19.99")]), "80.01", RefundPlan(Decimal("19.99"), [_option("19.99")])),  # at 100
        (_quote("19.99", [_option("19.99")]), "80.02", NoRefund("past the store's limit of 100")),
        (_quote("5.00", [_option("5.00")], adjustment="-14.99"), "0", NoRefund("would refund 5.00 of 19.99")),
        (_quote("0", []), "0", NoRefund("quotes nothing to refund")),
        (_quote("19.99", [_option("10.00")]), "0", NoRefund("no refund method")),  # never part of one
    ],
)  # fmt: skip
def test_a_refund_is_exactly_what_the_quote_allows_or_none(quote: RefundQuote, before: str, expected: Any) -> None:
    plan = plan_refund(quote, limit=Decimal("100"), refunded_before=Decimal(before))
    if isinstance(expected, NoRefund):
        assert isinstance(plan, NoRefund) and expected.reason in plan.reason
    else:
        assert plan == expected


def test_the_last_receive_is_the_queues_max_receive_count() -> None:
    queue = load_template()["Resources"]["ReturnsInbound"]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == MAX_RECEIVES
    assert [gives_up(n) for n in (1, MAX_RECEIVES - 1, MAX_RECEIVES)] == [False, False, True]
