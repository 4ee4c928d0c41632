"""The order import function: schedule ticks fan out, the job queue runs one store's import."""

from __future__ import annotations

from bcsync.backbone.function import ColdStart, JobFunction, Reports
from bcsync.catalog.state import CatalogState
from bcsync.orders.in_flight import InFlightOrders
from bcsync.orders.job import order_import_steps
from bcsync.orders.state import HeldOrders, OrderState
from bcsync.warehouse.events import EventPublisher


def build_function(reports: Reports | None = None, start: ColdStart | None = None) -> JobFunction:
    """What `functions/order_import/app.py` runs: made once, from the environment."""
    start = start or ColdStart.from_env()
    table, retention = start.table, start.config.order_retention_days
    steps = order_import_steps(
        state_for=lambda store: OrderState(table, store, retention_days=retention),
        held_for=lambda store: HeldOrders(table, store, retention_days=retention),
        catalog_for=lambda store: CatalogState(table, store),
        in_flight_for=lambda store: InFlightOrders(table, store, retention_days=retention),
        publisher=EventPublisher.for_stack(start.config, start.aws),
        clock=start.clock,
    )
    return start.job_function("order_import", steps, reports)
