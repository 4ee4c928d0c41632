"""The warehouse's "too late" answer: checked against what bcsync sent, told to a person with what to do."""

from __future__ import annotations

import re

import pytest

from bcsync.errors import NeverValid
from bcsync.orders.state import OrderRecord
from bcsync.shipments.too_late import check_version, problem_of
from bcsync.warehouse.inbound import OrderChangeTooLate

UPDATED = OrderRecord(order_id=7, version=3, detail_type="Order Updated")


def _answer(**fields: object) -> OrderChangeTooLate:
    answer = {"type": "Order Change Too Late", "store_hash": "abc123", "order_id": 7, "version": 3,
              "change": "update", "reason": "on the truck"}  # fmt: skip
    return OrderChangeTooLate.model_validate(answer | fields)


@pytest.mark.parametrize(
    ("record", "fields", "refusal"),
    [
        (None, {}, "is not one bcsync sent"),
        (OrderRecord(order_id=7, version=0, state="skipped"), {}, "is not one bcsync sent"),
        (UPDATED, {"version": 4}, "never sent version 4 (the last is 3)"),
        (UPDATED, {"change": "cancel"}, "version 3 was Order Updated, not a cancel"),
    ],
)
def test_an_answer_about_what_was_never_sent_is_refused(
    record: OrderRecord | None, fields: dict[str, object], refusal: str
) -> None:
    with pytest.raises(NeverValid, match=re.escape(refusal)):
        check_version(_answer(**fields), record, "abc123")


def test_an_answer_about_this_or_an_older_version_is_taken() -> None:
    check_version(_answer(), UPDATED, "abc123")
    check_version(_answer(version=2, change="cancel"), UPDATED, "abc123")  # older ones cannot be checked


def test_a_long_reason_never_pushes_what_to_do_out_of_the_problem() -> None:
    subject, text = problem_of(_answer(change="cancel", reason="x" * 2000, warehouse_shipment_id="WS-1"))

    assert subject == "7 v3"
    assert text.startswith("the warehouse could not cancel it (version 3, warehouse shipment WS-1): xxx")
    assert len(text) < 1000 and text.endswith("charge again for what they keep.")
