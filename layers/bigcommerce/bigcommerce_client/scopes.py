"""Which OAuth scope of a BigCommerce API account an endpoint needs.

BigCommerce's 403 body does not say which scope is missing; naming it is what lets a
store owner fix the API account in one go.
"""

from __future__ import annotations

from typing import NamedTuple


class Scope(NamedTuple):
    label: str  # as the control panel shows it
    read_only: str  # the scope's code names, as the API account lists them
    modify: str

    def for_method(self, method: str) -> str:
        access = "read-only" if method.upper() in {"GET", "HEAD"} else "modify"
        code = self.read_only if access == "read-only" else self.modify
        return f"{self.label} ({access}, {code})"


ORDERS = Scope("Orders", "store_v2_orders_read_only", "store_v2_orders")
PRODUCTS = Scope("Products", "store_v2_products_read_only", "store_v2_products")
INVENTORY = Scope("Store Inventory", "store_inventory_read_only", "store_inventory")
INFORMATION = Scope("Information & Settings", "store_v2_information_read_only", "store_v2_information")
CUSTOMERS = Scope("Customers", "store_v2_customers_read_only", "store_v2_customers")

_BY_PREFIX: tuple[tuple[str, Scope], ...] = (
    ("/v2/orders", ORDERS),
    ("/v2/order_statuses", ORDERS),
    ("/v3/orders", ORDERS),
    ("/v3/catalog", PRODUCTS),
    ("/v3/inventory", INVENTORY),
    ("/v2/store", INFORMATION),
    ("/v3/customers", CUSTOMERS),
)


def scope_for(method: str, api_path: str) -> str | None:
    """`api_path` starts at the API version, e.g. `/v2/orders/5/shipments`."""
    for prefix, scope in _BY_PREFIX:
        if api_path.startswith(prefix):
            return scope.for_method(method)
    return None
