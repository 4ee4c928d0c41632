"""A schedule tick becomes one job message per store whose turn it is.

With `turns` (every schedule tick), the tick reads the job's turns (`bcsync.store.turns`), never the
registry: its cost follows the stores that are due (one conditional write each), not the stores connected.
A store that is disabled or has the flow off is parked in its turn and costs ~60 bytes of one query. The
consumer reads each message's settings before the run (a store disabled a moment ago is skipped, settings
that do not validate are dead-lettered with their reason), so a tick never needs them.

Without `turns` (a run for every store, as a test or an operator asks for it), the registry is read page by
page. Either way stores go out in pages of `PAGE` (no list of every store is built) and each ten in one
SendMessageBatch; a send that fails names its stores in the problems, gives their turns back for the
next tick, and the other pages still go.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from typing import Any

from bcsync.backbone.messages import SEND_BATCH, JobMessage, JobQueue, Trigger
from bcsync.errors import InvalidSettingsError
from bcsync.store.flows import Verdict, decide
from bcsync.store.registry import StoreRegistry
from bcsync.store.settings import JobName
from bcsync.store.turns import ScheduledTurns, Turn

logger = logging.getLogger("bcsync.backbone.fan_out")

PAGE = 100  # stores handled together: claimed, then sent in tens


@dataclass
class FanOutResult:
    queued: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    not_due: list[str] = field(default_factory=list)  # read as due, but another tick claimed the turn first
    flow_off: list[str] = field(default_factory=list)  # the store has this flow switched off (a run for every store)
    reconciled: bool = False  # this tick checked the job's turns against the registry


def fan_out(
    job: JobName,
    registry: StoreRegistry,
    queue: JobQueue,
    *,
    trigger: Trigger = "schedule",
    options: dict[str, Any] | None = None,
    turns: ScheduledTurns | None = None,
    now: float | None = None,
) -> FanOutResult:
    """One job message per enabled store whose flow is on and whose turn it is (with `turns` and `now`);
    a store whose settings are broken is reported, not fatal."""
    result = FanOutResult()
    options = dict(options or {})
    if turns is None or now is None:
        for page in _pages(_every_store(job, registry, result), PAGE):
            _send(job, queue, [(store_hash, None, None) for store_hash in page], trigger, options, result)
        return result
    if turns.reconcile_due(job, now=now):
        try:
            result.problems += turns.reconcile(job, registry.entries(consistent=True), now=now)
            result.reconciled = True
        except Exception as error:  # the check is a safety net: the due stores still go, the next tick retries it
            logger.exception("scheduled turns not reconciled", extra={"job": job})
            result.problems.append(f"the {job} turns were not checked against the registry ({type(error).__name__})")
    if not turns.claimed_by(options):
        # A job's extra tick runs for every active store and claims no turn (ScheduledTurns.active).
        for page in _pages(turns.active(job), PAGE):
            _send(job, queue, [(store_hash, None, None) for store_hash in page], trigger, options, result)
        return result
    for due in _pages(turns.due(job, now=now), PAGE):
        claimed: list[tuple[str, Turn | None, Decimal | None]] = []
        for turn in due:
            booked = turns.claim(job, turn, now=now)
            if booked is None:
                result.not_due.append(turn.store_hash)
            else:
                claimed.append((turn.store_hash, turn, booked))
        _send(job, queue, claimed, trigger, options, result, turns=turns)
    return result


def _every_store(job: JobName, registry: StoreRegistry, result: FanOutResult) -> Iterator[str]:
    for entry in registry.iter_valid(enabled_only=True):
        if isinstance(entry, InvalidSettingsError):
            result.problems.append(str(entry))
            logger.error("store skipped", extra={"job": job, "problem": str(entry)})
        elif decide(entry, "tick", job).verdict is Verdict.SKIP:
            result.flow_off.append(entry.store_hash)
        else:
            yield entry.store_hash


def _send(
    job: JobName,
    queue: JobQueue,
    stores: list[tuple[str, Turn | None, Decimal | None]],
    trigger: Trigger,
    options: dict[str, Any],
    result: FanOutResult,
    *,
    turns: ScheduledTurns | None = None,
) -> None:
    for batch in _pages(iter(stores), SEND_BATCH):
        messages = [
            JobMessage(job=job, store_hash=store_hash, trigger=trigger, options=dict(options))
            for store_hash, _, _ in batch
        ]
        try:
            refused = set(queue.send_many(messages))
            why = "job message refused by SQS"
        except Exception as error:  # this batch is lost, not the tick: the next batches still go
            logger.exception("job messages not sent", extra={"job": job, "stores": [m.store_hash for m in messages]})
            refused, why = {m.store_hash for m in messages}, f"job message not sent ({type(error).__name__})"
        for store_hash, turn, booked in batch:
            if store_hash not in refused:
                result.queued.append(store_hash)
                continue
            if turns is None or turn is None or booked is None:
                result.problems.append(f"store {store_hash}: {why}")
                continue
            result.problems.append(f"store {store_hash}: {why}; its turn comes again at the next tick")
            try:
                turns.give_back(job, turn, booked)
            except Exception:  # its turn then comes at its next interval: the other stores still go
                logger.exception("turn not given back", extra={"job": job, "store_hash": store_hash})


def _pages[T](items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while page := list(islice(iterator, size)):
        yield page
