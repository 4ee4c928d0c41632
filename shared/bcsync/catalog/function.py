"""The product sync function: delta and full ticks fan out, the job queue runs one store's sync."""

from __future__ import annotations

from bcsync.backbone.function import ColdStart, JobFunction, Reports
from bcsync.catalog.job import product_sync_steps
from bcsync.catalog.state import CatalogState
from bcsync.warehouse.events import EventPublisher


def build_function(reports: Reports | None = None, start: ColdStart | None = None) -> JobFunction:
    """What `functions/product_sync/app.py` runs: made once, from the environment."""
    start = start or ColdStart.from_env()
    table = start.table
    steps = product_sync_steps(
        catalog_for=lambda store: CatalogState(table, store),
        publisher=EventPublisher.for_stack(start.config, start.aws),
        clock=start.clock,
    )
    return start.job_function("product_sync", steps, reports)
