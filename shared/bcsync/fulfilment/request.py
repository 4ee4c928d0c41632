"""The inbound `Fulfillment Request` (queue `FulfillmentRequestsInbound`): an order to create in a source store."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from bcsync.warehouse.inbound import InboundModel

# The request id goes into the order's `external_order_id` and into bcsync's keys (`:` separates their
# parts): letters, digits and `._-/#`, as order numbers of other systems are written.
REQUEST_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/#-]{0,63}$"
CustomerPolicy = Literal["guest", "create_if_missing", "must_exist"]


class Address(BaseModel):
    """An address as BigCommerce's v2 orders take it; a state and a country by name or by code."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    first_name: str = Field(min_length=1, max_length=255)
    last_name: str = Field(default="", max_length=255)
    company: str = Field(default="", max_length=255)
    street_1: str = Field(min_length=1, max_length=255)
    street_2: str = Field(default="", max_length=255)
    city: str = Field(min_length=1, max_length=100)
    state: str = Field(default="", max_length=100, description="a name, or a two-letter code")
    zip: str = Field(min_length=2, max_length=20, description="BigCommerce needs two characters or more")
    country: str = Field(default="", max_length=100)
    country_iso2: str = Field(default="", pattern=r"^([A-Z]{2})?$")
    email: str = Field(default="", max_length=255)
    phone: str = Field(default="", max_length=50)

    @model_validator(mode="after")
    def _a_country(self) -> Address:
        if not (self.country or self.country_iso2):
            raise ValueError("an address needs country or country_iso2")
        return self


class RequestLine(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: str = Field(min_length=1, max_length=255)
    quantity: int = Field(strict=True, gt=0)
    price: Decimal = Field(ge=0, max_digits=14, decimal_places=4, description="the unit price")


class FulfillmentRequest(InboundModel):
    type: Literal["Fulfillment Request"]
    request_id: str = Field(pattern=REQUEST_ID_PATTERN)
    # When the request was made (with its zone): the store's hold and business hours count from it; when
    # absent, from the time bcsync first received it.
    requested_at: AwareDatetime | None = None
    lines: list[RequestLine] = Field(min_length=1, max_length=250)
    ship_to: Address
    bill_to: Address
    # guest: no customer account; create_if_missing: the customer with `email`, created from bill_to if
    # there is none; must_exist: the customer with `email`, else the request is refused.
    customer_policy: CustomerPolicy = "guest"
    email: str = Field(default="", max_length=255, pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$")
    carrier: str = Field(default="", max_length=100)
    ship_method: str = Field(default="", max_length=250)
    notes: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _email_for_a_customer(self) -> FulfillmentRequest:
        if self.customer_policy != "guest" and not self.email:
            raise ValueError(f"customer_policy {self.customer_policy} needs the customer's email")
        return self


class RequestHeader(BaseModel):
    """What any message of the queue must carry to be answered at all: without a store and a request id,
    a refusal has nobody to go to (it goes to the DLQ alone)."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["Fulfillment Request"]
    store_hash: Annotated[str, Field(min_length=1)]
    request_id: str = Field(pattern=REQUEST_ID_PATTERN)


FULFILLMENT_REQUEST: TypeAdapter[FulfillmentRequest] = TypeAdapter(FulfillmentRequest)


# --- the answers, on the bus: `data` of `Fulfillment Request Accepted` and `Fulfillment Request Refused` ---

RefusalCode = Literal[
    "invalid", "not_a_source", "unknown_sku", "ambiguous_sku", "customer_missing", "request_id_reused",
    "bigcommerce_refused",
]  # fmt: skip


class RequestAccepted(BaseModel):
    """The request is BigCommerce order `order_id` (sent again, with the same key, for a repeated request)."""

    request_id: str
    order_id: int = Field(description="BigCommerce's order id: the acknowledgement")
    status_id: int = Field(
        description="the order's BigCommerce status when bcsync made or found it (0: repeated from bcsync's record)"
    )
    customer_id: int = Field(description="0 for a guest")


class RequestRefused(BaseModel):
    """No order was made for this content; the same reason is on the message in the DLQ."""

    request_id: str
    code: RefusalCode
    reason: str = Field(description="what is wrong and what to do, for a person")
    skus: list[str] = Field(default_factory=list, description="the SKUs refused (unknown_sku, ambiguous_sku)")
    left_in_bigcommerce: str | None = Field(
        default=None, description="what the attempt left in BigCommerce (a customer it created), or null"
    )
