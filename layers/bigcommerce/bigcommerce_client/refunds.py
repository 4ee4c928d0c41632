"""An order's staff notes and its v3 payment actions: refund quotes, refunds, the refunds made.

Built on `BigCommerceClient.request`: a `POST` is never retried by the client (BigCommerce may have acted on
it), so a caller that must not refund twice keeps an intent record and reads `list_refunds` before trying
again. BigCommerce takes one refund at a time per order (orders.v3.yml, "Create a Refund").
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from .client import BigCommerceClient
from .errors import MalformedResponseError
from .models import BcModel
from .retry import bigcommerce_retrying, wait_for_bigcommerce

ItemType = Literal["PRODUCT", "GIFT_WRAPPING", "SHIPPING", "HANDLING", "ORDER", "FEE"]


class RefundLine(BcModel):
    """One order line to refund, by quantity (a `PRODUCT` item: BigCommerce prices it)."""

    item_id: int  # the order_product id
    quantity: int = Field(gt=0)
    reason: str = Field(default="", max_length=1000)

    def body(self) -> dict[str, Any]:
        item: dict[str, Any] = {"item_type": "PRODUCT", "item_id": self.item_id, "quantity": self.quantity}
        if self.reason:
            item["reason"] = self.reason
        return item


class PaymentOption(BcModel):
    provider_id: str
    provider_description: str = ""
    amount: Decimal
    offline: bool = False
    offline_provider: bool = False
    offline_reason: str = ""


class RefundQuote(BcModel):
    order_id: int
    total_refund_amount: Decimal
    total_refund_tax_amount: Decimal = Decimal(0)
    adjustment: Decimal = Decimal(0)
    refund_methods: list[list[PaymentOption]] = Field(default_factory=list)


class RefundPayment(BcModel):
    provider_id: str
    amount: Decimal
    offline: bool = False
    is_declined: bool = False
    declined_message: str = ""


class RefundItem(BcModel):
    item_type: str = ""
    item_id: int | None = None
    quantity: int | None = None
    reason: str = ""


class Refund(BcModel):
    id: int
    order_id: int
    reason: str = ""
    total_amount: Decimal
    items: list[RefundItem] = Field(default_factory=list)
    payments: list[RefundPayment] = Field(default_factory=list)


def _data(body: Any, what: str, path: str, store_hash: str) -> Any:
    if not isinstance(body, dict) or "data" not in body:
        raise MalformedResponseError(
            f"BigCommerce's {what} has no data", store_hash=store_hash, method="POST", path=path
        )
    return body["data"]


def create_refund_quote(client: BigCommerceClient, order_id: int, lines: list[RefundLine]) -> RefundQuote:
    """What BigCommerce would refund for these lines now, and through which payment methods. A POST that writes
    nothing, so it is retried as a GET is (the client retries no POST by itself)."""
    path = f"/v3/orders/{order_id}/payment_actions/refund_quotes"
    retrying = bigcommerce_retrying(
        "GET",
        attempts=client.max_attempts,
        max_wait_seconds=client.governor.max_wait_seconds,
        wait=wait_for_bigcommerce(),
        sleep=client.clock.sleep,
    )
    body = retrying(client.request, "POST", path, json={"items": [line.body() for line in lines]})
    return RefundQuote.model_validate(_data(body, "refund quote", path, client.store_hash))


def create_refund(
    client: BigCommerceClient, order_id: int, lines: list[RefundLine], payments: list[PaymentOption]
) -> Refund:
    """Moves money. Never retried by the client: a dropped connection may hide a refund made."""
    path = f"/v3/orders/{order_id}/payment_actions/refunds"
    body = client.request(
        "POST",
        path,
        json={
            "items": [line.body() for line in lines],
            "payments": [
                {"provider_id": option.provider_id, "amount": float(option.amount), "offline": option.offline}
                for option in payments
            ],
        },
    )
    return Refund.model_validate(_data(body, "refund", path, client.store_hash))


def list_refunds(client: BigCommerceClient, order_id: int) -> list[Refund]:
    path = f"/v3/orders/{order_id}/payment_actions/refunds"
    body = client.get(path)
    rows = body.get("data") if isinstance(body, dict) else None
    if not isinstance(rows, list):
        raise MalformedResponseError(
            "BigCommerce's refunds of an order are not a list", store_hash=client.store_hash, method="GET", path=path
        )
    return [Refund.model_validate(row) for row in rows]


def set_staff_notes(client: BigCommerceClient, order_id: int, staff_notes: str) -> None:
    """`PUT /v2/orders/{id}` with `staff_notes` alone: the whole field is replaced (read it first)."""
    client.request("PUT", f"/v2/orders/{order_id}", json={"staff_notes": staff_notes})
