"""A schedule tick becomes one job message per store whose turn it is."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from bcsync.backbone.messages import JobMessage, JobQueue, Trigger
from bcsync.errors import InvalidSettingsError
from bcsync.store.flows import Verdict, decide
from bcsync.store.jobs import JobState
from bcsync.store.registry import StoreRegistry
from bcsync.store.settings import JobName

logger = logging.getLogger("bcsync.backbone.fan_out")


@dataclass
class FanOutResult:
    queued: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    not_due: list[str] = field(default_factory=list)  # their own interval has not passed since their last run
    flow_off: list[str] = field(default_factory=list)  # the store has this flow switched off


def fan_out(
    job: JobName,
    registry: StoreRegistry,
    queue: JobQueue,
    *,
    trigger: Trigger = "schedule",
    options: dict[str, Any] | None = None,
    turns: JobState | None = None,
    now: float | None = None,
) -> FanOutResult:
    """One job message per enabled store whose flow is on; a store whose settings are broken is reported, not fatal.
    With `turns`, a store whose own interval (`schedule_minutes`) has not passed is left for a later tick."""
    result = FanOutResult()
    messages = []
    for entry in registry.iter_valid(enabled_only=True):
        if isinstance(entry, InvalidSettingsError):
            result.problems.append(str(entry))
            logger.error("store skipped", extra={"job": job, "problem": str(entry)})
            continue
        if decide(entry, "tick", job).verdict is Verdict.SKIP:
            result.flow_off.append(entry.store_hash)
            continue
        if not _its_turn(entry.store_hash, entry.schedule_minutes.get(job), job, turns, now):
            result.not_due.append(entry.store_hash)
            continue
        message = JobMessage(job=job, store_hash=entry.store_hash, trigger=trigger, options=dict(options or {}))
        messages.append(message)
    refused = set(queue.send_many(messages))
    result.queued = [m.store_hash for m in messages if m.store_hash not in refused]
    result.problems += [f"store {store_hash}: job message refused by SQS" for store_hash in sorted(refused)]
    return result


def _its_turn(store_hash: str, minutes: int | None, job: JobName, turns: JobState | None, now: float | None) -> bool:
    if turns is None or minutes is None or now is None:
        return True
    return turns.take_scheduled_turn(store_hash, job, now=now, every_seconds=minutes * 60)
