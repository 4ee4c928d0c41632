"""A scheduled run of a store with nothing new (issue #23: a quiet store's month within $0.05): a quiet scan
leaves its cursor, and still reads an order BigCommerce lists late."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bcsync.orders.state import OrderState
from bigcommerce_sandbox import Sandbox, add_order
from local_runtime import LocalDeployment
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


def _run(stack: LocalDeployment, job: str) -> None:
    """A schedule tick of the job, and the job messages it queued run."""
    function, queue, _ = JOBS[job]
    handler: Callable[..., Any] = stack.load_handler(function)
    handler({"action": "tick"}, stack.context(function))
    report = stack.deliver_sqs(queue, handler)
    assert report.failed == 0 and report.errors == 0


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
