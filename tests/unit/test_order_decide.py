"""Order import's rules, one row per rule: what an order seen by a scan becomes. No moto, no HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from bcsync.orders.decide import Action, OrderRules, decide
from bcsync.orders.mapping import Skip, WarehouseOrder, build_warehouse_order
from bcsync.orders.state import OrderRecord
from bcsync.store.settings import BusinessHours, StoreSettings
from bigcommerce_client.models import Order

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # a Tuesday
HASH_OF_OTHER_CONTENT = "0" * 32


def _order(
    status_id: int = 11, *, created: datetime = NOW, kind: str = "physical", address: bool = True, refunded: int = 0
) -> Order:
    line = {"id": 1, "order_id": 5, "product_id": 77, "variant_id": 701, "order_address_id": 9, "name": "Tee",
            "sku": "TEE", "type": kind, "quantity": 2, "quantity_refunded": refunded}  # fmt: skip
    shipping = [{"id": 9, "first_name": "Ana", "shipping_method": "Flat Rate", "line_items": [line]}] if address else []
    downloads = [{"id": 10, "line_items": [line]}] if kind == "digital" else []
    return Order.model_validate(
        {
            "id": 5,
            "status_id": status_id,
            "date_created": created.strftime("%a, %d %b %Y %H:%M:%S +0000"),
            "billing_address": {"first_name": "Ana"},
            "consignments": {"shipping": shipping, "pickups": [], "downloads": downloads},
        }
    )


def _record(version: int, *, state: str = "released", content: str | None = None, reason: str = "") -> OrderRecord:
    built = _built(_order())
    content_hash = (
        content if content is not None else (built.content_hash() if isinstance(built, WarehouseOrder) else "")
    )
    return OrderRecord(order_id=5, version=version, content_hash=content_hash, state=state, reason=reason)


def _built(order: Order, released: bool = False, **settings: Any) -> WarehouseOrder | Skip:
    store = StoreSettings(store_hash="abc123", **settings)
    return build_warehouse_order(order, store_hash="abc123", settings=store, released=released)


def _hash(order: Order, **settings: Any) -> str:
    built = _built(order, True, **settings)
    assert isinstance(built, WarehouseOrder)
    return built.content_hash()


def _decide(order: Order, record: OrderRecord | None, **settings: Any) -> Action:
    rules = OrderRules.of(StoreSettings(store_hash="abc123", **settings))
    built = (
        _built(order, record is not None and record.version > 0, **settings)
        if rules.needs_build(order, record)
        else None
    )
    return decide(order, record, built, rules, NOW)


HELD = _record(0, state="held", reason="held until later")
RELEASED = _record(1)
CHANGED = _record(1, content=HASH_OF_OTHER_CONTENT)
ON_HOLD = OrderRecord(order_id=5, version=2, content_hash=_hash(_order(12)), detail_type="Order On Hold")
OPENS = BusinessHours(timezone="UTC", opens=time(11, 0), closes=time(17, 0))

ROWS: list[tuple[str, Order, OrderRecord | None, dict[str, Any], Action]] = [
    ("a new paid order is released as version 1",
     _order(11), None, {}, Action("release", version=1)),
    ("a released order unchanged is offered again under its version",
     _order(11), RELEASED, {}, Action("unchanged", version=1)),
    ("a released order changed is the next version",
     _order(11), CHANGED, {}, Action("update", version=2)),
    ("a released order our own shipment moved to Shipped is unchanged",
     _order(2), RELEASED, {}, Action("unchanged", version=1)),
    ("a released order cancelled is the next version, cancelled",
     _order(5), RELEASED, {}, Action("cancel", version=2)),
    ("a released order refunded in full is cancelled",
     _order(4), RELEASED, {}, Action("cancel", version=2)),
    ("an order awaiting payment is not ours, and BigCommerce holds its stock",
     _order(7), None, {}, Action("not_ours", stock_taken=True)),
    ("an incomplete order is not ours and holds no stock",
     _order(0), None, {}, Action("not_ours")),
    ("a paid order created before the start date is not ours",
     _order(11, created=NOW - timedelta(days=3)), None, {"order_start_date": NOW - timedelta(days=1)},
     Action("not_ours")),
    ("Manual Verification is not released by default, but its stock is taken",
     _order(12), None, {}, Action("not_ours", stock_taken=True)),
    ("a store releasing Awaiting Fulfillment and Manual Verification releases both",
     _order(12), None, {"release_statuses": (11, 12)}, Action("release", version=1)),
    ("a paid order inside the hold window is held until the window ends",
     _order(11, created=NOW - timedelta(minutes=10)), None, {"hold_minutes": 30},
     Action("hold", release_at=NOW + timedelta(minutes=20), stock_taken=True)),
    ("a paid order past its hold window is released",
     _order(11, created=NOW - timedelta(minutes=40)), None, {"hold_minutes": 30}, Action("release", version=1)),
    ("a held order whose window has passed is released from the scan too",
     _order(11, created=NOW - timedelta(minutes=40)), HELD, {"hold_minutes": 30}, Action("release", version=1)),
    ("a paid order outside business hours waits for the opening",
     _order(11), None, {"business_hours": OPENS}, Action("hold", release_at=NOW.replace(hour=11), stock_taken=True)),
    ("a held order that left the release statuses is withdrawn",
     _order(5), HELD, {"hold_minutes": 30},
     Action("withdraw", reason="status 5 before its release", record_skip=True)),
    ("a held order put on Awaiting Payment is withdrawn and still holds its stock",
     _order(7), HELD, {"hold_minutes": 30},
     Action("withdraw", reason="status 7 before its release", record_skip=True, stock_taken=True)),
    ("a digital-only order is skipped by rule, not as a problem",
     _order(11, kind="digital", address=False), None, {},
     Action("skip", reason="digital only: nothing to ship", record_skip=True)),
    ("an order with no address and no pickup is a problem to see",
     _order(11, address=False), None, {},
     Action("skip", reason="no shipping address and no pickup", problem=True, record_skip=True)),
    ("a released order whose every line is refunded is cancelled, not skipped (status 14: shipping not refunded)",
     _order(14, refunded=2), RELEASED, {}, Action("cancel", version=2)),
    ("a released order with only digital lines left is cancelled, not skipped",
     _order(11, kind="digital", address=False), RELEASED, {}, Action("cancel", version=2)),
    ("a released order partly refunded is the next version with what is left",
     _order(14, refunded=1), RELEASED, {}, Action("update", version=2)),
    ("a released order BigCommerce puts on Manual Verification is the next version, on hold",
     _order(12), RELEASED, {}, Action("stop", version=2)),
    ("a released order put on Awaiting Payment is on hold",
     _order(7), RELEASED, {}, Action("stop", version=2)),
    ("a released order disputed is on hold",
     _order(13), RELEASED, {}, Action("stop", version=2)),
    ("an order on hold that stays on hold publishes nothing new",
     _order(12), ON_HOLD, {}, Action("unchanged", version=2)),
    ("an order on hold back in a release status is the next version, free to ship",
     _order(11), ON_HOLD, {}, Action("update", version=3)),
    ("an order on hold cancelled is cancelled: a cancellation wins over a hold",
     _order(5), ON_HOLD, {}, Action("cancel", version=3)),
    ("an order on hold for another reason is the next version, still on hold",
     _order(13), ON_HOLD, {}, Action("stop", version=3)),
    ("a store that releases Manual Verification ships such an order: no hold",
     _order(12), RELEASED, {"release_statuses": (11, 12)}, Action("unchanged", version=1)),
    ("a store with no on-hold statuses holds nothing",
     _order(12), RELEASED, {"on_hold_statuses": ()}, Action("unchanged", version=1)),
    ("a held order put on Manual Verification before its release is withdrawn, never sent, stock still taken",
     _order(12), HELD, {"hold_minutes": 30},
     Action("withdraw", reason="status 12 before its release", record_skip=True, stock_taken=True)),
    ("a skip already recorded with the same reason writes nothing again",
     _order(11, address=False), _record(0, state="skipped", reason="no shipping address and no pickup"), {},
     Action("skip", reason="no shipping address and no pickup", problem=True)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("order", "record", "settings", "expected"), [row[1:] for row in ROWS], ids=[r[0] for r in ROWS]
)
def test_each_rule(order: Order, record: OrderRecord | None, settings: dict[str, Any], expected: Action) -> None:
    assert _decide(order, record, **settings) == expected


def test_the_detail_type_follows_the_action() -> None:
    assert [Action(kind).detail_type for kind in ("release", "update", "stop", "cancel", "unchanged")] == [
        "Order Ready",
        "Order Updated",
        "Order On Hold",
        "Order Cancelled",
        "",
    ]


def test_an_order_that_needs_its_build_and_has_none_is_a_bug_not_a_guess() -> None:
    with pytest.raises(ValueError, match="needs its warehouse order"):
        decide(_order(11), None, None, OrderRules.of(StoreSettings(store_hash="abc123")), NOW)
