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

SCHEDULE_SLACK_SECONDS = 30.0


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

    def record_run(self, run: JobRun) -> None:
        self._table.put_item(
            Item={
                **keys.job_item(run.store_hash, run.job, keys.JOB_RUN),
                "run": run.model_dump_json(),
                "updated_at": now_iso(),
            }
        )

    def last_run(self, store_hash: str, job: str) -> JobRun | None:
        item = self._get(store_hash, job, keys.JOB_RUN)
        return JobRun.model_validate_json(str(item["run"])) if item else None

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

    def acquire_lease(self, store_hash: str, job: str, holder: str, *, until: float, now: float) -> bool:
        """True when `holder` now runs this store's job (no lease, or an expired one: its holder died)."""
        return conditional(
            self._table.put_item,
            Item={
                **keys.job_item(store_hash, job, keys.JOB_LEASE),
                "holder": holder,
                "until": _seconds(until),
                "expires_at": int(until) + 86_400,
            },
            ConditionExpression="attribute_not_exists(pk) OR #until < :now",
            ExpressionAttributeNames={"#until": "until"},
            ExpressionAttributeValues={":now": _seconds(now)},
        )

    def release_lease(self, store_hash: str, job: str, holder: str) -> None:
        conditional(  # refused: the lease expired and another holder has it now
            self._table.delete_item,
            Key=keys.job_item(store_hash, job, keys.JOB_LEASE),
            ConditionExpression="holder = :holder",
            ExpressionAttributeValues={":holder": holder},
        )

    def mark_due(self, store_hash: str, job: str, *, now: float, debounce_seconds: float) -> bool:
        """True when this call opened a debounce window (the caller queues one job message for it);
        False when a window is already open: its message, due at the window's end, covers this change."""
        return self._claim(
            store_hash,
            job,
            keys.JOB_DUE,
            "due_at",
            now=now,
            until=now + debounce_seconds,
            expires_at=int(now + debounce_seconds) + 86_400,
        )

    def take_scheduled_turn(self, store_hash: str, job: str, *, now: float, every_seconds: float) -> bool:
        """True when the store's scheduled run of this job is due (and books the next one); a tick that
        comes sooner gets False. Half a minute of slack keeps a 5-minute interval on 1-minute ticks from
        slipping to 6."""
        return self._claim(
            store_hash, job, keys.JOB_SCHEDULE, "next_at", now=now, until=now + every_seconds - SCHEDULE_SLACK_SECONDS
        )

    def clear_due(self, store_hash: str, job: str) -> None:
        """Close the window (its job message could not be queued), so the next change opens a new one."""
        self._table.delete_item(Key=keys.job_item(store_hash, job, keys.JOB_DUE))

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
