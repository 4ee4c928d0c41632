"""Customers (`/v3/customers`): found by e-mail, created from what a fulfillment request carries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from .client import BigCommerceClient

CUSTOMERS_PATH = "/v3/customers"


class Customer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    email: str = ""


def find_customer(client: BigCommerceClient, email: str) -> Customer | None:
    """The customer with this e-mail (BigCommerce keeps e-mails unique per store), or None."""
    body = client.get(CUSTOMERS_PATH, {"email:in": email, "limit": 1})
    rows = body.get("data") if isinstance(body, dict) else None
    for row in rows or []:
        customer = client._parse(Customer, row, CUSTOMERS_PATH)
        if customer.email.lower() == email.lower():
            return customer
    return None


def create_customer(client: BigCommerceClient, customer: dict[str, Any]) -> Customer:
    """`POST /v3/customers` with one customer (`email`, `first_name`, `last_name` required). Not retried:
    a retry after a lost answer would be refused as a duplicate e-mail; the caller looks it up again."""
    body = client.request("POST", CUSTOMERS_PATH, json=[customer])
    rows = body.get("data") if isinstance(body, dict) else None
    return client._parse(Customer, (rows or [None])[0], CUSTOMERS_PATH)
