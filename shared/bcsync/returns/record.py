"""A warehouse return on its BigCommerce order: a staff note once, and a refund once if the store asks for it.

Exactly once, in three layers:
- Powertools idempotency (in `returns.consumer`), keyed by store + warehouse return id: a duplicate delivery
  returns the stored result with no BigCommerce call, and two invocations holding one return never run at once.
- The order's returns lease (`ReturnLog.claim`): one return of an order at a time, as BigCommerce takes one
  refund at a time per order and the store's per-order limit must count every refund before it.
- A return record, "refunding" written *before* the refund `POST` with the amount, on the order too (the
  limit counts it). A run that finds it lists the order's refunds and looks for the return's marker in an
  item's reason before it quotes and posts again; the staff note is found by its marker the same way.
Steady state: three BigCommerce calls per return (the order's lines, the order's notes, the note), five more
with a refund (the quote, the refund) - the order's refunds only after a failure.

Units that came back resellable reach BigCommerce's stock only through the warehouse's next `Stock Level`:
this flow never adjusts stock, so nothing is counted twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bcsync.backbone import cutpoints
from bcsync.errors import BcsyncError, NeverValid
from bcsync.orders.state import OrderState
from bcsync.returns.decide import (
    NoRefund,
    OrderLine,
    ReturnedLine,
    ReturnRefused,
    lines_to_refund,
    marker,
    note,
    plan_refund,
    resolve_lines,
    with_note,
)
from bcsync.returns.events import refund_issued, return_recorded
from bcsync.returns.inbound import ReturnReceived
from bcsync.returns.state import ReturnLog, ReturnState
from bcsync.store.problems import ProblemLog
from bcsync.store.settings import StoreSettings
from bcsync.warehouse.events import EventPublisher, OutboundEvent
from bigcommerce_client import BigCommerceClient, Clock, NotFoundError, UnprocessableError
from bigcommerce_client.refunds import (
    Refund,
    RefundLine,
    create_refund,
    create_refund_quote,
    list_refunds,
    set_staff_notes,
)

logger = logging.getLogger("bcsync.returns.record")
# Longer than an invocation may run (template.yaml: 120 s), shorter than the queue's visibility timeout (720 s):
# a lease a cut invocation left has lapsed before its message comes back.
LEASE_SECONDS = 150


class OrderBusyError(BcsyncError):
    """Another return of the same order is being handled: this one is retried after it."""


@dataclass
class Returns:
    """One store's returns, for one batch: built per store by the consumer."""

    settings: StoreSettings
    client: BigCommerceClient
    orders: OrderState
    log: ReturnLog
    problems: ProblemLog
    publisher: EventPublisher
    count: Callable[[str], None]
    clock: Clock

    @property
    def store_hash(self) -> str:
        return self.settings.store_hash

    def receive(self, message: ReturnReceived) -> dict[str, Any]:
        rid = message.warehouse_return_id
        state = self.log.get(rid)
        if state is not None and state.order_id != message.order_id:
            raise self._refused(message, f"{rid} was recorded for order {state.order_id}, not {message.order_id}")
        if state is not None and state.state == "done":
            self.count("duplicates_suppressed")
            return {"action": "duplicate"}
        record = self.orders.get(message.order_id)
        if record is None or record.version == 0:
            raise self._refused(
                message, f"order {message.order_id} is not one bcsync sent to the warehouse for store {self.store_hash}"
            )
        if not self.log.claim(message.order_id, rid, now=self.clock.now(), seconds=LEASE_SECONDS):
            raise OrderBusyError(f"order {message.order_id}: another of its returns is being handled; {rid} is retried")
        try:
            return self._receive(message, state)
        finally:
            self.log.release(message.order_id, rid)

    def _receive(self, message: ReturnReceived, state: ReturnState | None) -> dict[str, Any]:
        rid = message.warehouse_return_id
        try:
            lines = [
                OrderLine(
                    order_product_id=line.id,
                    sku=line.sku or "",
                    quantity=line.quantity,
                    quantity_shipped=line.quantity_shipped,
                    quantity_refunded=int((line.model_extra or {}).get("quantity_refunded") or 0),
                )
                for line in self.client.iter_order_products(message.order_id)
            ]
        except NotFoundError:
            raise self._gone(message) from None
        ledger = self.log.order(message.order_id)
        try:
            returned = resolve_lines(message, lines, ledger.returned_besides(rid))
        except ReturnRefused as refused:
            raise self._refused(message, str(refused)) from None
        if state is None:
            self._note(message, returned)
            self.log.record_return(message.order_id, rid, _quantities(returned))
            state = ReturnState(rid, message.order_id, "noted")
            self.log.noted(rid, message.order_id)
            self.count("returns_recorded")
        refund = self._refund(message, returned, state, ledger.refunded_besides(rid))
        amount = refund.total_amount if isinstance(refund, Refund) else None
        events = [self._event("Return Recorded", f"return:{self.store_hash}:{rid}", message, returned, refund)]
        if isinstance(refund, Refund):
            events.append(self._event("Refund Issued", f"refund:{self.store_hash}:{rid}", message, returned, refund))
        # Published before the return is done: a crash in between publishes the same keys again (no-ops).
        self.publisher.publish(events)
        self.log.done(
            ReturnState(
                rid,
                message.order_id,
                "done",
                refund_id=refund.id if isinstance(refund, Refund) else None,
                refund_amount=amount,
                no_refund=refund.reason if isinstance(refund, NoRefund) else "",
            )
        )
        return {"action": "refunded" if amount is not None else "recorded", "amount": str(amount or "")}

    def _note(self, message: ReturnReceived, returned: list[ReturnedLine]) -> None:
        """The staff note, once: read the order's notes (an earlier attempt may have written it), then add it."""
        try:
            order = self.client.get_order(message.order_id)
            notes = with_note(order.staff_notes, message.warehouse_return_id, note(message, returned))
            if notes is not None:
                set_staff_notes(self.client, message.order_id, notes)
        except NotFoundError:
            raise self._gone(message) from None
        except UnprocessableError as refused:
            raise self._refused(message, f"BigCommerce refused the return's staff note: {refused}") from None

    def _refund(
        self, message: ReturnReceived, returned: list[ReturnedLine], state: ReturnState, refunded_before: Decimal
    ) -> Refund | NoRefund:
        rid, order_id = message.warehouse_return_id, message.order_id
        tag = marker(rid)
        if state.state == "refunding":  # an earlier attempt may have made it before it died: whatever the settings
            found = next((r for r in self._refunds(message) if any(tag in item.reason for item in r.items)), None)
            if found is not None:
                self.log.record_refund(order_id, rid, found.total_amount)
                self.count("duplicates_suppressed")
                return found
            self.log.forget_refund(order_id, rid)  # none was made: the limit no longer counts it
        if state.no_refund:
            return NoRefund(state.no_refund)
        if not self.settings.refunds_enabled:
            return NoRefund("refunds are off for this store")
        quantities = lines_to_refund(returned, self.settings.refund_lines)
        if not quantities:
            return NoRefund("nothing returned resellable (the store refunds resellable lines only)")
        lines = [
            RefundLine(item_id=opid, quantity=quantity, reason=f"{tag} returned to the warehouse")
            for opid, quantity in sorted(quantities.items())
        ]
        try:
            quote = create_refund_quote(self.client, order_id, lines)
        except UnprocessableError as refused:
            raise self._refund_refused(message, f"BigCommerce refused a refund quote: {refused}") from None
        except NotFoundError:
            raise self._gone(message) from None
        plan = plan_refund(quote, limit=self.settings.refund_limit_per_order, refunded_before=refunded_before)
        if isinstance(plan, NoRefund):
            self.problems.add("refund_not_made", rid, f"order {order_id}, return {rid}: {plan.reason}")
            self.count("refunds_not_made")
            self.log.put(ReturnState(rid, order_id, "noted", no_refund=plan.reason))
            return plan
        self.log.record_refund(order_id, rid, plan.amount)  # the limit counts it from now on
        self.log.put(ReturnState(rid, order_id, "refunding", refund_amount=plan.amount))
        cutpoints.reached(cutpoints.BEFORE_REFUND_POST)
        try:
            refund = create_refund(self.client, order_id, lines, plan.payments)
        except (UnprocessableError, NotFoundError) as refused:
            # Refused whole: no money moved, the intent is dropped (a redrive quotes and tries again).
            self.log.forget_refund(order_id, rid)
            self.log.put(ReturnState(rid, order_id, "noted"))
            raise self._refund_refused(message, f"BigCommerce refused the refund of {plan.amount}: {refused}") from None
        cutpoints.reached(cutpoints.AFTER_REFUND_POST)
        self.log.record_refund(order_id, rid, refund.total_amount)
        self.count("refunds_issued")
        return refund

    def _refunds(self, message: ReturnReceived) -> list[Refund]:
        try:
            return list_refunds(self.client, message.order_id)
        except NotFoundError:
            raise self._gone(message) from None

    def _event(
        self,
        detail_type: Any,
        key: str,
        message: ReturnReceived,
        returned: list[ReturnedLine],
        refund: Refund | NoRefund,
    ) -> OutboundEvent:
        if detail_type == "Refund Issued":
            assert isinstance(refund, Refund)
            data = refund_issued(self.store_hash, message, refund).model_dump(mode="json")
        else:
            data = return_recorded(self.store_hash, message, returned, refund).model_dump(mode="json")
        return OutboundEvent(
            detail_type=detail_type,
            store_hash=self.store_hash,
            idempotency_key=key,
            data=data,
            occurred_at=datetime.fromtimestamp(self.clock.now(), tz=UTC),
        )

    def _refused(self, message: ReturnReceived, reason: str) -> NeverValid:
        text = f"return {message.warehouse_return_id} of order {message.order_id}: {reason}"
        self.problems.add("return_refused", message.warehouse_return_id, text)
        self.count("returns_refused")
        return NeverValid(text)

    def _refund_refused(self, message: ReturnReceived, reason: str) -> NeverValid:
        text = (
            f"return {message.warehouse_return_id} of order {message.order_id} is recorded, but no refund was made: "
            f"{reason}. To do: refund it by hand, or fix the cause and redrive this message"
        )
        self.problems.add("refund_refused", message.warehouse_return_id, text)
        self.count("refunds_refused")
        return NeverValid(text)

    def _gone(self, message: ReturnReceived) -> NeverValid:
        return self._refused(
            message, "the order is no longer in BigCommerce (archived or deleted): restore it, then redrive the message"
        )


def _quantities(returned: list[ReturnedLine]) -> dict[int, int]:
    quantities: dict[int, int] = {}
    for line in returned:
        quantities[line.order_product_id] = quantities.get(line.order_product_id, 0) + line.quantity
    return quantities
