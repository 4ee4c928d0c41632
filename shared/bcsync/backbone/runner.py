"""One job message for one store: its lease, its checkpoint in, its run record out, and its continuation.

A job that nears the Lambda deadline, or whose store has no API budget left for more than a few
seconds, saves its checkpoint and re-queues itself with a delay instead of sleeping, so one
store's slowness never holds a Lambda (or another store) hostage.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bcsync.backbone.messages import JobMessage, JobQueue
from bcsync.store.dynamo import now_iso
from bcsync.store.jobs import JobRun, JobState
from bigcommerce_client import RATE_WINDOW_SECONDS, Clock, RetryLaterError

logger = logging.getLogger("bcsync.backbone.runner")
LEASE_RETRY_SECONDS = 30  # a deferred message comes back after this


class Deadline(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


@dataclass
class JobContext:
    """What a job step sees: its store, where it left off, and whether it must stop now."""

    message: JobMessage
    checkpoint: dict[str, Any] | None
    deadline: Deadline
    margin_seconds: float
    figures: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    saver: Callable[[dict[str, Any]], None] | None = None
    # A step that works beside the job's scan (e.g. archiving one deleted product) sets this, so
    # finishing does not clear the checkpoint a paused scan will resume from.
    leaves_checkpoint: bool = False
    # Whether the store holds a checkpoint item for this job (loaded at the start or saved since): only
    # then has finishing one to clear (a delete of an absent item is still billed as a write).
    checkpoint_stored: bool = False

    def save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Record progress now, so a crash (not only a timeout) resumes from here."""
        self.checkpoint = dict(checkpoint)
        if self.saver is not None:
            self.saver(self.checkpoint)
            self.checkpoint_stored = True

    def keep_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Progress a pause resumes from (a spent budget, a short deadline), written only if the run continues:
        a crash resumes from the last one saved."""
        self.checkpoint = dict(checkpoint)

    def time_is_short(self) -> bool:
        return self.deadline.get_remaining_time_in_millis() / 1000 <= self.margin_seconds

    def count(self, figure: str, amount: int = 1) -> None:
        self.figures[figure] = self.figures.get(figure, 0) + amount


@dataclass(frozen=True)
class Continue:
    """A job step's answer when it stopped early: where to resume, and no sooner than `delay_seconds`."""

    checkpoint: dict[str, Any]
    delay_seconds: float = 0.0


# A job step runs until done (returns None) or until it must stop (returns Continue).
JobStep = Callable[[JobContext], Continue | None]


MAX_PROBLEMS_KEPT = 100  # a run record is one DynamoDB item (400 KB at most)


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_PROBLEMS_KEPT:
        return problems
    return [*problems[:MAX_PROBLEMS_KEPT], f"... and {len(problems) - MAX_PROBLEMS_KEPT} more"]


class JobRunner:
    """Runs one job message for one store: checkpoint in, run record out (it releases the lease), continuation
    when cut short."""

    def __init__(self, *, state: JobState, queue: JobQueue, clock: Clock, margin_seconds: float = 20.0) -> None:
        self._state = state
        self._queue = queue
        self._clock = clock
        self._margin = margin_seconds

    def run(
        self,
        message: JobMessage,
        step: JobStep,
        deadline: Deadline,
        *,
        count_calls: Callable[[], int] | None = None,
        count_rate_limited: Callable[[], int] | None = None,
    ) -> JobRun:
        """`count_calls` / `count_rate_limited`: the store's BigCommerce calls and 429s so far; the run
        records how many it made and met.

        One run per store and job at a time: a message that arrives while another invocation runs the
        same store's job (a webhook and a tick together, an SQS duplicate) comes back after a short delay
        instead of running beside it, so two runs never read, version and publish the same things at once.
        """
        holder = str(uuid.uuid4())
        lease_until = self._clock.now() + deadline.get_remaining_time_in_millis() / 1000
        if not self._state.acquire_lease(
            message.store_hash, message.job, holder, until=lease_until, now=self._clock.now()
        ):
            self._queue.send(message, delay_seconds=LEASE_RETRY_SECONDS)
            logger.info(
                "job already running for this store; message deferred",
                extra={"store_hash": message.store_hash, "job": message.job},
            )
            return JobRun(store_hash=message.store_hash, job=message.job, started_at=now_iso(), outcome="deferred")
        try:
            run = self._run(message, step, deadline, count_calls, count_rate_limited)
        except BaseException:
            self._state.release_lease(message.store_hash, message.job, holder)
            raise
        if not self._state.record_run(run, holder=holder):
            # The lease passed its `until` (the invocation's deadline) and another run of this store's job
            # holds it: that run's record is the one to keep, and it redoes whatever this one left.
            logger.warning(
                "job lease lost before the run finished; its record was not written",
                extra={"store_hash": message.store_hash, "job": message.job, "outcome": run.outcome},
            )
        return run

    def _run(
        self,
        message: JobMessage,
        step: JobStep,
        deadline: Deadline,
        count_calls: Callable[[], int] | None,
        count_rate_limited: Callable[[], int] | None,
    ) -> JobRun:
        run = JobRun(store_hash=message.store_hash, job=message.job, started_at=now_iso())
        calls_before, started = (count_calls() if count_calls else 0), time.monotonic()
        limited_before = count_rate_limited() if count_rate_limited else 0
        loaded = self._state.load_checkpoint(message.store_hash, message.job)
        context = JobContext(
            message=message,
            checkpoint=loaded,
            deadline=deadline,
            margin_seconds=self._margin,
            saver=lambda checkpoint: self._state.save_checkpoint(message.store_hash, message.job, checkpoint),
            checkpoint_stored=loaded is not None,
        )
        try:
            outcome = step(context)
        except RetryLaterError as error:
            # The store's API budget is spent for longer than is worth waiting: resume when it returns,
            # from the last checkpoint the step saved.
            # A 429 naming no reset (BigCommerce under load): the next window, not the next second.
            wait = error.retry_at - self._clock.now() if error.retry_at is not None else RATE_WINDOW_SECONDS
            delay = max(wait, 1.0)
            outcome = Continue(checkpoint=context.checkpoint or {}, delay_seconds=delay)
            context.problems.append(f"API budget spent; resuming at {error.retry_at_text()}")
        run.figures, run.problems = context.figures, _capped(context.problems)
        if count_calls is not None:
            run.figures["bigcommerce_calls"] = count_calls() - calls_before
            run.figures["duration_seconds"] = round(time.monotonic() - started)
        if count_rate_limited is not None:
            run.figures["bigcommerce_429s"] = count_rate_limited() - limited_before
        run.finished_at = now_iso()
        if outcome is None:
            if context.checkpoint_stored and not context.leaves_checkpoint:
                self._state.clear_checkpoint(message.store_hash, message.job)
            run.outcome = "done"
        else:
            self._state.save_checkpoint(message.store_hash, message.job, outcome.checkpoint)
            follow_up = message.model_copy(update={"trigger": "continuation", "continuation": message.continuation + 1})
            self._queue.send(follow_up, delay_seconds=outcome.delay_seconds)
            run.outcome = "continued"
            logger.info(
                "job continues in a new invocation",
                extra={
                    "store_hash": message.store_hash,
                    "job": message.job,
                    "checkpoint": json.dumps(outcome.checkpoint),
                },
            )
        return run
