"""Generated warehouse messages through the real handlers: each is processed or dead-lettered with a reason,
a bad one never fails the others in its batch, no exception leaves a handler."""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bcsync.inventory.state import StockState
from bigcommerce_sandbox import Sandbox
from local_runtime import LocalDeployment
from tests.aws import reason_of
from tests.fault.generated import json_values, one_thing_wrong, whole_runs
from tests.stores import connected_once

STORE = "fuzz111"
# make fault: 1,000 generated messages per queue; make test: 200.
BATCHES, PER_BATCH = (10 if float(os.environ.get("FAULT_SCALE", "0")) >= 1 else 2), 100

SHIPMENT = {"type": "Shipment Confirmed", "schema_version": 1, "store_hash": STORE, "order_id": 1001,
            "warehouse_shipment_id": "WH-1", "tracking_number": "1Z1", "carrier": "UPS", "service": "Ground",
            "lines": [{"order_product_id": 5, "quantity": 1}], "order_address_id": 7}  # fmt: skip
STOCK = {"type": "Stock Level", "schema_version": 1, "store_hash": STORE, "as_of": "2026-11-23T10:00:00Z",
         "mode": "delta", "items": [{"sku": "A", "location": "MAIN", "fulfillable": 3, "exception": 0}]}  # fmt: skip
TOO_LATE = {"type": "Order Change Too Late", "schema_version": 1, "store_hash": STORE, "order_id": 1001,
            "version": 2, "change": "cancel", "reason": "shipped", "warehouse_shipment_id": "WH-1"}  # fmt: skip
BUNDLE = {"type": "Bundle Definition", "schema_version": 2, "store_hash": STORE, "as_of": "2026-11-23T10:00:00Z",
          "bundle_sku": "BOX", "components": [{"sku": "A", "quantity": 2}]}  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, valid: dict[str, Any]) -> str:
    """A valid message with one thing wrong (a field anywhere gone, null, of another type, huge), or cut short."""
    text = json.dumps(draw(one_thing_wrong).apply(valid))
    if draw(st.integers(0, 4)) == 0:
        text = text[: draw(st.integers(0, len(text) - 1))]  # truncated JSON
    return text


def bodies(valid: dict[str, Any]) -> st.SearchStrategy[str]:
    return st.one_of(mutated(valid), json_values.map(json.dumps), st.text(max_size=50))


def _deliver(
    stack: LocalDeployment, queue: str, function: str, messages: list[str]
) -> tuple[Any, list[dict[str, Any]]]:
    sqs = stack.client("sqs")
    for body in messages:
        sqs.send_message(QueueUrl=stack.physical[queue]["Ref"], MessageBody=body or " ")
    report = stack.deliver_sqs(queue, stack.load_handler(function))
    dead = stack.take_messages(f"{queue}DLQ")
    return report, dead


FUZZ = whole_runs(BATCHES)


@FUZZ
@given(generated=st.lists(st.one_of(bodies(STOCK), bodies(BUNDLE)), min_size=PER_BATCH, max_size=PER_BATCH))
def test_generated_stock_messages_are_kept_or_dead_lettered_and_a_good_one_beside_them_is_kept(
    local_world: tuple[LocalDeployment, Sandbox], generated: list[str]
) -> None:
    stack, _ = local_world
    connected_once(local_world, STORE, "tok-fuzz111-fz", products=1)
    good = {**STOCK, "as_of": "2026-11-23T10:00:00.123456Z", "items": [{"sku": "KEEP-ME", "location": "MAIN",
                                                                          "fulfillable": 7}]}  # fmt: skip
    report, dead = _deliver(stack, "StockInbound", "InventoryPushFunction", [*generated, json.dumps(good)])

    assert report.errors == 0 and report.failed == 0, report  # nothing raised, nothing retried
    assert all(reason_of(m) for m in dead)
    table = stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])
    kept = [item for entry in StockState(table, STORE).inbox() for item in entry.items]
    assert ("KEEP-ME", "MAIN", 7, 0) in kept


@FUZZ
@given(generated=st.lists(st.one_of(bodies(SHIPMENT), bodies(TOO_LATE)), min_size=PER_BATCH, max_size=PER_BATCH))
def test_generated_shipment_messages_are_dead_lettered_with_a_reason_and_none_raises(
    local_world: tuple[LocalDeployment, Sandbox], generated: list[str]
) -> None:
    stack, _ = local_world
    connected_once(local_world, STORE, "tok-fuzz111-fz", products=1)

    report, dead = _deliver(stack, "ShipmentsInbound", "TrackingWritebackFunction", generated)

    # No order was ever sent to the warehouse in this store: every message, readable or not, is refused.
    assert report.errors == 0 and report.failed == 0, report
    assert len(dead) == PER_BATCH
    assert all(reason_of(m) for m in dead)
