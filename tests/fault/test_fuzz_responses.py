"""Generated malformed BigCommerce answers through order import as deployed: orders with a field gone,
null, of another type or huge, and whole pages cut short or replaced. No exception leaves the handler,
the well-formed orders beside a bad one all reach the warehouse once, and a bad one is recorded with
its reason or imported - never lost without a word."""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st
from pydantic import ValidationError

from bcsync.orders.state import OrderState
from bcsync.store.jobs import JobState
from bigcommerce_client import VirtualClock
from bigcommerce_client.models import Order
from bigcommerce_sandbox import Exchange, Sandbox, add_order
from local_runtime import LocalDeployment
from tests.aws import drain
from tests.fault.generated import OneThingWrong, json_values, one_thing_wrong, whole_runs
from tests.stores import connected_once

STORE = "fzr111"
ORDERS_PER_PAGE = 10
# make fault: 100 pages (1,000 orders, most of them malformed); make test: 8.
EXAMPLES = 100 if float(os.environ.get("FAULT_SCALE", "0")) >= 1 else 8

# Each order of the page: as served (None) or with one thing wrong; sometimes the whole page is broken.
# All drawn before the import runs: the sandbox answers from its own thread.
order_faults = st.lists(st.none() | one_thing_wrong, min_size=ORDERS_PER_PAGE, max_size=ORDERS_PER_PAGE)
page_faults = st.none() | st.floats(0, 1, exclude_max=True) | json_values.filter(lambda v: not isinstance(v, list))


class BreakOnce:
    """Breaks the first order page served, then lets BigCommerce's answers through. A page fault is
    where to cut the body short (a fraction of its length) or another JSON value to send instead."""

    def __init__(self, order_plan: list[OneThingWrong | None], page_fault: Any, orders: list[int]) -> None:
        self.order_plan, self.page_fault = order_plan, page_fault
        # This example's orders. A page may also hold an earlier example's (the scan's overlap reads them
        # again): those were imported already, so breaking them would test nothing and "lose" nothing.
        self.orders = orders
        self.broken: dict[int, Any] = {}  # order id as served → the row sent instead
        self.how: dict[int, str] = {}
        self.done = False

    def __call__(self, exchange: Exchange, payload: bytes) -> bytes | None:
        if self.done or (exchange.method, exchange.api_path) != ("GET", "/v2/orders"):
            return None
        rows = json.loads(payload)
        position = {row["id"]: n for n, row in enumerate(rows)}
        if not all(order in position for order in self.orders):
            return None
        self.done = True
        if isinstance(self.page_fault, float):
            return payload[: int(len(payload) * self.page_fault)]
        if self.page_fault is not None:
            return json.dumps(self.page_fault).encode()
        for order, wrong in zip(self.orders, self.order_plan, strict=True):
            if wrong is not None:
                n = position[order]
                self.how[order] = wrong.describe(rows[n])
                rows[n] = self.broken[order] = wrong.apply(rows[n])
        return json.dumps(rows).encode()


def _import_until_done(stack: LocalDeployment, clock: VirtualClock) -> list[dict[str, Any]]:
    """A schedule tick, then its job messages, delivered again as SQS would until none is left."""
    handler = stack.load_handler("OrderImportFunction")
    handler({"action": "tick"}, stack.context("OrderImportFunction"))
    for _ in range(4):
        report = stack.deliver_sqs("OrderImportJobs", handler)
        assert report.errors == 0, report  # no exception left the handler
        if report.failed == 0:
            break
        clock.advance(stack.function_timeout("OrderImportFunction") * 6)  # the visibility timeout
    assert report.failed == 0, "a job message still failing after its retries"
    return drain(stack, "WarehouseOutbound")


FUZZ = whole_runs(EXAMPLES, shrink=False)


@FUZZ
@given(order_plan=order_faults, page_fault=page_faults)
def test_malformed_order_pages_never_lose_the_good_orders_nor_fail_silently(
    local_world: tuple[LocalDeployment, Sandbox],
    clock: VirtualClock,
    order_plan: list[OneThingWrong | None],
    page_fault: Any,
) -> None:
    stack, sandbox = local_world
    store = connected_once(local_world, STORE, "tok-fzr111-fz", products=4)
    clock.advance(600)
    product = next(p for p in store.products.values() if p["is_visible"])
    orders = [add_order(store, lines=[(product, product["variants"][0], 1)]) for _ in range(ORDERS_PER_PAGE)]
    event(
        "page cut short"
        if isinstance(page_fault, float)
        else "orders broken"
        if page_fault is None
        else "page replaced"
    )
    breaker = BreakOnce(order_plan, page_fault, orders)
    sandbox.rewrite = breaker
    try:
        events = _import_until_done(stack, clock)
    finally:
        sandbox.rewrite = None

    assert breaker.done
    ready = Counter(e["detail"]["data"]["order_id"] for e in events if e["detail-type"] == "Order Ready")
    good = [order for order in orders if order not in breaker.broken]
    assert {order: ready[order] for order in good} == dict.fromkeys(good, 1)
    assert all(count == 1 for count in ready.values()), ready  # no version published twice
    table = stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])
    state = OrderState(table, STORE)
    run = JobState(table).last_run(STORE, "order_import")
    assert run is not None and run.outcome == "done"
    unreadable = [problem for problem in run.problems if ": unreadable: " in problem]
    for order, sent in breaker.broken.items():
        if order in ready or _readable(sent):
            continue  # imported, or read as sent (a status or id that is wrong but well-formed is BigCommerce's word)
        record = state.get(order)
        recorded = record is not None and record.state == "skipped" and record.reason
        # An unreadable order has its own record, or (its id unreadable too) is named in the run's problems.
        assert recorded or unreadable, f"order {order} was unreadable and left no trace: {breaker.how[order]}"


def _readable(row: Any) -> bool:
    try:
        Order.model_validate(row)
    except ValidationError:
        return False
    return True
