"""`Order Change Too Late`: the warehouse could not apply a version bcsync sent - a cancel or an update that
reached it after the parcel left. BigCommerce already shows the change, so only a person can put it right:
the answer becomes one of the store's problems (`bcsync status`), saying what to do.

No staff note is written on the BigCommerce order. Staff notes are part of the order the warehouse receives,
so a note would be a new version (`Order Updated`) of an order that has left - which the warehouse could
answer "too late" again. And BigCommerce replaces the notes whole: adding to them is a read and a write that
can lose what a person types in between.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bcsync.errors import NeverValid
from bcsync.orders.state import OrderRecord, OrderState
from bcsync.store.problems import ProblemLog
from bcsync.warehouse.inbound import OrderChangeTooLate

logger = logging.getLogger("bcsync.shipments.too_late")

PROBLEM_KIND = "warehouse_too_late"
REASON_CHARS = 300  # the problem keeps 1,000 characters: what to do must not be cut off by a long reason
WHAT_TO_DO = {
    "cancel": (
        "BigCommerce has the order cancelled but the parcel is on its way: contact the customer, and take "
        "it back as a return or charge again for what they keep"
    ),
    "update": (
        "the parcel left as the version before: see what changed in BigCommerce (address, lines, shipping), "
        "contact the customer, and send what is missing or changed on its own or arrange a return"
    ),
}


def check_version(message: OrderChangeTooLate, record: OrderRecord | None, store_hash: str) -> None:
    """Raises NeverValid for an answer about an order or a version bcsync never sent."""
    if record is None or record.version == 0:
        raise NeverValid(f"order {message.order_id} is not one bcsync sent to the warehouse for store {store_hash}")
    if message.version > record.version:
        raise NeverValid(
            f"order {message.order_id}: bcsync never sent version {message.version} (the last is {record.version})"
        )
    sent = "cancel" if record.state == "cancelled" else "update"
    if message.version == record.version and message.change != sent:
        raise NeverValid(
            f"order {message.order_id}: version {message.version} was {record.detail_type or sent}, "
            f"not a {message.change}"
        )


def problem_of(message: OrderChangeTooLate) -> tuple[str, str]:
    """The problem's subject (one per order version: a repeat is the same problem) and its text."""
    what = "cancel it" if message.change == "cancel" else "apply its update"
    shipment = f", warehouse shipment {message.warehouse_shipment_id}" if message.warehouse_shipment_id else ""
    reason = message.reason if len(message.reason) <= REASON_CHARS else message.reason[: REASON_CHARS - 1] + "…"
    text = (
        f"the warehouse could not {what} (version {message.version}{shipment}): {reason}. "
        f"To do: {WHAT_TO_DO[message.change]}."
    )
    return f"{message.order_id} v{message.version}", text


@dataclass
class TooLateAnswers:
    """One store's `Order Change Too Late` messages: checked against what was sent, logged as problems."""

    store_hash: str
    orders: OrderState
    problems: ProblemLog
    count: Callable[[str], None]

    def record(self, message: OrderChangeTooLate) -> dict[str, Any]:
        check_version(message, self.orders.get(message.order_id), self.store_hash)
        subject, text = problem_of(message)
        if not self.problems.add(PROBLEM_KIND, subject, text, once=True):
            self.count("warehouse_too_late_repeated")
            return {"action": "repeat"}
        self.count("warehouse_too_late")
        logger.warning(
            "the warehouse could not apply an order change",
            extra={
                "store_hash": self.store_hash,
                "order_id": message.order_id,
                "version": message.version,
                "change": message.change,
            },
        )
        return {"action": "recorded"}
