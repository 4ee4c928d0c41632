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

    schema_version: Literal[1] = 1
    store_hash: StoreHash


class ShipmentLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_product_id: int | None = Field(default=None, gt=0)
    sku: str | None = Field(default=None, min_length=1, max_length=255)
    quantity: int = Field(gt=0)

    @model_validator(mode="after")
    def _names_a_line(self) -> ShipmentLine:
        if self.order_product_id is None and self.sku is None:
            raise ValueError("a shipment line needs order_product_id or sku")
        return self


class ShipmentConfirmed(InboundModel):
    type: Literal["Shipment Confirmed"]
    order_id: int = Field(gt=0)
    warehouse_shipment_id: str = Field(min_length=1, max_length=200)
    tracking_number: str = Field(default="", max_length=50)
    carrier: str = Field(default="", max_length=100)
    service: str = Field(default="", max_length=200)
    tracking_link: str | None = Field(default=None, max_length=500)
    lines: list[ShipmentLine] = Field(min_length=1)
    order_address_id: int | None = Field(default=None, gt=0)
    pickup: bool = False


class OrderAcknowledged(InboundModel):
    type: Literal["Order Acknowledged"]
    order_id: int = Field(gt=0)


class OrderRejected(InboundModel):
    type: Literal["Order Rejected"]
    order_id: int = Field(gt=0)
    reason: str = Field(min_length=1, max_length=2000)


class OrderBackordered(InboundModel):
    type: Literal["Order Backordered"]
    order_id: int = Field(gt=0)
    skus: list[str] = Field(default_factory=list)


class OrderChangeTooLate(InboundModel):
    """The warehouse could not apply a version bcsync sent: the parcel had left before the cancel or the
    update reached it."""

    type: Literal["Order Change Too Late"]
    order_id: int = Field(gt=0)
    # The `Order Updated` / `Order Cancelled` version it could not apply: `version` in its data, `v{n}` in
    # its idempotency key. Version 1 is the order itself, never a change.
    version: int = Field(ge=2)
    change: Literal["cancel", "update"]
    reason: str = Field(min_length=1, max_length=2000)
    warehouse_shipment_id: str | None = Field(default=None, min_length=1, max_length=200)


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

    sku: str = Field(min_length=1, max_length=255)
    location: str = Field(min_length=1, max_length=100)
    fulfillable: Quantity
    exception: Quantity = 0


class StockLevelHeader(InboundModel):
    """A `Stock Level` message but its items, which are read one by one: a bad item is reported, and
    never stops the others."""

    type: Literal["Stock Level"]
    as_of: AwareDatetime
    # full: every SKU at the locations the message names; a SKU stored for such a location and missing
    # from the message has nothing there any more. delta: only the SKUs listed changed.
    mode: Literal["full", "delta"]


class StockLevel(StockLevelHeader):
    items: list[StockItem] = Field(min_length=1)


class BundleComponent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=255)
    quantity: int = Field(gt=0)


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

    type: Literal["Bundle Definition"]
    schema_version: Literal[1, 2] = 1  # type: ignore[assignment]  # the one message with a second version
    as_of: AwareDatetime | None = Field(default=None, validate_default=True)
    bundle_sku: str = Field(min_length=1, max_length=255)
    components: list[BundleComponent] = Field(min_length=1)

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
