"""Pydantic models of the BigCommerce resources the four jobs use.

Tolerant by design: unknown fields are kept (`extra="allow"`), and only the fields the jobs
read are declared. BigCommerce returns money as strings in v2 and numbers in v3; both are
kept as `Decimal`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _rfc2822_or_iso(value: Any) -> Any:
    """v2 dates are RFC 2822 (`Tue, 20 Nov 2012 00:00:00 +0000`), v3 dates ISO 8601; '' is no date."""
    if value in ("", None):
        return None
    if isinstance(value, str) and not value[:4].isdigit():
        return parsedate_to_datetime(value)
    return value


BcDateTime = Annotated[datetime | None, BeforeValidator(_rfc2822_or_iso)]


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


Money = Annotated[Decimal | None, BeforeValidator(_blank_to_none)]


class BcModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


# --- orders (v2) -----------------------------------------------------------------------------


class Address(BcModel):
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    street_1: str = ""
    street_2: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    country_iso2: str = ""
    phone: str = ""
    email: str = ""


class ShippingAddress(Address):
    id: int
    order_id: int | None = None
    shipping_method: str = ""
    items_total: int = 0
    items_shipped: int = 0


class ProductOption(BcModel):
    display_name: str = ""
    display_value: str = ""


class OrderProduct(BcModel):
    id: int  # the order *line* id: shipments name it as order_product_id
    order_id: int
    product_id: int = 0
    variant_id: int | None = None
    order_address_id: int = 0
    name: str = ""
    sku: str = ""
    type: str = "physical"  # physical | digital | giftcertificate
    quantity: int = 0
    quantity_shipped: int = 0
    product_options: list[ProductOption] = Field(default_factory=list)


class ConsignmentWarning(BcModel):
    message: str = ""


class ShippingConsignment(Address):
    id: int  # equals the order shipping address id (order_address_id)
    shipping_method: str = ""
    items_total: int = 0
    items_shipped: int = 0
    line_items: list[OrderProduct] = Field(default_factory=list)
    warning: ConsignmentWarning | None = Field(default=None, alias="__warning__")

    @property
    def line_items_truncated(self) -> bool:
        """BigCommerce embeds at most 50 lines per consignment and says so only in `__warning__`."""
        return self.warning is not None


class PickupConsignment(BcModel):
    id: int
    pickup_method_id: int | None = None
    line_items: list[OrderProduct] = Field(default_factory=list)


class Consignments(BcModel):
    shipping: list[ShippingConsignment] = Field(default_factory=list)
    pickups: list[PickupConsignment] = Field(default_factory=list)
    downloads: list[dict[str, Any]] = Field(default_factory=list)


class ConsignmentLink(BcModel):
    """What `consignments` is without `include=consignments`: a pointer, not data."""

    url: str = ""
    resource: str


def _consignments(value: Any) -> Any:
    if isinstance(value, dict) and "resource" in value and not {"shipping", "pickups", "downloads"} & value.keys():
        return ConsignmentLink.model_validate(value)
    return value


class Order(BcModel):
    id: int
    status_id: int
    status: str = ""
    customer_id: int = 0
    date_created: BcDateTime = None
    date_modified: BcDateTime = None
    date_shipped: BcDateTime = None
    items_total: int = 0
    items_shipped: int = 0
    total_inc_tax: Money = None
    currency_code: str = ""
    customer_message: str = ""
    staff_notes: str = ""
    channel_id: int | None = None
    billing_address: Address = Field(default_factory=Address)
    # `{url, resource}` without include=consignments; the object structure with it.
    consignments: Annotated[Consignments | ConsignmentLink | None, BeforeValidator(_consignments)] = None

    @property
    def embedded_consignments(self) -> Consignments | None:
        return self.consignments if isinstance(self.consignments, Consignments) else None


class ShipmentItem(BcModel):
    order_product_id: int
    quantity: int
    product_id: int | None = None


class Shipment(BcModel):
    id: int
    order_id: int
    order_address_id: int
    tracking_number: str = ""
    tracking_carrier: str = ""
    tracking_link: str = ""
    shipping_method: str = ""
    comments: str = ""
    date_created: BcDateTime = None
    items: list[ShipmentItem] = Field(default_factory=list)


class ShipmentCreate(BaseModel):
    """The body of `POST /v2/orders/{id}/shipments`; strict, since we send it."""

    model_config = ConfigDict(extra="forbid")

    order_address_id: int
    items: list[ShipmentItem] = Field(min_length=1)
    tracking_number: str = Field(default="", max_length=50)
    tracking_carrier: str = ""
    tracking_link: str = Field(default="", max_length=500)
    shipping_method: str = ""
    comments: str = Field(default="", max_length=65535)


# --- catalog (v3) ----------------------------------------------------------------------------


class OptionValue(BcModel):
    id: int | None = None
    label: str = ""
    option_id: int | None = None
    option_display_name: str = ""


class Variant(BcModel):
    id: int
    product_id: int
    sku: str | None = None
    sku_id: int | None = None
    price: Decimal | None = None
    retail_price: Decimal | None = None
    cost_price: Decimal | None = None
    weight: Decimal | None = None
    width: Decimal | None = None
    height: Decimal | None = None
    depth: Decimal | None = None
    upc: str | None = None
    gtin: str | None = None
    mpn: str | None = None
    bin_picking_number: str | None = None
    image_url: str | None = None
    inventory_level: int | None = None
    purchasing_disabled: bool = False
    option_values: list[OptionValue] = Field(default_factory=list)


class ProductImage(BcModel):
    id: int | None = None
    is_thumbnail: bool = False
    sort_order: int = 0
    url_zoom: str | None = None
    url_standard: str | None = None


class CustomField(BcModel):
    id: int | None = None
    name: str
    value: str


class Product(BcModel):
    id: int
    name: str
    type: str = "physical"
    sku: str | None = None
    is_visible: bool = True
    inventory_tracking: Literal["none", "product", "variant"] = "none"
    inventory_level: int | None = None
    brand_id: int | None = None
    categories: list[int] = Field(default_factory=list)
    price: Decimal | None = None
    retail_price: Decimal | None = None
    cost_price: Decimal | None = None
    weight: Decimal | None = None
    width: Decimal | None = None
    height: Decimal | None = None
    depth: Decimal | None = None
    upc: str | None = None
    gtin: str | None = None
    mpn: str | None = None
    bin_picking_number: str | None = None
    date_modified: BcDateTime = None
    variants: list[Variant] = Field(default_factory=list)
    images: list[ProductImage] = Field(default_factory=list)
    custom_fields: list[CustomField] = Field(default_factory=list)


class Brand(BcModel):
    id: int
    name: str


class Category(BcModel):
    """One row of `GET /v3/catalog/trees/categories`: a flat, paged list; `parent_id` 0 is a root."""

    category_id: int
    parent_id: int = 0
    tree_id: int | None = None
    name: str
    is_visible: bool = True


# --- inventory and locations (v3) ------------------------------------------------------------


class InventoryIdentity(BcModel):
    sku: str | None = None
    variant_id: int | None = None
    product_id: int | None = None
    sku_id: int | None = None


class InventoryAtLocation(BcModel):
    location_id: int
    available_to_sell: int = 0
    total_inventory_onhand: int = 0


class InventoryItem(BcModel):
    identity: InventoryIdentity
    locations: list[InventoryAtLocation] = Field(default_factory=list)


class AbsoluteAdjustment(BaseModel):
    """One item of `PUT /v3/inventory/adjustments/absolute`: exactly one of the three keys."""

    model_config = ConfigDict(extra="forbid")

    location_id: int
    quantity: int = Field(ge=0)
    variant_id: int | None = None
    product_id: int | None = None
    sku: str | None = None

    def key_fields(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class Location(BcModel):
    id: int
    code: str = ""
    label: str = ""
    enabled: bool = True
    type_id: str = ""


# --- webhooks (v3) ---------------------------------------------------------------------------


class Hook(BcModel):
    id: int
    scope: str
    destination: str
    is_active: bool = True
    headers: dict[str, str] | None = None
