"""A local BigCommerce over HTTP for tests, the demo and benchmarks. Never deployed."""

from .faults import TRANSIENT_FAULTS, Fault, FaultPlan
from .seed import add_order, add_product, seed_catalog, seed_orders, seed_variants
from .server import Exchange, Sandbox
from .store import ALL_SCOPES, ORDER_STATUSES, SandboxStore

__all__ = [
    "ALL_SCOPES",
    "ORDER_STATUSES",
    "TRANSIENT_FAULTS",
    "Exchange",
    "Fault",
    "FaultPlan",
    "Sandbox",
    "SandboxStore",
    "add_order",
    "add_product",
    "seed_catalog",
    "seed_orders",
    "seed_variants",
]
