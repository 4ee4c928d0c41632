"""BigCommerce order → the warehouse order (`Order Ready` data), and what decides a new version.

An order's version changes only when what the warehouse acts on changes: lines and quantities (net of
refunds and of units shipped outside the warehouse, by hand from the store), addresses, ship option,
notes, the status class (active or cancelled) and whether (and why) it must not ship now (its hold).
Our own shipments move `date_modified` and the status to (Partially) Shipped; neither is a new version
(bcsync knows which units it wrote back).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bcsync.catalog.mapping import sku_key
from bcsync.store.settings import StoreSettings
from bigcommerce_client.models import Address, Order, OrderProduct, ShippingConsignment

CANCELLED_STATUSES = frozenset({4, 5, 6})  # Refunded, Cancelled, Declined
StatusClass = Literal["active", "cancelled"]
# BigCommerce's names of the statuses a store may hold orders in: the hold's reason, whatever the store renamed.
STATUS_NAMES = {
    0: "Incomplete", 1: "Pending", 2: "Shipped", 3: "Partially Shipped", 4: "Refunded", 5: "Cancelled",
    6: "Declined", 7: "Awaiting Payment", 8: "Awaiting Pickup", 9: "Awaiting Shipment", 10: "Completed",
    11: "Awaiting Fulfillment", 12: "Manual Verification Required", 13: "Disputed", 14: "Partially Refunded",
}  # fmt: skip


class WarehouseLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_product_id: int
    sku: str
    sku_is_fallback: bool = Field(description="the line has no SKU in BigCommerce: the product-sync fallback key")
    sku_in_catalog: bool | None = Field(
        default=None, description="False: product sync never sent this SKU (the warehouse may not know it)"
    )
    name: str
    quantity: int = Field(description="ordered, minus refunded, minus shipped outside the warehouse")
    product_id: int
    variant_id: int | None = None
    bin_picking_number: str = ""
    upc: str = ""
    parent_order_product_id: int | None = Field(default=None, description="set on the children of a bundle")
    gift_wrapping: str | None = None
    gift_message: str | None = None


class ShipmentRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_address_id: int | None = Field(description="BigCommerce's shipping address id; None for a pickup")
    pickup: bool = False
    ship_to: dict[str, str] = Field(default_factory=dict)
    shipping_method: str = ""
    ship_option: str
    ship_option_mapped: bool
    lines: list[WarehouseLine]


class OrderHold(BaseModel):
    """Why a released order must not ship now (`Order On Hold`); the warehouse learns it may ship again from
    the next version, whose `hold` is null."""

    model_config = ConfigDict(frozen=True)

    reason: str = Field(description="BigCommerce's name of the status that holds it, e.g. Disputed")
    bigcommerce_status_id: int = Field(description="the status that holds it (the store's on_hold_statuses)")
    since: datetime | None = Field(
        default=None,
        description="the order's last change in BigCommerce as bcsync saw it on hold: the status change, or later",
    )


class WarehouseOrder(BaseModel):
    """The `data` of `Order Ready` / `Order Updated` / `Order On Hold` / `Order Cancelled`."""

    model_config = ConfigDict(frozen=True)

    order_id: int
    store_hash: str
    version: int = 0
    client_code: str = ""
    status_id: int
    status: str = ""
    cancelled: bool = False
    date_created: datetime | None = None
    date_modified: datetime | None = None
    customer: dict[str, str] = Field(default_factory=dict)
    billing_address: dict[str, str] = Field(default_factory=dict)
    shipments: list[ShipmentRequest]
    customer_message: str = ""
    staff_notes: str = ""
    custom_fields: list[dict[str, Any]] = Field(default_factory=list)
    total_inc_tax: Decimal | None = None
    currency_code: str = ""
    hold: OrderHold | None = Field(default=None, description="set: the warehouse must not ship it now")

    def content_hash(self) -> str:
        """What makes a new version (docs/design.md): not dates, not the exact status, not the version itself;
        a hold and the status behind it (not since when)."""
        relevant = self.model_dump(
            mode="json",
            include={"shipments", "customer_message", "staff_notes", "cancelled", "billing_address", "custom_fields"},
            exclude={"shipments": {"__all__": {"lines": {"__all__": {"sku_in_catalog"}}}}},  # the catalog's news
        )
        if self.hold is not None:  # only then: an order never held keeps the hash its record was written with
            relevant["hold"] = self.hold.bigcommerce_status_id
        encoded = json.dumps(relevant, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(encoded).hexdigest()[:32]

    def lines(self) -> list[WarehouseLine]:
        return [line for shipment in self.shipments for line in shipment.lines]

    def skus(self) -> dict[str, int]:
        """The stock the order holds, per warehouse SKU."""
        skus: dict[str, int] = {}
        for line in self.lines():
            if line.quantity > 0:
                skus[line.sku] = skus.get(line.sku, 0) + line.quantity
        return skus

    def with_catalog(self, known_skus: set[str]) -> WarehouseOrder:
        """Each line flagged with whether product sync has sent its SKU to the warehouse."""
        shipments = [
            shipment.model_copy(
                update={
                    "lines": [
                        line.model_copy(update={"sku_in_catalog": line.sku in known_skus}) for line in shipment.lines
                    ]
                }
            )
            for shipment in self.shipments
        ]
        return self.model_copy(update={"shipments": shipments})

    def with_ship_options(self, settings: StoreSettings) -> WarehouseOrder:
        """Each shipment's ship option as the store's map says now: a held order goes out with the map in
        force at its release (a method the merchant mapped while it was held goes out mapped)."""
        shipments = []
        for shipment in self.shipments:
            option, is_mapped = ship_option(settings, shipment.shipping_method)
            shipments.append(shipment.model_copy(update={"ship_option": option, "ship_option_mapped": is_mapped}))
        return self.model_copy(update={"shipments": shipments})


@dataclass(frozen=True)
class Skip:
    """Recorded, never sent: why this order does not go to the warehouse."""

    reason: str
    problem: bool = False  # a problem the operator must see (as opposed to a rule, like digital-only)


_ADDRESS_FIELDS = (
    "first_name", "last_name", "company", "street_1", "street_2", "city", "state", "zip", "country",
    "country_iso2", "phone", "email",
)  # fmt: skip


def _address(address: Address) -> dict[str, str]:
    return {name: str(getattr(address, name) or "") for name in _ADDRESS_FIELDS}


def shipped_elsewhere(line: OrderProduct, shipped_by_bcsync: Mapping[int, int] | None) -> int:
    """Units of a line BigCommerce has shipped that bcsync did not write back: shipped by hand from the store
    (or by another app). The warehouse must not ship them again."""
    return max(line.quantity_shipped - (shipped_by_bcsync or {}).get(line.id, 0), 0)


def _line(line: OrderProduct, shipped_by_bcsync: Mapping[int, int] | None = None) -> WarehouseLine | None:
    """None for a line the warehouse does not ship (digital, gift certificate, fully refunded or shipped
    outside the warehouse)."""
    if line.type != "physical":
        return None
    extra = line.model_extra or {}
    quantity = line.quantity - int(extra.get("quantity_refunded") or 0) - shipped_elsewhere(line, shipped_by_bcsync)
    if quantity <= 0:
        return None
    options = ", ".join(f"{o.display_name}: {o.display_value}" for o in line.product_options if o.display_name)
    return WarehouseLine(
        order_product_id=line.id,
        sku=sku_key(
            sku=line.sku, product_id=line.product_id, variant_id=line.variant_id, has_options=bool(line.product_options)
        ),
        sku_is_fallback=not (line.sku or "").strip(),
        name=f"{line.name} - {options}" if options else line.name,
        quantity=quantity,
        product_id=line.product_id,
        variant_id=line.variant_id,
        bin_picking_number=str(extra.get("bin_picking_number") or ""),
        upc=str(extra.get("upc") or ""),
        parent_order_product_id=extra.get("parent_order_product_id") or None,
        gift_wrapping=str(extra.get("wrapping_name") or "") or None,
        gift_message=str(extra.get("wrapping_message") or "") or None,
    )


def status_class(status_id: int) -> StatusClass:
    return "cancelled" if status_id in CANCELLED_STATUSES else "active"


def hold_of(order: Order, settings: StoreSettings, *, cancelled: bool) -> OrderHold | None:
    """The hold of an order in one of the store's on-hold statuses. A cancellation wins over a hold, and a
    release status is never one (the store chose to ship orders in it)."""
    status_id = order.status_id
    if cancelled or status_id not in settings.on_hold_statuses or status_id in settings.release_statuses:
        return None
    reason = STATUS_NAMES.get(status_id) or order.status or f"status {status_id}"
    return OrderHold(reason=reason, bigcommerce_status_id=status_id, since=order.date_modified)


def ship_option(settings: StoreSettings, shipping_method: str) -> tuple[str, bool]:
    mapped = settings.ship_option_map.get(shipping_method)
    return (mapped, True) if mapped else (settings.default_ship_option, False)


def build_warehouse_order(
    order: Order,
    *,
    store_hash: str,
    settings: StoreSettings,
    shipping_lines: dict[int, list[OrderProduct]] | None = None,
    released: bool = False,
    shipped_by_bcsync: Mapping[int, int] | None = None,
) -> WarehouseOrder | Skip:
    """The warehouse order, or why there is none. `shipping_lines` (address id → lines) replaces the
    embedded lines of consignments BigCommerce truncated at 50. An order the warehouse already has
    (`released`) with nothing left to ship - every line refunded, or only digital lines left - is that
    order cancelled, never a skip: a skip would leave the warehouse shipping its last version."""
    consignments = order.embedded_consignments
    if consignments is None:
        return Skip("the order came without its consignments", problem=True)
    shipments: list[ShipmentRequest] = []
    for consignment in consignments.shipping:
        lines = (shipping_lines or {}).get(consignment.id, consignment.line_items)
        shipments.append(_shipment(consignment, lines, settings, shipped_by_bcsync))
    for pickup in consignments.pickups:
        mapped_lines = [line for line in (_line(item, shipped_by_bcsync) for item in pickup.line_items) if line]
        if mapped_lines:
            option, is_mapped = ship_option(settings, "Pickup")
            shipments.append(
                ShipmentRequest(
                    order_address_id=None, pickup=True, ship_option=option, ship_option_mapped=is_mapped,
                    shipping_method="Pickup", lines=mapped_lines,
                )
            )  # fmt: skip
    shipments = [shipment for shipment in shipments if shipment.lines]
    if not shipments and not released:
        if consignments.downloads:
            return Skip("digital only: nothing to ship")
        return Skip("no shipping address and no pickup", problem=True)
    billing = order.billing_address
    extra = billing.model_extra or {}
    cancelled = status_class(order.status_id) == "cancelled" or not shipments
    return WarehouseOrder(
        order_id=order.id,
        store_hash=store_hash,
        client_code=settings.client_code,
        status_id=order.status_id,
        status=order.status,
        cancelled=cancelled,
        date_created=order.date_created,
        date_modified=order.date_modified,
        customer={
            "name": f"{billing.first_name} {billing.last_name}".strip(),
            "email": billing.email,
            "phone": billing.phone,
        },
        billing_address=_address(billing),
        shipments=shipments,
        customer_message=order.customer_message,
        staff_notes=order.staff_notes,
        custom_fields=[field for field in extra.get("form_fields") or [] if isinstance(field, dict)],
        total_inc_tax=order.total_inc_tax,
        currency_code=order.currency_code,
        hold=hold_of(order, settings, cancelled=cancelled),
    )


def _shipment(
    consignment: ShippingConsignment,
    lines: list[OrderProduct],
    settings: StoreSettings,
    shipped_by_bcsync: Mapping[int, int] | None,
) -> ShipmentRequest:
    option, is_mapped = ship_option(settings, consignment.shipping_method)
    return ShipmentRequest(
        order_address_id=consignment.id,
        ship_to=_address(consignment),
        shipping_method=consignment.shipping_method,
        ship_option=option,
        ship_option_mapped=is_mapped,
        lines=[line for line in (_line(item, shipped_by_bcsync) for item in lines) if line is not None],
    )
