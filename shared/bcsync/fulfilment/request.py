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

    first_name: str = Field(min_length=1, max_length=255, description="the addressee's first name")
    last_name: str = Field(default="", max_length=255, description="the addressee's last name")
    company: str = Field(default="", max_length=255, description="the company, if any")
    street_1: str = Field(min_length=1, max_length=255, description="the street address")
    street_2: str = Field(default="", max_length=255, description="a second address line")
    city: str = Field(min_length=1, max_length=100, description="the city")
    state: str = Field(default="", max_length=100, description="a name, or a two-letter code")
    zip: str = Field(min_length=2, max_length=20, description="BigCommerce needs two characters or more")
    country: str = Field(default="", max_length=100, description="the country's name; or `country_iso2`")
    country_iso2: str = Field(default="", pattern=r"^([A-Z]{2})?$", description="the ISO 3166-1 alpha-2 code")
    email: str = Field(default="", max_length=255, description="the addressee's e-mail")
    phone: str = Field(default="", max_length=50, description="the addressee's phone")

    @model_validator(mode="after")
    def _a_country(self) -> Address:
        if not (self.country or self.country_iso2):
            raise ValueError("an address needs country or country_iso2")
        return self


class RequestLine(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: str = Field(min_length=1, max_length=255, description="the SKU of one BigCommerce variant")
    quantity: int = Field(strict=True, gt=0, description="units to order (1 or more)")
    price: Decimal = Field(ge=0, max_digits=14, decimal_places=4, description="the unit price")


class FulfillmentRequest(InboundModel):
    type: Literal["Fulfillment Request"] = Field(description="the message's type")
    request_id: str = Field(
        pattern=REQUEST_ID_PATTERN, description="the sender's id of the request: one BigCommerce order per id"
    )
    # When the request was made (with its zone): the store's hold and business hours count from it; when
    # absent, from the time bcsync first received it.
    requested_at: AwareDatetime | None = Field(
        default=None, description="when the request was made, with its zone (the hold counts from it)"
    )
    lines: list[RequestLine] = Field(min_length=1, max_length=250, description="what to order, line by line")
    ship_to: Address = Field(description="where the order ships")
    bill_to: Address = Field(description="the billing address (BigCommerce requires one)")
    # guest: no customer account; create_if_missing: the customer with `email`, created from bill_to if
    # there is none; must_exist: the customer with `email`, else the request is refused.
    customer_policy: CustomerPolicy = Field(
        default="guest", description="guest, create_if_missing or must_exist (the customer with `email`)"
    )
    email: str = Field(
        default="",
        max_length=255,
        pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$",
        description="the customer's e-mail (needed unless the policy is guest)",
    )
    carrier: str = Field(default="", max_length=100, description="the carrier to ship with")
    ship_method: str = Field(default="", max_length=250, description="the shipping method, as the order shows it")
    notes: str = Field(default="", max_length=2000, description="the order's customer message")

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

    request_id: str = Field(description="the request's id, as it was sent")
    order_id: int = Field(description="BigCommerce's order id: the acknowledgement")
    status_id: int = Field(
        description="the order's BigCommerce status when bcsync made or found it (0: repeated from bcsync's record)"
    )
    customer_id: int = Field(description="0 for a guest")


class RequestRefused(BaseModel):
    """No order was made for this content; the same reason is on the message in the DLQ."""

    request_id: str = Field(description="the request's id, as it was sent")
    code: RefusalCode = Field(description="the kind of refusal, for a program")
    reason: str = Field(description="what is wrong and what to do, for a person")
    skus: list[str] = Field(default_factory=list, description="the SKUs refused (unknown_sku, ambiguous_sku)")
    left_in_bigcommerce: str | None = Field(
        default=None, description="what the attempt left in BigCommerce (a customer it created), or null"
    )
