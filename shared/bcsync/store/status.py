"""What `bcsync status` and the consoles show of a store: each flow's last run (a queue's flow: its last batch
and its totals), the order cursor, returns and refunds, its problems. Read once here, shown by both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bcsync.orders.state import OrderState
from bcsync.returns.state import ReturnLog
from bcsync.store.jobs import JobRun, JobState
from bcsync.store.problems import ProblemLog
from bcsync.store.settings import JOBS, JobName, StoreSettings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

# Flows fed by a queue rather than run as jobs: a "run" is their last batch, and they keep running totals.
QUEUE_FLOWS: frozenset[JobName] = frozenset({"tracking_writeback"})


@dataclass(frozen=True)
class Returns:
    recorded: int
    refunded: int
    amount: Decimal


@dataclass(frozen=True)
class StoreStatus:
    settings: StoreSettings
    runs: dict[JobName, JobRun | None]  # each job's last run; None: it never ran
    totals: dict[JobName, tuple[str | None, dict[str, int]]]  # a queue flow's totals: since when, and what
    cursor: datetime | None  # orders modified up to this are imported (None: not yet scanned)
    returns: Returns
    problems: list[dict[str, str]]  # the problem log: kind, subject, text, at

    def as_report(self) -> dict[str, Any]:
        """The status as data (`bcsync status --json` prints it as is)."""
        settings = self.settings
        flows: dict[str, Any] = {}
        for job, run in self.runs.items():
            flow: dict[str, Any] = {"last_run": run.model_dump(exclude={"store_hash", "job"}) if run else None}
            if job in self.totals:
                since, totals = self.totals[job]
                flow |= {"totals_since": since, "totals": totals}
            flows[job] = flow
        return {
            "store_hash": settings.store_hash,
            "name": settings.name,
            "enabled": settings.enabled,
            "flows": flows,
            "orders_imported_up_to": self.cursor.isoformat() if self.cursor else None,
            "returns": {
                "recorded": self.returns.recorded,
                "refunded": self.returns.refunded,
                "amount": f"{self.returns.amount:.2f}",
                "refunds_enabled": settings.refunds_enabled,
                "refund_lines": settings.refund_lines,
                "refund_limit_per_order": str(settings.refund_limit_per_order),
            },
            "problems": [
                {key: str(logged[key]) for key in ("kind", "subject", "text", "at")} for logged in self.problems
            ],
        }


def read_status(table: Table, settings: StoreSettings) -> StoreStatus:
    jobs = JobState(table)
    recorded, refunded, amount = ReturnLog(table, settings.store_hash).totals()
    return StoreStatus(
        settings=settings,
        runs={job: jobs.last_run(settings.store_hash, job) for job in JOBS},
        totals={job: jobs.totals(settings.store_hash, job) for job in JOBS if job in QUEUE_FLOWS},
        cursor=OrderState(table, settings.store_hash).cursor(),
        returns=Returns(recorded, refunded, amount),
        problems=ProblemLog(table, settings.store_hash).list(),
    )
