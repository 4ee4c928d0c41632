"""BigCommerce order → warehouse order: what is sent, what is skipped, what makes a new version."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bcsync.orders.mapping import OrderHold, Skip, WarehouseOrder, build_warehouse_order
from bcsync.store.settings import StoreSettings
from bigcommerce_client.models import Order

SETTINGS = StoreSettings(store_hash="abc123", client_code="ACME", ship_option_map={"Flat Rate": "GROUND"})


def _line(
    line_id: int, *, sku: str = "TEE-L", quantity: int = 2, refunded: int = 0, kind: str = "physical"
) -> dict[str, Any]:
    return {
        "id": line_id, "order_id": 5, "product_id": 77, "variant_id": 701, "order_address_id": 9, "name": "T-Shirt",
        "sku": sku, "type": kind, "quantity": quantity, "quantity_refunded": refunded,
        "product_options": [{"display_name": "Size", "display_value": "L"}],
        "wrapping_name": "Gift box", "wrapping_message": "Happy birthday",
    }  # fmt: skip


def _order(*, status_id: int = 11, lines: list[dict[str, Any]] | None = None, **changes: Any) -> Order:
    shipping = [{"id": 9, "first_name": "Ana", "city": "Austin", "shipping_method": "Flat Rate",
                 "line_items": lines if lines is not None else [_line(1)]}]  # fmt: skip
    body: dict[str, Any] = {
        "id": 5, "status_id": status_id, "customer_message": "ring twice", "billing_address": {"first_name": "Ana"},
        "consignments": {"shipping": shipping, "pickups": [], "downloads": []},
    }  # fmt: skip
    body.update(changes)
    return Order.model_validate(body)


def _build(order: Order) -> WarehouseOrder:
    built = build_warehouse_order(order, store_hash="abc123", settings=SETTINGS)
    assert isinstance(built, WarehouseOrder)
    return built


def test_a_line_carries_its_key_name_with_options_net_quantity_and_gift_message() -> None:
    built = _build(_order(lines=[_line(1, quantity=3, refunded=1)]))
    (line,) = built.lines()
    assert (line.order_product_id, line.sku, line.name, line.quantity) == (1, "TEE-L", "T-Shirt - Size: L", 2)
    assert (line.gift_wrapping, line.gift_message) == ("Gift box", "Happy birthday")
    assert built.shipments[0].ship_option == "GROUND" and built.client_code == "ACME"
    assert built.customer_message == "ring twice"


def test_a_line_without_sku_gets_the_product_sync_fallback_key_and_is_flagged() -> None:
    (line,) = _build(_order(lines=[_line(1, sku="")])).lines()
    assert (line.sku, line.sku_is_fallback) == ("BC-77-701", True)


def test_an_unmapped_shipping_method_gets_the_default_ship_option_and_says_so() -> None:
    order = _order()
    assert order.embedded_consignments is not None
    order.embedded_consignments.shipping[0].shipping_method = "Overnight Express"
    shipment = _build(order).shipments[0]
    assert (shipment.ship_option, shipment.ship_option_mapped) == ("STANDARD", False)


def test_shipping_or_a_status_move_is_not_a_new_version_but_a_cancellation_or_refund_is() -> None:
    first = _build(_order()).content_hash()
    assert _build(_order(status_id=2, date_shipped="Tue, 20 Nov 2012 00:00:00 +0000")).content_hash() == first
    assert _build(_order(status_id=9)).content_hash() == first
    assert _build(_order(status_id=5)).content_hash() != first
    assert _build(_order(lines=[_line(1, refunded=1)])).content_hash() != first
    assert _build(_order(customer_message="leave at the door")).content_hash() != first


def test_digital_only_is_skipped_by_rule_and_no_address_is_a_problem() -> None:
    digital = _order(lines=[_line(1, kind="digital")])
    assert digital.embedded_consignments is not None
    digital.embedded_consignments.downloads = [{"id": 3}]
    assert build_warehouse_order(digital, store_hash="abc123", settings=SETTINGS) == Skip(
        "digital only: nothing to ship"
    )
    nowhere = _order(consignments={"shipping": [], "pickups": [], "downloads": []})
    skipped = build_warehouse_order(nowhere, store_hash="abc123", settings=SETTINGS)
    assert isinstance(skipped, Skip) and skipped.problem


def test_a_fully_refunded_line_is_not_sent() -> None:
    built = _build(_order(lines=[_line(1), _line(2, sku="CAP", quantity=1, refunded=1)]))
    assert [line.sku for line in built.lines()] == ["TEE-L"]


def test_the_catalog_flag_tells_the_warehouse_without_making_a_new_version() -> None:
    built = _build(_order(lines=[_line(1), _line(2, sku="CAP")]))
    flagged = built.with_catalog({"TEE-L"})
    assert [(line.sku, line.sku_in_catalog) for line in flagged.lines()] == [("TEE-L", True), ("CAP", False)]
    assert flagged.content_hash() == built.content_hash()


def test_an_order_never_on_hold_keeps_the_hash_its_record_was_written_with() -> None:
    # Records written before orders carried `hold` hold this hash: were it to change, every released order
    # touched again would go out as a new version.
    built = _build(_order())
    assert built.model_dump(mode="json")["hold"] is None
    assert built.content_hash() == "8d0d24f57f7c73ca2856476bf1c446af"


def test_an_on_hold_status_holds_the_order_with_its_reason_and_is_a_new_version_but_not_since_when() -> None:
    touched = "Tue, 01 Dec 2026 10:00:00 +0000"
    held = _build(_order(status_id=12, date_modified=touched))
    assert held.hold == OrderHold(
        reason="Manual Verification Required",
        bigcommerce_status_id=12,
        since=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
    )
    assert held.content_hash() != _build(_order()).content_hash()
    later = _build(_order(status_id=12, date_modified="Tue, 01 Dec 2026 11:00:00 +0000"))
    assert later.content_hash() == held.content_hash()
    assert _build(_order(status_id=13)).content_hash() != held.content_hash()  # another reason


def test_a_cancellation_wins_over_a_hold_and_a_release_status_is_never_one() -> None:
    everything_held = SETTINGS.with_changes({"on_hold_statuses": [5, 7, 11, 12]})
    cancelled = build_warehouse_order(_order(status_id=5), store_hash="abc123", settings=everything_held)
    paid = build_warehouse_order(_order(status_id=11), store_hash="abc123", settings=everything_held)
    assert isinstance(cancelled, WarehouseOrder) and isinstance(paid, WarehouseOrder)
    assert (cancelled.cancelled, cancelled.hold, paid.hold) == (True, None, None)


def test_units_shipped_outside_the_warehouse_are_not_sent_and_units_bcsync_wrote_back_still_are() -> None:
    shipped = [
        {**_line(1, quantity=3), "quantity_shipped": 2},
        {**_line(2, sku="CAP", quantity=1), "quantity_shipped": 1},
    ]

    def quantities(shipped_by_bcsync: dict[int, int] | None) -> dict[int, int]:
        built = build_warehouse_order(
            _order(lines=shipped), store_hash="abc123", settings=SETTINGS, shipped_by_bcsync=shipped_by_bcsync
        )
        assert isinstance(built, WarehouseOrder)
        return {line.order_product_id: line.quantity for line in built.lines()}

    assert quantities(None) == {1: 1}  # two of line 1 and the cap shipped by hand: one unit left for the warehouse
    assert quantities({1: 2, 2: 1}) == {1: 3, 2: 1}  # all of it written back by bcsync: the order as ordered
    assert quantities({1: 1}) == {1: 2}  # one of each shipped by hand


def test_an_order_bcsync_created_from_a_fulfillment_request_is_never_sent_back_to_the_warehouse() -> None:
    # A store that is both a sales channel and a source: the warehouse sent this order in; sending it back
    # as an Order Ready would ship it twice. Another app's order is sent as any other.
    ours = _order(external_source="bcsync", external_order_id="PO-10045")
    skipped = build_warehouse_order(ours, store_hash="abc123", settings=SETTINGS)
    assert skipped == Skip("created by bcsync from fulfillment request PO-10045: the warehouse's own order")
    assert not skipped.problem
    _build(_order(external_source="marketplace-app", external_order_id="M-1"))
