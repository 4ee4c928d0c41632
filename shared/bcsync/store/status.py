"""What `bcsync status` and the console show of a store: each job's last run, the order cursor, its problems."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bcsync.orders.state import OrderState
from bcsync.store.jobs import JobRun, JobState
from bcsync.store.problems import ProblemLog
from bcsync.store.settings import JOBS, JobName, StoreSettings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


@dataclass(frozen=True)
class StoreStatus:
    settings: StoreSettings
    runs: dict[JobName, JobRun | None]  # each job's last run; None: it never ran
    cursor: datetime | None  # orders modified up to this are imported (None: not yet scanned)
    problems: list[dict[str, str]]  # the problem log: kind, subject, text, at


def read_status(table: Table, settings: StoreSettings) -> StoreStatus:
    jobs = JobState(table)
    return StoreStatus(
        settings=settings,
        runs={job: jobs.last_run(settings.store_hash, job) for job in JOBS},
        cursor=OrderState(table, settings.store_hash).cursor(),
        problems=ProblemLog(table, settings.store_hash).list(),
    )
