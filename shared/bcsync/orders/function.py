"""The order import function: schedule ticks fan out, the job queue runs one store's import."""

from __future__ import annotations

from bcsync.aws import AwsClients
from bcsync.backbone.function import JobFunction, Reports
from bcsync.catalog.state import CatalogState
from bcsync.orders.in_flight import InFlightOrders
from bcsync.orders.job import order_import_steps
from bcsync.orders.state import HeldOrders, OrderState
from bcsync.settings import RuntimeConfig
from bcsync.warehouse.events import EventPublisher
from bigcommerce_client import PROCESS_CLOCK, Clock


def build_function(
    reports: Reports | None = None,
    *,
    config: RuntimeConfig | None = None,
    aws: AwsClients | None = None,
    clock: Clock = PROCESS_CLOCK,
) -> JobFunction:
    """What `functions/order_import/app.py` runs, from its environment; clients made once, here."""
    config = config or RuntimeConfig.from_env()
    aws = aws or AwsClients()
    table = aws.table(config.state_table)
    retention = config.order_retention_days
    return JobFunction(
        job="order_import",
        config=config,
        aws=aws,
        clock=clock,
        reports=reports,
        step_factory=order_import_steps(
            state_for=lambda store: OrderState(table, store, retention_days=retention),
            held_for=lambda store: HeldOrders(table, store),
            catalog_for=lambda store: CatalogState(table, store),
            in_flight_for=lambda store: InFlightOrders(table, store, retention_days=retention),
            publisher=EventPublisher.for_stack(config, aws),
            clock=clock,
        ),
    )
