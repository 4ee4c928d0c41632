"""The warehouse's `Return Received` (docs/warehouse-contract.md), on the `ReturnsInbound` queue."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from bcsync.warehouse.inbound import InboundModel

Condition = Literal["resellable", "damaged"]


class ReturnLine(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    order_product_id: int | None = Field(
        default=None, gt=0, description="the BigCommerce order line (`id` of the order's products); or `sku`"
    )
    sku: str | None = Field(
        default=None, min_length=1, max_length=255, description="a SKU on exactly one line of the order"
    )
    quantity: int = Field(gt=0, description="units of the line that came back")
    condition: Condition = Field(description="resellable (back to stock) or damaged")
    notes: str = Field(default="", max_length=500, description="the warehouse's note on the line")

    @model_validator(mode="after")
    def _names_a_line(self) -> ReturnLine:
        if self.order_product_id is None and self.sku is None:
            raise ValueError("a return line needs order_product_id or sku")
        return self


class ReturnReceived(InboundModel):
    """Units the warehouse received back for one order, once per `warehouse_return_id`."""

    type: Literal["Return Received"] = Field(description="the message's type")
    order_id: int = Field(gt=0, description="the BigCommerce order the units came back for")
    warehouse_return_id: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^\[\]\s][^\[\]]*$",
        description="the warehouse's id of the return: recorded (and refunded) once per id",
    )
    lines: list[ReturnLine] = Field(min_length=1, max_length=250, description="what came back, line by line")
    notes: str = Field(default="", max_length=2000, description="the warehouse's note on the return")


RETURNS_INBOUND: TypeAdapter[ReturnReceived] = TypeAdapter(ReturnReceived)
