"""What one scheduled run costs a store with nothing new, in DynamoDB write units counted on the wire (issue
#23: a quiet store's month within $0.05), and that a quiet scan that leaves its cursor still reads an order
BigCommerce lists late."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bcsync.orders.state import OrderState
from bigcommerce_sandbox import Sandbox, add_order
from local_runtime import LocalDeployment, iam
from local_runtime.moto_server import AwsRequest
from local_runtime.usage import AwsUsage
from tests.aws import drain
from tests.stores import connected_store

World = tuple[LocalDeployment, Sandbox]
STORE = "idle01"
# Each ticked job: its function, its queue, and the most write units one idle scheduled run of it may cost
# (the tick's claim of the store's turn included). Before: 6, 6, 6 and 4.
JOBS = {
    "order_import": ("OrderImportFunction", "OrderImportJobs", 3),
    "readback": ("ReadbackFunction", "ReadbackJobs", 2),
    "product_sync": ("ProductSyncFunction", "ProductSyncJobs", 2),
    "inventory_push": ("InventoryPushFunction", "InventoryPushJobs", 2),
}
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


class Writes:
    """One function's requests from `start()` on: their usage, and each write as `Operation pk / sk`."""

    def __init__(self, stack: LocalDeployment) -> None:
        self._stack, self.function, self.usage, self.items = stack, "", AwsUsage(), list[str]()

    def start(self, function: str) -> None:
        self.function, self.usage, self.items = function, AwsUsage(), []

    def __call__(self, request: AwsRequest) -> None:
        if iam.caller_of(request.caller) != (self._stack.stack_name, self.function):
            return
        self.usage.observe(request)
        operation = request.operation.rpartition(".")[2]
        if request.service == "dynamodb" and operation in WRITES:
            body: dict[str, Any] = json.loads(request.body or b"{}")
            key = body.get("Key") or body.get("Item") or {}
            self.items.append(f"{operation} {key.get('pk', {}).get('S', '')} / {key.get('sk', {}).get('S', '')}")


@pytest.fixture
def writes(local_stack: LocalDeployment) -> Iterator[Writes]:
    observer = Writes(local_stack)
    local_stack.observe_aws(observer)
    yield observer
    local_stack.unobserve_aws(observer)


def _run(stack: LocalDeployment, job: str) -> int:
    """A schedule tick of the job, and the job messages it queued run: how many."""
    function, queue, _ = JOBS[job]
    handler: Callable[..., Any] = stack.load_handler(function)
    handler({"action": "tick"}, stack.context(function))
    report = stack.deliver_sqs(queue, handler)
    assert report.failed == 0 and report.errors == 0
    return report.delivered


def test_a_scheduled_run_that_finds_nothing_writes_at_most_its_lease_its_record_and_its_turn(
    local_world: World, writes: Writes
) -> None:
    stack, _ = local_world
    connected_store(local_world, STORE, "tok-idle01-ic", products=2)
    stack.clock.advance(600)  # type: ignore[attr-defined]  # the products seeded outside the next delta's overlap
    for job in JOBS:  # each job's first run: the backlog, the full sync, the cursors set
        _run(stack, job)
    drain(stack, "WarehouseOutbound")
    stack.clock.advance(3_600)  # type: ignore[attr-defined]  # every turn due again; nothing changed meanwhile

    costs: dict[str, float] = {}
    for job, (function, _, most) in JOBS.items():
        writes.start(function)
        assert _run(stack, job) == 1, f"{job}: the store's turn was not due"
        costs[job] = writes.usage.dynamodb_write_units
        assert costs[job] <= most, f"{job}: {costs[job]} write units: {writes.items}"

    assert drain(stack, "WarehouseOutbound") == []  # nothing new: nothing published
    assert sum(costs.values()) <= 9, costs


def test_a_quiet_scan_leaves_the_cursor_and_an_order_listed_late_is_still_imported(
    local_world: World,
) -> None:
    """BigCommerce may list an order a while after its `date_modified` (the overlap covers the usual lag): a
    scan that found nothing leaves the cursor where it was, so the next scan's window still holds that time."""
    stack, _ = local_world
    store = connected_store(local_world, STORE, "tok-idle01-ic", products=2)
    _run(stack, "product_sync")
    drain(stack, "WarehouseOutbound")
    _run(stack, "order_import")  # the first run: the backlog, and the cursor set
    table = stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])
    cursor = OrderState(table, STORE).cursor()
    assert cursor is not None
    stack.clock.advance(3_600)  # type: ignore[attr-defined]  # far past the overlap (2 minutes)
    _run(stack, "order_import")  # finds nothing

    product = next(p for p in store.products.values() if p["is_visible"])
    late = add_order(store, lines=[(product, product["variants"][0], 1)], at=cursor.timestamp() + 60)
    stack.clock.advance(600)  # type: ignore[attr-defined]  # the store's next turn
    _run(stack, "order_import")

    released = [e["detail"]["data"]["order_id"] for e in drain(stack, "WarehouseOutbound")]
    assert late in released


def test_a_run_whose_orders_fit_one_page_writes_no_checkpoint(local_world: World, writes: Writes) -> None:
    """A checkpoint is for a run that continues or dies between pages: a run of one page (most runs) records its
    progress in its cursor alone, not in a checkpoint written and deleted again (2 units a run)."""
    stack, _ = local_world
    store = connected_store(local_world, STORE, "tok-idle01-ic", products=2)
    _run(stack, "product_sync")
    _run(stack, "order_import")  # the first run: the backlog, and the cursor set
    drain(stack, "WarehouseOutbound")
    product = next(p for p in store.products.values() if p["is_visible"])
    orders = [add_order(store, lines=[(product, product["variants"][0], 1)]) for _ in range(3)]
    stack.clock.advance(3_600)  # type: ignore[attr-defined]  # the store's next turn

    writes.start("OrderImportFunction")
    _run(stack, "order_import")

    assert sorted(e["detail"]["data"]["order_id"] for e in drain(stack, "WarehouseOutbound")) == orders
    assert [item for item in writes.items if item.endswith("/ CHECKPOINT")] == []
