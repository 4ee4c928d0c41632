"""Inbound messages from the warehouse (docs/design.md, "Inbound messages").

Plain JSON bodies on SQS, each `{type, schema_version, store_hash, ...}`. A message that can
never be valid is moved to its queue's DLQ by the handler, with the reason and the source
message id as message attributes, and reported as processed; transient failures go back
through `batchItemFailures` and SQS redrive dead-letters them after maxReceiveCount.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bcsync.store.settings import StoreHash


class InboundModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    schema_version: Literal[1] = Field(default=1, description="the message's version: 1")
    store_hash: StoreHash = Field(description="the store the message is about, as in the events bcsync sent")


class ShipmentLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_product_id: int | None = Field(default=None, gt=0, description="the line's order_product_id, as received")
    sku: str | None = Field(
        default=None, min_length=1, max_length=255, description="instead of order_product_id: a SKU on one line only"
    )
    quantity: int = Field(gt=0, description="units of the line in this package")

    @model_validator(mode="after")
    def _names_a_line(self) -> ShipmentLine:
        if self.order_product_id is None and self.sku is None:
            raise ValueError("a shipment line needs order_product_id or sku")
        return self


class ShipmentConfirmed(InboundModel):
    type: Literal["Shipment Confirmed"] = Field(description="one package has left (or a pickup is ready)")
    order_id: int = Field(gt=0, description="BigCommerce's order id, as received")
    warehouse_shipment_id: str = Field(
        min_length=1,
        max_length=200,
        description="your id of the package: written to BigCommerce once, however often sent",
    )
    tracking_number: str = Field(default="", max_length=50, description="the carrier's tracking number")
    carrier: str = Field(default="", max_length=100, description="your carrier's name: bcsync maps it to BigCommerce's")
    service: str = Field(default="", max_length=200, description="the carrier's service, e.g. Ground")
    tracking_link: str | None = Field(
        default=None, max_length=500, description="a tracking URL: give it when BigCommerce may not know the carrier"
    )
    lines: list[ShipmentLine] = Field(min_length=1, description="what is in the package")
    order_address_id: int | None = Field(default=None, gt=0, description="the shipment request's order_address_id")
    pickup: bool = Field(default=False, description="True: a pickup order is ready to collect (no shipment is made)")


class OrderAcknowledged(InboundModel):
    type: Literal["Order Acknowledged"] = Field(description="the warehouse has the order")
    order_id: int = Field(gt=0, description="BigCommerce's order id, as received")


class OrderRejected(InboundModel):
    type: Literal["Order Rejected"] = Field(description="the warehouse will not ship the order")
    order_id: int = Field(gt=0, description="BigCommerce's order id, as received")
    reason: str = Field(min_length=1, max_length=2000, description="why, for a person to read")


class OrderBackordered(InboundModel):
    type: Literal["Order Backordered"] = Field(description="the warehouse lacks stock to ship the order now")
    order_id: int = Field(gt=0, description="BigCommerce's order id, as received")
    skus: list[str] = Field(default_factory=list, description="the SKUs it lacks")


class OrderChangeTooLate(InboundModel):
    """The warehouse could not apply a version bcsync sent: the parcel had left before the cancel or the
    update reached it."""

    type: Literal["Order Change Too Late"] = Field(description="a cancel or an update came after the parcel left")
    order_id: int = Field(gt=0, description="BigCommerce's order id, as received")
    # The `Order Updated` / `Order Cancelled` version it could not apply: `version` in its data, `v{n}` in
    # its idempotency key. Version 1 is the order itself, never a change.
    version: int = Field(ge=2, description="the version that could not be applied (2 or more)")
    change: Literal["cancel", "update"] = Field(description="what that version was: cancel or update")
    reason: str = Field(min_length=1, max_length=2000, description="why, for a person to read")
    warehouse_shipment_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="the package that left, when known"
    )


# What the tracking writeback acts on (`shipments.writeback`).
ShipmentsInboundMessage = Annotated[
    ShipmentConfirmed | OrderAcknowledged | OrderRejected | OrderBackordered, Field(discriminator="type")
]
# Everything the ShipmentsInbound queue carries, the queue's JSON Schema: the writeback's messages and the
# warehouse's answer that a change came too late (`shipments.too_late`).
ShipmentsQueueMessage = Annotated[
    ShipmentConfirmed | OrderAcknowledged | OrderRejected | OrderBackordered | OrderChangeTooLate,
    Field(discriminator="type"),
]


# Quantities are whole numbers as JSON has them: "5" or 5.0 is a warehouse bug to report, not to guess at.
Quantity = Annotated[int, Field(strict=True, ge=0)]


class StockItem(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: str = Field(min_length=1, max_length=255, description="the SKU as product sync sent it")
    location: str = Field(min_length=1, max_length=100, description="your location name (the store's location_map)")
    fulfillable: Quantity = Field(description="units you could ship now, orders you already have set aside")
    exception: Quantity = Field(default=0, description="units held back: damaged, in QC")


class StockLevelHeader(InboundModel):
    """A `Stock Level` message but its items, which are read one by one: a bad item is reported, and
    never stops the others."""

    type: Literal["Stock Level"] = Field(description="what you hold, per SKU and location")
    as_of: AwareDatetime = Field(description="when you counted, with its time zone: an older level is ignored")
    # full: every SKU at the locations the message names; a SKU stored for such a location and missing
    # from the message has nothing there any more. delta: only the SKUs listed changed.
    mode: Literal["full", "delta"] = Field(
        description="delta: only the SKUs listed changed; full: a SKU not listed has nothing at the locations named"
    )


class StockLevel(StockLevelHeader):
    items: list[StockItem] = Field(min_length=1, description="one per SKU and location")


class BundleComponent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=255, description="a component SKU")
    quantity: int = Field(gt=0, description="units of it in one bundle")


BUNDLE_SCHEMA_VERSION = 2  # 2: `as_of` is required. 1 (no `as_of`) is still read: docs/warehouse-contract.md


class BundleDefinition(InboundModel):
    # A bundle recipe is dated like a stock level: SQS is not FIFO and a retry comes back after the visibility
    # timeout, so without a time an older recipe delivered late would replace a newer one.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"schema_version": {"const": 2}}, "required": ["schema_version"]},
            "then": {"properties": {"as_of": {"type": "string"}}, "required": ["as_of"]},
        }
    )

    type: Literal["Bundle Definition"] = Field(description="what a bundle SKU is made of")
    schema_version: Literal[1, 2] = Field(  # type: ignore[assignment]  # the one message with a second version
        default=1, description="2 (with as_of); 1 is deprecated"
    )
    as_of: AwareDatetime | None = Field(
        default=None, validate_default=True, description="when you set the recipe, with its time zone (required in 2)"
    )
    bundle_sku: str = Field(min_length=1, max_length=255, description="the bundle's SKU")
    components: list[BundleComponent] = Field(min_length=1, description="its components and their quantities")

    @field_validator("as_of")
    @classmethod
    def _dated_from_version_2(cls, as_of: datetime | None, info: ValidationInfo) -> datetime | None:
        if as_of is None and info.data.get("schema_version", 1) >= 2:
            raise ValueError("required from schema_version 2: when the recipe was set, with its time zone")
        return as_of


StockInboundMessage = Annotated[StockLevel | BundleDefinition, Field(discriminator="type")]

SHIPMENTS_INBOUND: TypeAdapter[ShipmentsInboundMessage] = TypeAdapter(ShipmentsInboundMessage)
SHIPMENTS_QUEUE: TypeAdapter[ShipmentsQueueMessage] = TypeAdapter(ShipmentsQueueMessage)
STOCK_INBOUND: TypeAdapter[StockInboundMessage] = TypeAdapter(StockInboundMessage)
