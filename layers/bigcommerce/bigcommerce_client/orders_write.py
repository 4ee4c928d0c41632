"""Orders bcsync creates in a store (`POST /v2/orders`), and finding them again by the id bcsync gave them.

BigCommerce has no idempotency key for an order create, so the caller puts its own request id in
`external_order_id` (writable on create, and a filter of `GET /v2/orders`: `external_id` is read-only,
`staff_notes` cannot be filtered) and looks for it before creating. The create itself is never retried
here: a dropped connection may hide an order BigCommerce made, and only that lookup can tell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from .client import BigCommerceClient

ORDERS_PATH = "/v2/orders"


class CreatedOrder(BaseModel):
    """The part of an order's answer the caller needs: its id, status and the caller's external id."""

    model_config = ConfigDict(extra="ignore")

    id: int
    status_id: int = 0
    external_order_id: str | None = None


def create_order(client: BigCommerceClient, body: dict[str, Any]) -> CreatedOrder:
    """`POST /v2/orders`. Never retried: see the module's note."""
    return _parse(client, client.request("POST", ORDERS_PATH, json=body))


def find_orders_by_external_id(client: BigCommerceClient, external_order_id: str) -> list[CreatedOrder]:
    """Every order whose `external_order_id` is this one (one page: there is one, or none)."""
    rows = client.get_rows(ORDERS_PATH, {"external_order_id": external_order_id, "limit": 5})
    found = [_parse(client, row) for row in rows]
    # A filter the store ignored would list every order: only exact matches count.
    return [order for order in found if order.external_order_id == external_order_id]


def _parse(client: BigCommerceClient, row: Any) -> CreatedOrder:
    return client._parse(CreatedOrder, row, ORDERS_PATH)
