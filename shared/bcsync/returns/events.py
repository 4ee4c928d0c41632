"""`Return Recorded` and `Refund Issued`: what the returns flow tells the bus (docs/warehouse-contract.md).
Pure: the models (their JSON Schemas are the contract's) and how they are built."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from bcsync.returns.decide import NoRefund, ReturnedLine
from bcsync.returns.inbound import Condition, ReturnReceived
from bigcommerce_client.refunds import Refund


class RecordedLine(BaseModel):
    """One returned line, as recorded on the order."""

    order_product_id: int = Field(description="the BigCommerce order line the units came back for")
    sku: str = Field(description="that line's SKU")
    quantity: int = Field(description="units of the line that came back")
    condition: Condition = Field(description="what the warehouse found: resellable or damaged")


class ReturnRecordedData(BaseModel):
    """`data` of `Return Recorded`: the return is on the BigCommerce order (a staff note)."""

    store_hash: str = Field(description="the BigCommerce store of the order")
    order_id: int = Field(description="the BigCommerce order id")
    warehouse_return_id: str = Field(description="the warehouse's id of the return, as it sent it")
    lines: list[RecordedLine] = Field(description="the returned lines, each resolved to its order line")
    refunded: bool = Field(description="whether a refund was made for this return (then a `Refund Issued` follows)")
    no_refund_reason: str = Field(default="", description="why no refund was made, when none was")


class RefundIssuedData(BaseModel):
    """`data` of `Refund Issued`: BigCommerce made this refund for the return."""

    store_hash: str = Field(description="the BigCommerce store of the order")
    order_id: int = Field(description="the BigCommerce order id")
    warehouse_return_id: str = Field(description="the return the refund was made for")
    refund_id: int = Field(description="BigCommerce's id of the refund")
    amount: Decimal = Field(description="what BigCommerce refunded, in the order's currency (a decimal string)")


def return_recorded(
    store_hash: str, message: ReturnReceived, returned: list[ReturnedLine], refund: Refund | NoRefund
) -> ReturnRecordedData:
    return ReturnRecordedData(
        store_hash=store_hash,
        order_id=message.order_id,
        warehouse_return_id=message.warehouse_return_id,
        lines=[
            RecordedLine(
                order_product_id=line.order_product_id, sku=line.sku, quantity=line.quantity, condition=line.condition
            )
            for line in returned
        ],
        refunded=isinstance(refund, Refund),
        no_refund_reason=refund.reason if isinstance(refund, NoRefund) else "",
    )


def refund_issued(store_hash: str, message: ReturnReceived, refund: Refund) -> RefundIssuedData:
    return RefundIssuedData(
        store_hash=store_hash,
        order_id=message.order_id,
        warehouse_return_id=message.warehouse_return_id,
        refund_id=refund.id,
        amount=refund.total_amount,
    )
