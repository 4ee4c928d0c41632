"""Each store's job state: runs, checkpoints, leases, debounce windows and scheduled turns."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from bcsync.store import keys
from bcsync.store.dynamo import conditional, now_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

TOTAL_PREFIX = "total_"  # a flow's running totals: one number attribute per figure on its run item
NOT_ADDED = ("_max_seconds",)  # a batch's maximum is not a count: it has no total


class JobRun(BaseModel):
    """What `bcsync status` shows of a job: when it last ran, what it did, what went wrong."""

    model_config = ConfigDict(extra="ignore")

    store_hash: str
    job: str
    started_at: str
    finished_at: str | None = None
    outcome: str = "running"  # running | done | continued | failed
    figures: dict[str, int] = Field(default_factory=dict)
    problems: list[str] = Field(default_factory=list)


class JobState:
    """Job runs, checkpoints, leases, debounce windows and scheduled turns: one partition per store and job."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def record_run(self, run: JobRun, *, holder: str | None = None) -> bool:
        """The run's record; with `holder`, the same write releases that holder's lease (one write, not two),
        and is refused (False, nothing recorded) when the lease is no longer its own: it expired and another
        run holds it now, which records its own run."""
        request: dict[str, Any] = {
            "Key": keys.job_item(run.store_hash, run.job, keys.JOB_RUN),
            "UpdateExpression": "SET #run = :run, updated_at = :now",
            "ExpressionAttributeNames": {"#run": "run"},
            "ExpressionAttributeValues": {":run": run.model_dump_json(), ":now": now_iso()},
        }
        if holder is not None:
            request["UpdateExpression"] += " REMOVE holder, #until"
            request["ConditionExpression"] = "holder = :holder"
            request["ExpressionAttributeNames"]["#until"] = "until"
            request["ExpressionAttributeValues"][":holder"] = holder
        return conditional(self._table.update_item, **request)

    # --- a queue's flow (the tracking writeback): its last batch, and running totals since its first ---------
    # A consumer has no runs: each batch is recorded as one, with one write per store and batch that also adds
    # its counters to the totals on the same item, so `bcsync status` shows what the flow did all along.

    def record_batch(self, run: JobRun) -> None:
        names = {f"#t{n}": f"{TOTAL_PREFIX}{figure}" for n, figure in enumerate(sorted(run.figures))}
        additive = {name: figure for name, figure in names.items() if not figure.endswith(NOT_ADDED)}
        values: dict[str, Any] = {":run": run.model_dump_json(), ":now": now_iso()}
        values |= {f":v{name[2:]}": run.figures[figure.removeprefix(TOTAL_PREFIX)] for name, figure in additive.items()}
        adds = ", ".join(f"{name} :v{name[2:]}" for name in additive)
        self._table.update_item(
            Key=keys.job_item(run.store_hash, run.job, keys.JOB_RUN),
            UpdateExpression="SET #run = :run, updated_at = :now, totals_since = if_not_exists(totals_since, :now)"
            + (f" ADD {adds}" if adds else ""),
            ExpressionAttributeNames={"#run": "run", **additive},
            ExpressionAttributeValues=values,
        )

    def totals(self, store_hash: str, job: str) -> tuple[str | None, dict[str, int]]:
        """When the flow's first recorded batch was, and its counters added up since."""
        item = self._get(store_hash, job, keys.JOB_RUN) or {}
        added = {
            str(name).removeprefix(TOTAL_PREFIX): int(value)
            for name, value in item.items()
            if str(name).startswith(TOTAL_PREFIX)
        }
        since = item.get("totals_since")
        return (str(since) if since else None), added

    def last_run(self, store_hash: str, job: str) -> JobRun | None:
        item = self._get(store_hash, job, keys.JOB_RUN)
        # A job's first run holds its lease on this item before it has a record.
        return JobRun.model_validate_json(str(item["run"])) if item and "run" in item else None

    def save_checkpoint(self, store_hash: str, job: str, checkpoint: dict[str, Any]) -> None:
        self._table.put_item(
            Item={
                **keys.job_item(store_hash, job, keys.JOB_CHECKPOINT),
                "checkpoint": json.dumps(checkpoint, sort_keys=True),
                "updated_at": now_iso(),
            }
        )

    def load_checkpoint(self, store_hash: str, job: str) -> dict[str, Any] | None:
        item = self._get(store_hash, job, keys.JOB_CHECKPOINT)
        if item is None:
            return None
        loaded = json.loads(str(item["checkpoint"]))
        return loaded if isinstance(loaded, dict) else None

    def clear_checkpoint(self, store_hash: str, job: str) -> None:
        self._table.delete_item(Key=keys.job_item(store_hash, job, keys.JOB_CHECKPOINT))

    # The lease lives on the job's RUN item (`holder`, `until`), so the run's record releases it in the same
    # write. A holder that dies mid-run leaves `until` behind: the lease is free again once it has passed.
    # (LEASE items an earlier release wrote are read by nobody; their `expires_at` removes them within a day.)

    def acquire_lease(self, store_hash: str, job: str, holder: str, *, until: float, now: float) -> bool:
        """True when `holder` now runs this store's job (no lease, or an expired one: its holder died)."""
        return conditional(
            self._table.update_item,
            Key=keys.job_item(store_hash, job, keys.JOB_RUN),
            UpdateExpression="SET holder = :holder, #until = :until",
            ConditionExpression="attribute_not_exists(#until) OR #until < :now",
            ExpressionAttributeNames={"#until": "until"},
            ExpressionAttributeValues={":holder": holder, ":until": _seconds(until), ":now": _seconds(now)},
        )

    def release_lease(self, store_hash: str, job: str, holder: str) -> None:
        """Release without a record (the run raised): `record_run(run, holder=...)` releases a finished one."""
        conditional(  # refused: the lease expired and another holder has it now
            self._table.update_item,
            Key=keys.job_item(store_hash, job, keys.JOB_RUN),
            UpdateExpression="REMOVE holder, #until",
            ConditionExpression="holder = :holder",
            ExpressionAttributeNames={"#until": "until"},
            ExpressionAttributeValues={":holder": holder},
        )

    def mark_due(self, store_hash: str, job: str, *, now: float, debounce_seconds: float) -> bool:
        """True when this call opened a debounce window (the caller queues one job message for it);
        False when a window is already open: its message, due at the window's end, covers this change.

        The window is read first and written only when it is closed: in a busy hour nearly every call
        finds it open, and a read costs a fifth of a write (a refused conditional write is billed as a
        write). The read is strongly consistent, so it sees every window opened before it; two callers
        that both read it closed still race on the conditional write, and only one opens the window."""
        if self.due_open(store_hash, job, now=now):
            return False
        return self._claim(
            store_hash,
            job,
            keys.JOB_DUE,
            "due_at",
            now=now,
            until=now + debounce_seconds,
            expires_at=int(now + debounce_seconds) + 86_400,
        )

    def clear_due(self, store_hash: str, job: str, *, now: float, debounce_seconds: float) -> None:
        """Close the window `mark_due(now=now, ...)` opened (its job message could not be queued), so the
        next change opens a new one. Only that window: a caller slower than the window may find another
        one opened since, whose message is queued, and must leave it open."""
        conditional(
            self._table.delete_item,
            Key=keys.job_item(store_hash, job, keys.JOB_DUE),
            ConditionExpression="due_at = :until",
            ExpressionAttributeValues={":until": _seconds(now + debounce_seconds)},
        )

    def due_open(self, store_hash: str, job: str, *, now: float) -> bool:
        """Whether a debounce window is open at `now`: the same test as `mark_due`'s condition, read."""
        item = self._table.get_item(
            Key=keys.job_item(store_hash, job, keys.JOB_DUE), ConsistentRead=True, ProjectionExpression="due_at"
        ).get("Item")
        return item is not None and "due_at" in item and Decimal(str(item["due_at"])) > _seconds(now)

    def _get(self, store_hash: str, job: str, item: str) -> dict[str, Any] | None:
        return self._table.get_item(Key=keys.job_item(store_hash, job, item), ConsistentRead=True).get("Item")

    def _claim(
        self,
        store_hash: str,
        job: str,
        item: str,
        field: str,
        *,
        now: float,
        until: float,
        expires_at: int | None = None,
    ) -> bool:
        """Sets `field` to `until` if it is unset or has passed: True for the one caller that did."""
        expires = ", expires_at = :expires" if expires_at is not None else ""
        values: dict[str, Any] = {":until": _seconds(until), ":now": _seconds(now)}
        if expires_at is not None:
            values[":expires"] = expires_at
        return conditional(
            self._table.update_item,
            Key=keys.job_item(store_hash, job, item),
            UpdateExpression=f"SET {field} = :until{expires}",
            ConditionExpression=f"attribute_not_exists({field}) OR {field} <= :now",
            ExpressionAttributeValues=values,
        )


def _seconds(moment: float) -> Decimal:
    return Decimal(str(round(moment, 3)))
