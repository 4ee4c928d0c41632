"""The read-back function: its ticks fan out (the shipment scan every 15 minutes, the stock reconcile hourly),
its queue runs one store's read back; webhooks make a store's run due within seconds."""

from __future__ import annotations

from bcsync.backbone.function import ColdStart, JobFunction, Reports
from bcsync.readback.job import readback_steps
from bcsync.warehouse.events import EventPublisher


def build_function(reports: Reports | None = None, start: ColdStart | None = None) -> JobFunction:
    """What `functions/readback/app.py` runs: made once, from the environment."""
    start = start or ColdStart.from_env()
    steps = readback_steps(
        table=start.table,
        publisher=EventPublisher.for_stack(start.config, start.aws),
        clock=start.clock,
        retention_days=start.config.order_retention_days,
    )
    return start.job_function("readback", steps, reports)
