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
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bcsync.catalog.mapping import sku_key
from bcsync.orders.subdivisions import state_code
from bcsync.store.settings import StoreSettings
from bigcommerce_client.models import Address, Order, OrderProduct, PickupConsignment, ShippingConsignment

CANCELLED_STATUSES = frozenset({4, 5, 6})  # Refunded, Cancelled, Declined
StatusClass = Literal["active", "cancelled"]
# BigCommerce's names of the statuses a store may hold orders in: the hold's reason, whatever the store renamed.
STATUS_NAMES = {
    0: "Incomplete", 1: "Pending", 2: "Shipped", 3: "Partially Shipped", 4: "Refunded", 5: "Cancelled",
    6: "Declined", 7: "Awaiting Payment", 8: "Awaiting Pickup", 9: "Awaiting Shipment", 10: "Completed",
    11: "Awaiting Fulfillment", 12: "Manual Verification Required", 13: "Disputed", 14: "Partially Refunded",
}  # fmt: skip


class LineOption(BaseModel):
    """One option the customer chose for a line, as BigCommerce shows it to them."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="the option's name as the customer saw it, e.g. Size (BigCommerce's display_name)")
    value: str = Field(description="the value chosen, e.g. L, or the text the customer typed (display_value)")
    option_id: int | None = Field(default=None, description="BigCommerce's id of the option (option_id)")


class FormField(BaseModel):
    """A field of the store's own address form (Storefront > Form Fields), as the customer filled it in."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="the field's name as the store set it up, e.g. Gate code")
    value: str | int | float | list[str] = Field(
        description="what the customer entered: text, a number, or the choices of a checkbox field"
    )


class WarehouseLine(BaseModel):
    """One line of a shipment request: what to pick and pack."""

    model_config = ConfigDict(frozen=True)

    order_product_id: int = Field(description="BigCommerce's id of the order line: send it back in Shipment Confirmed")
    sku: str = Field(description="the SKU as product sync sent it (a fallback key when the line has no SKU)")
    sku_is_fallback: bool = Field(description="the line has no SKU in BigCommerce: the product-sync fallback key")
    sku_in_catalog: bool | None = Field(
        default=None, description="False: product sync never sent this SKU (the warehouse may not know it)"
    )
    name: str = Field(description="the product's name, its options appended (`T-Shirt - Size: L`)")
    quantity: int = Field(description="ordered, minus refunded, minus shipped outside the warehouse")
    product_id: int = Field(description="BigCommerce's product id")
    variant_id: int | None = Field(default=None, description="BigCommerce's variant id; null for a custom product")
    bin_picking_number: str = Field(default="", description="the store's bin picking number, empty when it has none")
    upc: str = Field(default="", description="the UPC BigCommerce has on the line, empty when it has none")
    parent_order_product_id: int | None = Field(default=None, description="set on the children of a bundle")
    gift_wrapping: str | None = Field(default=None, description="the gift wrapping chosen for the line, if any")
    gift_message: str | None = Field(default=None, description="the gift message to enclose, if any")
    # --- from schema_version 3 (every field optional: a consumer of version 2 reads them as absent) ---
    unit_price_ex_tax: Decimal | None = Field(
        default=None, description="price of one unit, excluding tax, in the order's currency_code (price_ex_tax)"
    )
    unit_price_inc_tax: Decimal | None = Field(
        default=None, description="price of one unit, including tax, in the order's currency_code (price_inc_tax)"
    )
    declared_value: Decimal | None = Field(
        default=None,
        description="customs value of the units to ship: unit_price_ex_tax times quantity, in the order's currency_code"
        " (before order-level discounts)",
    )
    hs_code: str | None = Field(
        default=None,
        description="the SKU's HS (tariff) code as product sync last read it from the product's custom fields"
        " (the store's hs_code_fields); null when it has none or product sync has not sent the SKU",
    )
    country_of_origin: str | None = Field(
        default=None,
        description="the SKU's country of origin as product sync last read it (the store's country_of_origin_fields);"
        " null when it has none or product sync has not sent the SKU",
    )
    options: list[LineOption] = Field(
        default_factory=list, description="the options the customer chose, in BigCommerce's order (product_options)"
    )


class PickupLocation(BaseModel):
    """Where the customer collects a pickup order (BigCommerce's pickup consignment `location`)."""

    model_config = ConfigDict(frozen=True)

    id: int | None = Field(default=None, description="BigCommerce's id of the location")
    name: str = Field(default="", description="the location's name")
    code: str = Field(default="", description="the location's code (as in the store's location_map)")
    address_line_1: str = Field(default="", description="street address, first line")
    address_line_2: str = Field(default="", description="street address, second line")
    city: str = Field(default="", description="city")
    state: str = Field(default="", description="state or province, as BigCommerce has it (a name)")
    state_code: str = Field(
        default="", description="ISO 3166-2 subdivision code without the country (TX); empty when not derivable"
    )
    postal_code: str = Field(default="", description="postal code")
    country_alpha2: str = Field(default="", description="ISO 3166-1 alpha-2 country code")
    email: str = Field(default="", description="the location's e-mail address")
    phone: str = Field(default="", description="the location's phone number")


class ShipmentRequest(BaseModel):
    """One parcel's worth of work: a BigCommerce shipping address (or the pickup) and its lines."""

    model_config = ConfigDict(frozen=True)

    order_address_id: int | None = Field(description="BigCommerce's shipping address id; None for a pickup")
    pickup: bool = Field(default=False, description="the customer collects it: no carrier, see pickup_location")
    ship_to: dict[str, str] = Field(
        default_factory=dict,
        description="the shipping address: first_name, last_name, company, street_1, street_2, city, state (a name),"
        " state_code (ISO 3166-2 without the country, e.g. TX; empty when not derivable, from schema_version 3),"
        " zip, country, country_iso2, phone, email; empty for a pickup",
    )
    shipping_method: str = Field(
        default="", description="the shipping method the customer chose, as BigCommerce names it"
    )
    ship_option: str = Field(description="the store's ship_option_map of shipping_method (or its default_ship_option)")
    ship_option_mapped: bool = Field(description="False: shipping_method is not in the map, the default was used")
    lines: list[WarehouseLine] = Field(description="what to ship to this address")
    # --- from schema_version 3 ---
    shipping_cost_ex_tax: Decimal | None = Field(
        default=None, description="what the customer paid to ship to this address, excluding tax (cost_ex_tax)"
    )
    shipping_cost_inc_tax: Decimal | None = Field(
        default=None, description="what the customer paid to ship to this address, including tax (cost_inc_tax)"
    )
    form_fields: list[FormField] = Field(
        default_factory=list,
        description="the store's own fields of the shipping address form, e.g. a gate code or delivery instructions",
    )
    pickup_location: PickupLocation | None = Field(default=None, description="a pickup's location (null when shipped)")
    pickup_method_id: int | None = Field(default=None, description="a pickup's BigCommerce pickup method id")
    pickup_method_name: str = Field(
        default="", description="a pickup method's name as shown to the customer (pickup_method_display_name)"
    )
    collection_instructions: str = Field(
        default="", description="a pickup's instructions to the customer, e.g. Bring your ID"
    )
    collection_time_description: str = Field(
        default="", description="when a pickup is ready to collect, as told to the customer, e.g. 9am - 6pm"
    )


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

    order_id: int = Field(description="BigCommerce's order id")
    store_hash: str = Field(description="the store it belongs to")
    version: int = Field(default=0, description="1 for Order Ready, then one more per change: act on the highest")
    client_code: str = Field(default="", description="the store's client code at the warehouse (its settings)")
    status_id: int = Field(description="BigCommerce's status id when bcsync read the order")
    status: str = Field(default="", description="BigCommerce's status name (as the store may have renamed it)")
    cancelled: bool = Field(default=False, description="True: do not ship (Order Cancelled); shipments may be empty")
    date_created: datetime | None = Field(default=None, description="when the order was placed")
    date_modified: datetime | None = Field(default=None, description="the order's last change in BigCommerce")
    customer: dict[str, str] = Field(default_factory=dict, description="name, email and phone of the billing contact")
    billing_address: dict[str, str] = Field(
        default_factory=dict,
        description="the billing address, with the keys of a shipment's ship_to (state_code from schema_version 3)",
    )
    shipments: list[ShipmentRequest] = Field(description="one per BigCommerce shipping address, or the pickup")
    customer_message: str = Field(default="", description="the customer's comments on the order")
    staff_notes: str = Field(default="", description="the store staff's notes on the order")
    custom_fields: list[dict[str, Any]] = Field(
        default_factory=list, description="the store's own fields of the billing address form, each {name, value}"
    )
    total_inc_tax: Decimal | None = Field(default=None, description="the order's total including tax")
    currency_code: str = Field(default="", description="ISO 4217 code of every amount of the order")
    hold: OrderHold | None = Field(default=None, description="set: the warehouse must not ship it now")
    # --- from schema_version 3 ---
    shipping_cost_ex_tax: Decimal | None = Field(
        default=None, description="the order's shipping cost, excluding tax (every address together)"
    )
    shipping_cost_inc_tax: Decimal | None = Field(
        default=None, description="the order's shipping cost, including tax (every address together)"
    )
    payment_status: str = Field(
        default="",
        description="BigCommerce's payment status: authorized, captured, capture pending, declined, held for review,"
        " paid, partially refunded, pending, refunded, void, void pending; empty when BigCommerce gave none",
    )
    channel_id: int | None = Field(
        default=None, description="the BigCommerce sales channel the order came from (1: the storefront)"
    )

    def content_hash(self) -> str:
        """What makes a new version (docs/design.md): not dates, not the exact status, not the version itself;
        a hold and the status behind it (not since when). Nothing schema_version 3 added is part of it: prices,
        customs data, options (already in the line's name), shipping cost, state codes (the state is in the
        address), form fields, pickup details, payment status and channel - an order released before the
        upgrade keeps its version."""
        relevant = self.model_dump(
            mode="json",
            include={"shipments", "customer_message", "staff_notes", "cancelled", "billing_address", "custom_fields"},
            exclude={
                "shipments": {
                    "__all__": dict.fromkeys(_ADDED_TO_SHIPMENTS, True)
                    | {"lines": {"__all__": _ADDED_TO_LINES}, "ship_to": {"state_code"}}
                },
                "billing_address": {"state_code"},
            },
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

    def with_catalog(self, catalog: Mapping[str, CatalogLine] | AbstractSet[str]) -> WarehouseOrder:
        """Each line flagged with whether product sync has sent its SKU to the warehouse, and given the
        customs data product sync last read for it (`catalog`: the SKUs product sync holds)."""
        known = catalog if isinstance(catalog, Mapping) else dict.fromkeys(catalog, CatalogLine())
        shipments = [
            shipment.model_copy(
                update={
                    "lines": [
                        line.model_copy(
                            update={
                                "sku_in_catalog": line.sku in known,
                                "hs_code": known[line.sku].hs_code if line.sku in known else None,
                                "country_of_origin": known[line.sku].country_of_origin if line.sku in known else None,
                            }
                        )
                        for line in shipment.lines
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


# What the catalog says of a line's SKU (product sync's SKU index), and the fields the content hash leaves out:
# the catalog's news, and everything schema_version 3 added.
@dataclass(frozen=True)
class CatalogLine:
    hs_code: str | None = None
    country_of_origin: str | None = None


_ADDED_TO_LINES = {
    "sku_in_catalog", "unit_price_ex_tax", "unit_price_inc_tax", "declared_value", "hs_code", "country_of_origin",
    "options",
}  # fmt: skip
_ADDED_TO_SHIPMENTS: set[str] = {
    "shipping_cost_ex_tax", "shipping_cost_inc_tax", "form_fields", "pickup_location", "pickup_method_id",
    "pickup_method_name", "collection_instructions", "collection_time_description",
}  # fmt: skip


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
    fields = {name: str(getattr(address, name) or "") for name in _ADDRESS_FIELDS}
    return fields | {"state_code": state_code(fields["country_iso2"], fields["state"])}


def _money(value: Any) -> Decimal | None:
    """An amount as BigCommerce sends it (a string on v2 orders, a number on consignments); None when absent
    or unreadable: a price the warehouse cannot trust is better missing than wrong."""
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        return None
    return amount if amount.is_finite() else None


def _form_fields(raw: Any) -> list[FormField]:
    """An address's form fields as BigCommerce sends them: a value is a string, a number or (a checkbox field)
    a list; anything else is kept as its text, and a field without a name is no field."""
    fields = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict) and item.get("name"):
            value = item.get("value")
            if isinstance(value, list):
                value = [str(choice) for choice in value]
            elif not isinstance(value, (int, float)) or isinstance(value, bool):
                value = "" if value is None else str(value)
            fields.append(FormField(name=str(item["name"]), value=value))
    return fields


# The staff note the returns flow writes on an order (`bcsync.returns.decide.note`) starts with this: it is
# bcsync's own word to the merchant, not a change the warehouse must hear of after it shipped the order.
RETURN_NOTE_PREFIX = "[bcsync return "


def without_return_notes(staff_notes: str) -> str:
    if RETURN_NOTE_PREFIX not in staff_notes:  # notes as they were: an unchanged order stays unchanged
        return staff_notes
    return "\n".join(line for line in staff_notes.split("\n") if not line.startswith(RETURN_NOTE_PREFIX)).strip()


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
    unit_price = _money(extra.get("price_ex_tax"))
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
        unit_price_ex_tax=unit_price,
        unit_price_inc_tax=_money(extra.get("price_inc_tax")),
        declared_value=unit_price * quantity if unit_price is not None else None,
        options=[
            LineOption(name=o.display_name, value=o.display_value, option_id=(o.model_extra or {}).get("option_id"))
            for o in line.product_options
            if o.display_name
        ],
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


# What bcsync writes in `external_source` of the orders it creates in a source store (bcsync.fulfilment).
BCSYNC_EXTERNAL_SOURCE = "bcsync"


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
    if (order.model_extra or {}).get("external_source") == BCSYNC_EXTERNAL_SOURCE:
        # A store that is both a sales channel and a source: this order is one bcsync created from a warehouse
        # fulfillment request, which the warehouse already has; sent back, it would ship twice.
        request = (order.model_extra or {}).get("external_order_id") or "?"
        return Skip(f"created by bcsync from fulfillment request {request}: the warehouse's own order")
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
            shipments.append(_pickup(pickup, mapped_lines, settings))
    shipments = [shipment for shipment in shipments if shipment.lines]
    if not shipments and not released:
        if consignments.downloads:
            return Skip("digital only: nothing to ship")
        return Skip("no shipping address and no pickup", problem=True)
    billing = order.billing_address
    extra = billing.model_extra or {}
    order_extra = order.model_extra or {}
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
        staff_notes=without_return_notes(order.staff_notes),
        custom_fields=[field for field in extra.get("form_fields") or [] if isinstance(field, dict)],
        total_inc_tax=order.total_inc_tax,
        currency_code=order.currency_code,
        hold=hold_of(order, settings, cancelled=cancelled),
        shipping_cost_ex_tax=_money(order_extra.get("shipping_cost_ex_tax")),
        shipping_cost_inc_tax=_money(order_extra.get("shipping_cost_inc_tax")),
        payment_status=str(order_extra.get("payment_status") or ""),
        channel_id=order.channel_id,
    )


def _shipment(
    consignment: ShippingConsignment,
    lines: list[OrderProduct],
    settings: StoreSettings,
    shipped_by_bcsync: Mapping[int, int] | None,
) -> ShipmentRequest:
    option, is_mapped = ship_option(settings, consignment.shipping_method)
    extra = consignment.model_extra or {}
    return ShipmentRequest(
        order_address_id=consignment.id,
        ship_to=_address(consignment),
        shipping_method=consignment.shipping_method,
        ship_option=option,
        ship_option_mapped=is_mapped,
        lines=[line for line in (_line(item, shipped_by_bcsync) for item in lines) if line is not None],
        shipping_cost_ex_tax=_money(extra.get("cost_ex_tax")),
        shipping_cost_inc_tax=_money(extra.get("cost_inc_tax")),
        form_fields=_form_fields(extra.get("form_fields")),
    )


def _pickup(pickup: PickupConsignment, lines: list[WarehouseLine], settings: StoreSettings) -> ShipmentRequest:
    """A pickup consignment as BigCommerce embeds it: its method, instructions and location come with it."""
    option, is_mapped = ship_option(settings, "Pickup")
    extra = pickup.model_extra or {}
    location = extra.get("location")
    return ShipmentRequest(
        order_address_id=None,
        pickup=True,
        ship_option=option,
        ship_option_mapped=is_mapped,
        shipping_method="Pickup",
        lines=lines,
        pickup_location=_location(location) if isinstance(location, dict) else None,
        pickup_method_id=pickup.pickup_method_id,
        pickup_method_name=str(extra.get("pickup_method_display_name") or ""),
        collection_instructions=str(extra.get("collection_instructions") or ""),
        collection_time_description=str(extra.get("collection_time_description") or ""),
    )


def _location(location: dict[str, Any]) -> PickupLocation:
    text = {
        name: str(location.get(name) or "") for name in PickupLocation.model_fields if name not in ("id", "state_code")
    }
    identifier = location.get("id")
    return PickupLocation(
        id=identifier if isinstance(identifier, int) and not isinstance(identifier, bool) else None,
        state_code=state_code(text["country_alpha2"], text["state"]),
        **text,
    )
