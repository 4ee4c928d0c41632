"""The job framework: schedule tick → one job message per store; runs, checkpoints, continuation.

A job that nears the Lambda deadline, or whose store has no API budget left for more than a few
seconds, saves its checkpoint and re-queues itself with a delay instead of sleeping, so one
store's slowness never holds a Lambda (or another store) hostage.
"""

from __future__ import annotations

import json
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from bigcommerce_client import Clock, RetryLaterError

from .settings import JobName, StoreHash
from .state import InvalidSettingsError, JobRun, JobState, StoreRegistry, now_iso

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger("bcsync.jobs")
MAX_SQS_DELAY_SECONDS = 900
SEND_BATCH = 10
LEASE_RETRY_SECONDS = 30  # a deferred message comes back after this


# "stock": a warehouse stock message made the inventory push due.
Trigger = Literal["schedule", "webhook", "manual", "continuation", "stock"]


class JobMessage(BaseModel):
    """The body of a message on a job queue."""

    model_config = ConfigDict(extra="forbid")

    job: JobName
    store_hash: StoreHash
    trigger: Trigger = "schedule"
    options: dict[str, Any] = Field(default_factory=dict)
    continuation: int = Field(default=0, ge=0)


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

    def save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Record progress now, so a crash (not only a timeout) resumes from here."""
        self.checkpoint = dict(checkpoint)
        if self.saver is not None:
            self.saver(self.checkpoint)

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


@dataclass
class FanOutResult:
    queued: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    not_due: list[str] = field(default_factory=list)  # their own interval has not passed since their last run


class JobQueue:
    def __init__(self, sqs: SQSClient | Any, queue_url: str) -> None:
        self._sqs = sqs
        self._url = queue_url

    def send(self, message: JobMessage, *, delay_seconds: float = 0) -> None:
        delay = min(max(math.ceil(delay_seconds), 0), MAX_SQS_DELAY_SECONDS)
        self._sqs.send_message(QueueUrl=self._url, MessageBody=message.model_dump_json(), DelaySeconds=delay)

    def send_many(self, messages: list[JobMessage]) -> list[str]:
        """Returns the store hashes whose message SQS refused."""
        refused: list[str] = []
        for start in range(0, len(messages), SEND_BATCH):
            chunk = messages[start : start + SEND_BATCH]
            response = self._sqs.send_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(n), "MessageBody": m.model_dump_json()} for n, m in enumerate(chunk)],
            )
            refused += [chunk[int(failure["Id"])].store_hash for failure in response.get("Failed", [])]
        return refused


def queue_when_due(
    job_state: JobState, queue: JobQueue, message: JobMessage, *, now: float, debounce_seconds: float
) -> bool:
    """Open a debounce window on the store's job and queue `message` due at its end. False when a
    window is already open: its message, due at the window's end, covers this change too."""
    if not job_state.mark_due(message.store_hash, message.job, now=now, debounce_seconds=debounce_seconds):
        return False
    try:
        queue.send(message, delay_seconds=debounce_seconds)
    except Exception:
        # No message means the window must not stay open: the next change (or the sender's retry of
        # this one) opens a new one.
        job_state.clear_due(message.store_hash, message.job)
        raise
    return True


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
    """One job message per enabled store; a store whose settings are broken is reported, not fatal.
    With `turns`, a store whose own interval (`schedule_minutes`) has not passed is left for a later tick."""
    result = FanOutResult()
    messages = []
    for entry in registry.iter_valid(enabled_only=True):
        if isinstance(entry, InvalidSettingsError):
            result.problems.append(str(entry))
            logger.error("store skipped", extra={"job": job, "problem": str(entry)})
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


MAX_PROBLEMS_KEPT = 100  # a run record is one DynamoDB item (400 KB at most)


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_PROBLEMS_KEPT:
        return problems
    return [*problems[:MAX_PROBLEMS_KEPT], f"... and {len(problems) - MAX_PROBLEMS_KEPT} more"]


class JobRunner:
    """Runs one job message for one store: checkpoint in, run record out, continuation when cut short."""

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
            return self._run(message, step, deadline, count_calls, count_rate_limited)
        finally:
            self._state.release_lease(message.store_hash, message.job, holder)

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
        context = JobContext(
            message=message,
            checkpoint=self._state.load_checkpoint(message.store_hash, message.job),
            deadline=deadline,
            margin_seconds=self._margin,
            saver=lambda checkpoint: self._state.save_checkpoint(message.store_hash, message.job, checkpoint),
        )
        try:
            outcome = step(context)
        except RetryLaterError as error:
            # The store's API budget is spent for longer than is worth waiting: resume when it returns,
            # from the last checkpoint the step saved.
            delay = max((error.retry_at or self._clock.now()) - self._clock.now(), 1.0)
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
            if not context.leaves_checkpoint:
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
        self._state.record_run(run)
        return run
