"""The writeback's status moves, one row per rule: which BigCommerce status bcsync moves an order to."""

from __future__ import annotations

from typing import Any

import pytest

from bcsync.orders.state import OrderRecord
from bcsync.shipments.decide import (
    AWAITING_PICKUP,
    AWAITING_SHIPMENT,
    COMPLETED,
    MAX_RECEIVES,
    StatusRules,
    WarehouseStatus,
    gives_up,
    may_post_shipment,
    move_failure,
    move_on_pickup,
    move_on_shipment,
    move_on_status,
)
from bigcommerce_client import (
    AuthenticationError,
    BigCommerceError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UnprocessableError,
)
from tests.aws import load_template

LINES = [{"order_product_id": 1, "sku": "A", "quantity": 2, "order_address_id": 9}]


def _record(*, warehouse_status: str = "", shipped: int = 0) -> OrderRecord:
    shipments = {"w1": {1: shipped}} if shipped else {}
    return OrderRecord(order_id=5, version=1, lines=LINES, shipments=shipments, warehouse_status=warehouse_status)


@pytest.mark.parametrize(
    ("status", "record", "rules", "expected"),
    [
        ("acknowledged", _record(), StatusRules(awaiting_shipment_on_ack=True), AWAITING_SHIPMENT),
        ("acknowledged", _record(), StatusRules(), None),
        ("acknowledged", _record(warehouse_status="acknowledged"), StatusRules(awaiting_shipment_on_ack=True), None),
        ("rejected", _record(), StatusRules(awaiting_shipment_on_ack=True), None),
        ("backordered", _record(), StatusRules(awaiting_shipment_on_ack=True), None),
    ],
    ids=["ack moves to 9", "ack without the setting moves nothing", "a second ack moves nothing",
         "a rejection moves nothing", "a backorder moves nothing"],
)  # fmt: skip
def test_a_warehouse_status(status: WarehouseStatus, record: OrderRecord, rules: StatusRules, expected: int) -> None:
    assert move_on_status(status, record, rules) == expected


@pytest.mark.parametrize(
    ("shipped", "rules", "expected"),
    [(2, StatusRules(complete_orders=True), COMPLETED), (1, StatusRules(complete_orders=True), None),
     (2, StatusRules(), None)],
    ids=["every line shipped completes", "a partial shipment does not", "not without the setting"],
)  # fmt: skip
def test_after_a_shipment(shipped: int, rules: StatusRules, expected: int | None) -> None:
    assert move_on_shipment(_record(shipped=shipped), rules) == expected


def test_a_pickup_waits_for_its_customer_unless_the_store_takes_none() -> None:
    assert move_on_pickup(StatusRules()) == AWAITING_PICKUP
    assert move_on_pickup(StatusRules(pickup_to_awaiting_pickup=False)) is None


RULES = StatusRules(release_statuses=frozenset({11}))


@pytest.mark.parametrize(
    ("current", "to", "forward"),
    [
        (11, AWAITING_SHIPMENT, True),  # acknowledged while Awaiting Fulfillment
        (5, AWAITING_SHIPMENT, False),  # a late ack must not un-cancel
        (2, AWAITING_SHIPMENT, False),  # ... nor un-ship
        (10, AWAITING_SHIPMENT, False),  # ... nor un-complete
        (9, AWAITING_SHIPMENT, False),  # already there
        (11, AWAITING_PICKUP, True),
        (9, AWAITING_PICKUP, True),
        (4, AWAITING_PICKUP, False),  # refunded
        (2, COMPLETED, True),
        (3, COMPLETED, True),
        (9, COMPLETED, True),
        (5, COMPLETED, False),
        (7, COMPLETED, False),  # awaiting payment again
        (12, AWAITING_SHIPMENT, False),  # manual verification: not released
    ],
)
def test_bcsync_moves_a_status_only_forward(current: int, to: int, forward: bool) -> None:
    assert RULES.moves_forward(current, to) is forward


def test_a_store_releasing_manual_verification_may_move_it_on() -> None:
    assert StatusRules(release_statuses=frozenset({11, 12})).moves_forward(12, AWAITING_SHIPMENT)


WHERE: dict[str, Any] = {"store_hash": "abc123", "method": "PUT", "path": "/v2/orders/5"}


@pytest.mark.parametrize(
    ("error", "verdict"),
    [
        (ServerError("BigCommerce answered 500", status=500, **WHERE), "retry"),
        (NetworkError("the connection dropped", **WHERE), "retry"),
        (RateLimitedError("rate limited", retry_after=30, retry_at=None, **WHERE), "retry"),
        (AuthenticationError("the token was revoked", status=401, **WHERE), "retry"),  # may be rotated meanwhile
        (UnprocessableError("status_id is not valid", status=422, **WHERE), "never"),
        (NotFoundError("the order does not exist", status=404, **WHERE), "never"),
    ],
    ids=["5xx", "dropped", "429", "401", "422", "404"],
)
def test_a_failed_status_put_is_retried_with_its_message_unless_bigcommerce_refused_it(
    error: BigCommerceError, verdict: str
) -> None:
    assert move_failure(error) == verdict


def test_a_failing_move_is_given_up_on_the_queues_last_receive_and_not_before() -> None:
    assert [gives_up(count) for count in range(1, MAX_RECEIVES + 2)] == [False] * (MAX_RECEIVES - 1) + [True, True]


def test_the_last_receive_is_the_queues_own_max_receive_count() -> None:
    """Past it SQS's redrive dead-letters the message without a reason: the writeback must say why first."""
    queue = load_template()["Resources"]["ShipmentsInbound"]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == MAX_RECEIVES


@pytest.mark.parametrize(
    ("bigcommerce_status", "posted"),
    [
        (11, True),
        (9, True),
        (3, True),
        (14, True),
        (12, True),
        (13, True),
        (7, True),
        (4, False),
        (5, False),
        (6, False),
    ],
)
def test_a_shipment_is_never_written_to_a_cancelled_refunded_or_declined_order(
    bigcommerce_status: int, posted: bool
) -> None:
    """BigCommerce moves an order it has a shipment for to Shipped: to a cancelled one, that revives it. On
    hold (7, 12, 13) the parcel left anyway, and BigCommerce should say so."""
    assert may_post_shipment(bigcommerce_status) is posted
