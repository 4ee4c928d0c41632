"""The product sync function: delta and full ticks fan out, the job queue runs one store's sync."""

from __future__ import annotations

from bcsync.aws import AwsClients
from bcsync.backbone.function import JobFunction, Reports
from bcsync.catalog.job import product_sync_steps
from bcsync.catalog.state import CatalogState
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
    """What `functions/product_sync/app.py` runs, from its environment; clients made once, here."""
    config = config or RuntimeConfig.from_env()
    aws = aws or AwsClients()
    table = aws.table(config.state_table)
    return JobFunction(
        job="product_sync",
        config=config,
        aws=aws,
        clock=clock,
        reports=reports,
        step_factory=product_sync_steps(
            catalog_for=lambda store: CatalogState(table, store),
            publisher=EventPublisher.for_stack(config, aws),
            clock=clock,
        ),
    )
