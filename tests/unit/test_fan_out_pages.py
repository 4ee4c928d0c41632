"""A tick over 5,000 stores goes out page by page: no list of every store, SQS batches of ten, and a batch
that fails loses its own stores' turns for one tick, never the other stores'."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from bcsync.backbone.fan_out import PAGE, fan_out
from bcsync.backbone.messages import JobMessage, JobQueue
from bcsync.errors import InvalidSettingsError
from bcsync.store.registry import StoreRegistry
from bcsync.store.settings import JobName, StoreSettings
from bcsync.store.turns import ScheduledTurns, Turn

STORES = [f"s{n:05d}" for n in range(5_000)]
FAILING_BATCH = 7  # the eighth SendMessageBatch raises
REFUSED = "s01234"  # one entry SQS refuses in its batch


class Flow:
    """What went on: turns read, claimed and given back; messages sent."""

    def __init__(self) -> None:
        self.read = 0
        self.sent = 0
        self.most_ahead = 0  # turns read and not yet handed to SQS, at most
        self.batches: list[int] = []
        self.given_back: list[str] = []


class Turns(ScheduledTurns):
    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    def reconcile_due(self, job: JobName, *, now: float) -> bool:
        return False

    def due(self, job: JobName, *, now: float) -> Iterator[Turn]:
        for store_hash in STORES:
            self.flow.read += 1
            self.flow.most_ahead = max(self.flow.most_ahead, self.flow.read - self.flow.sent)
            yield Turn(store_hash=store_hash, next_at=Decimal(0), every=300)

    def claim(self, job: JobName, turn: Turn, *, now: float) -> Decimal | None:
        return Decimal(now + 270)

    def give_back(self, job: JobName, turn: Turn, booked: Decimal) -> None:
        self.flow.given_back.append(turn.store_hash)


class Queue(JobQueue):
    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    def send_many(self, messages: list[JobMessage]) -> list[str]:
        self.flow.batches.append(len(messages))
        self.flow.sent += len(messages)
        if len(self.flow.batches) - 1 == FAILING_BATCH:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "try again"}}, "SendMessageBatch")
        return [m.store_hash for m in messages if m.store_hash == REFUSED]


class Registry(StoreRegistry):
    def __init__(self, flow: Flow, stores: list[str]) -> None:
        self.flow, self.stores = flow, stores

    def iter_valid(self, *, enabled_only: bool = True) -> Iterator[StoreSettings | InvalidSettingsError]:
        for store_hash in self.stores:
            self.flow.read += 1
            self.flow.most_ahead = max(self.flow.most_ahead, self.flow.read - self.flow.sent)
            yield StoreSettings(store_hash=store_hash)


def test_a_tick_over_5000_due_stores_sends_as_it_reads_and_a_failed_batch_stops_nothing() -> None:
    flow = Flow()
    registry: Any = None  # a tick with turns never reads the registry (no reconcile due)

    result = fan_out("order_import", registry, Queue(flow), turns=Turns(flow), now=1_000.0)

    lost = STORES[FAILING_BATCH * 10 : FAILING_BATCH * 10 + 10]
    assert flow.batches == [10] * 500
    assert flow.most_ahead <= PAGE  # never more than a page of stores held
    assert len(result.queued) == 5_000 - 11 and REFUSED not in result.queued and not set(lost) & set(result.queued)
    assert sorted(flow.given_back) == sorted([*lost, REFUSED])  # due again at the next tick
    assert sorted(p.split(":")[0] for p in result.problems) == sorted(f"store {s}" for s in [*lost, REFUSED])
    assert f"store {REFUSED}: job message refused by SQS; its turn comes again at the next tick" in result.problems
    assert f"store {lost[0]}: job message not sent (ClientError); its turn comes again at the next tick" in (
        result.problems
    )


def test_a_run_for_every_store_reads_the_registry_page_by_page() -> None:
    flow = Flow()
    stores = STORES[:1_000]

    result = fan_out("order_import", Registry(flow, stores), Queue(flow))

    assert flow.most_ahead <= PAGE and flow.batches == [10] * 100
    assert len(result.queued) == 1_000 - 10  # the failed batch, reported
