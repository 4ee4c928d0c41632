"""The debounce (`queue_when_due`) under every interleaving of deliveries, clock and job runs: a hypothesis
state machine drives the real `JobState` on moto's DynamoDB, with a job queue that runs a message once its
delay has passed, and cuts into a delivery between its read of the window and its write, and between its
write and its message (where the message may also fail to go out).

What must hold, whatever the order:
- every change BigCommerce delivered is read by a job run that started after it, without the scan;
- one job message per window: two deliveries that both read the window closed open it once;
- a delivery writes at most once (its conditional write), and closes the window again only when its
  message failed.

`make test` runs a few short machines; `make fault` (FAULT_SCALE=1) runs many long ones.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

import boto3
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from moto import mock_aws

from bcsync.backbone.messages import JobMessage, JobQueue, queue_when_due
from bcsync.store.jobs import JobState
from tests.aws import create_table

SCALE = float(os.environ.get("FAULT_SCALE", "0"))
EXAMPLES, STEPS = (300, 40) if SCALE >= 1 else (6, 20)
DEBOUNCE = 5.0
_STORES = itertools.count(1)

# What may happen while a delivery is between two of its steps.
MEANWHILE = ("advance 1 s", "advance 6 s", "run due jobs", "another delivery", "another delivery, its message lost")


@dataclass
class Delivery:
    change: int  # which change it reports
    writes: int = 0  # conditional writes (UpdateItem) it made
    closes: int = 0  # windows it closed again (DeleteItem)


class RacingTable:
    """The state table, seen by the deliveries: counts each one's writes, and runs what `meanwhile` holds
    right after a delivery's read of the window."""

    def __init__(self, table: Any, current: Callable[[], Delivery]) -> None:
        self._table, self._current = table, current
        self.meanwhile: list[Callable[[], None]] = []

    def get_item(self, **request: Any) -> Any:
        answer = self._table.get_item(**request)
        interleaved, self.meanwhile = self.meanwhile, []
        for happen in interleaved:
            happen()
        return answer

    def update_item(self, **request: Any) -> Any:
        self._current().writes += 1
        return self._table.update_item(**request)

    def delete_item(self, **request: Any) -> Any:
        self._current().closes += 1
        return self._table.delete_item(**request)


class SlowSqs:
    """A job queue's SQS: runs what `meanwhile` holds before it takes a message, and loses it on request."""

    def __init__(self, machine: DebounceRaces) -> None:
        self._machine = machine
        self.meanwhile: list[Callable[[], None]] = []
        self.lose_next = False

    def send_message(self, *, QueueUrl: str, MessageBody: str, DelaySeconds: int) -> None:  # noqa: N803 - boto3's
        interleaved, self.meanwhile = self.meanwhile, []
        for happen in interleaved:
            happen()
        if self.lose_next:
            self.lose_next = False
            raise ConnectionError("SQS did not answer")
        self._machine.queued.append(self._machine.clock + DelaySeconds)
        self._machine.opened.append(self._machine.now_of[-1])


@dataclass
class Story:
    changes: list[int] = field(default_factory=list)  # the step at which each change happened
    runs: list[int] = field(default_factory=list)  # the step at which each job run started


class DebounceRaces(RuleBasedStateMachine):
    table: ClassVar[Any]

    def __init__(self) -> None:
        super().__init__()
        self.store_hash = f"race{next(_STORES):05d}"
        self.clock = 1_000_000.0
        self.step = 0  # order of events: a run reads the changes of earlier steps
        self.story = Story()
        self.pending: list[int] = []  # changes whose delivery BigCommerce has not had a 2xx for
        self.queued: list[float] = []  # job messages, by when they are due
        self.opened: list[float] = []  # the `now` of each delivery whose message went out
        self.now_of: list[float] = []  # the deliveries under way, innermost last
        self.deliveries: list[Delivery] = []
        self.done: list[Delivery] = []
        self.racing = RacingTable(self.table, lambda: self.deliveries[-1])
        self.sqs = SlowSqs(self)
        self.job_state = JobState(cast(Any, self.racing))
        self.queue = JobQueue(self.sqs, "OrderImportJobs")

    def _tick(self) -> int:
        self.step += 1
        return self.step

    # --- what happens ---------------------------------------------------------------------------------

    @rule()
    def a_change_in_the_store(self) -> None:
        self.story.changes.append(self._tick())
        self.pending.append(len(self.story.changes) - 1)

    @rule(seconds=st.sampled_from([0.5, 1.0, 2.5, 4.999, 5.0, 6.0]))
    def time_passes(self, seconds: float) -> None:
        self.clock += seconds

    @rule()
    def due_jobs_run(self) -> None:
        due = [at for at in self.queued if at <= self.clock]
        self.queued = [at for at in self.queued if at > self.clock]
        self.story.runs += [self._tick() for _ in due]  # each run's list query reads every change before it

    @rule(
        pick=st.integers(min_value=0, max_value=50),
        after_read=st.lists(st.sampled_from(MEANWHILE), max_size=3),
        before_send=st.lists(st.sampled_from(MEANWHILE), max_size=2),
        lost=st.booleans(),
    )
    def bigcommerce_delivers(self, pick: int, after_read: list[str], before_send: list[str], lost: bool) -> None:
        if self.pending:
            self._deliver(self.pending[pick % len(self.pending)], after_read, before_send, lost=lost)

    def _deliver(self, change: int, after_read: list[str], before_send: list[str], *, lost: bool) -> None:
        self.racing.meanwhile = [self._happening(what) for what in after_read]
        self.sqs.meanwhile = [self._happening(what) for what in before_send]
        self.sqs.lose_next = lost
        self.deliveries.append(Delivery(change))
        self.now_of.append(self.clock)
        message = JobMessage(job="order_import", store_hash=self.store_hash, trigger="webhook")
        try:
            queue_when_due(self.job_state, self.queue, message, now=self.clock, debounce_seconds=DEBOUNCE)
        except ConnectionError:
            if change not in self.pending:  # a copy was answered meanwhile; BigCommerce retries this one still
                self.pending.append(change)
        else:
            if change in self.pending:
                self.pending.remove(change)  # answered 200
        finally:
            self.now_of.pop()
            self.done.append(self.deliveries.pop())
            self.racing.meanwhile, self.sqs.meanwhile, self.sqs.lose_next = [], [], False

    def _happening(self, what: str) -> Callable[[], None]:
        def happen() -> None:
            if what.startswith("advance"):
                self.time_passes(1.0 if what == "advance 1 s" else 6.0)
            elif what == "run due jobs":
                self.due_jobs_run()
            else:  # another change, delivered while this delivery is under way
                self.a_change_in_the_store()
                outer = self.racing.meanwhile, self.sqs.meanwhile, self.sqs.lose_next
                self._deliver(self.pending[-1], [], [], lost=what.endswith("lost"))
                self.racing.meanwhile, self.sqs.meanwhile, self.sqs.lose_next = outer

        return happen

    # --- what must hold -------------------------------------------------------------------------------

    @invariant()
    def one_message_per_window(self) -> None:
        opened = sorted(self.opened)
        gaps = [later - earlier for earlier, later in itertools.pairwise(opened)]
        assert all(gap >= DEBOUNCE for gap in gaps), f"two job messages for one window: opened at {opened}"

    @invariant()
    def a_delivery_writes_at_most_once(self) -> None:
        for delivery in self.done:
            assert delivery.writes <= 1, f"a delivery wrote {delivery.writes} times"
            assert delivery.closes <= delivery.writes  # only the window it opened, when its message was lost

    def teardown(self) -> None:
        """BigCommerce's retries all arrive and every message's delay passes: each change has been read."""
        while self.pending or self.queued:
            if self.pending:
                self._deliver(self.pending[0], [], [], lost=False)
            else:
                self.time_passes(DEBOUNCE + 1)
                self.due_jobs_run()
        missed = [n for n, at in enumerate(self.story.changes) if not any(run > at for run in self.story.runs)]
        assert missed == [], f"changes no job run read: {missed} ({self.story})"


@pytest.fixture(scope="module")
def state_table() -> Iterator[Any]:
    """One table for the module: each machine is a store of its own."""
    with pytest.MonkeyPatch.context() as monkeypatch, mock_aws():
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.setenv(name, "testing")
        yield create_table(boto3.resource("dynamodb", region_name="us-east-1"), "StateTable", "races")


# The races by name: what happens, in order. `deliver` is one delivery of the oldest change not answered
# yet, with what happens after its read of the window, before its message, and whether that is lost.
Step = tuple[str, list[str], list[str], bool]
CHANGE: Step = ("change", [], [], False)
RACES: dict[str, list[Step]] = {
    "a change after the window's job ran opens a window of its own": [
        CHANGE, ("deliver", [], [], False), ("advance 6 s", [], [], False), ("run due jobs", [], [], False),
        CHANGE, ("deliver", [], [], False),
    ],
    "two deliveries read the window closed; one opens it, the other coalesces": [
        CHANGE, ("deliver", ["another delivery"], [], False),
    ],
    "read open; the window ends and its job runs before the delivery answers": [
        CHANGE, ("deliver", [], [], False), CHANGE, ("deliver", ["advance 6 s", "run due jobs"], [], False),
    ],
    "read closed, then the window is opened and its job run before the delivery writes": [
        CHANGE, ("deliver", ["another delivery", "advance 6 s", "run due jobs"], [], False),
    ],
    "a delivery coalesces into a window whose message is then lost": [
        CHANGE, ("deliver", [], ["another delivery"], True),
    ],
    "a slow opener's message is lost after its window ended and another opened": [
        CHANGE, ("deliver", [], ["advance 6 s", "another delivery"], True), CHANGE, ("deliver", [], [], False),
    ],
}  # fmt: skip


@pytest.mark.parametrize("race", list(RACES))
def test_a_named_race_misses_no_change_and_opens_one_window(state_table: Any, race: str) -> None:
    DebounceRaces.table = state_table
    machine = DebounceRaces()
    for act, after_read, before_send, lost in RACES[race]:
        if act == "change":
            machine.a_change_in_the_store()
        elif act == "deliver":
            machine._deliver(machine.pending[0], after_read, before_send, lost=lost)
        else:
            machine._happening(act)()
        machine.one_message_per_window()
        machine.a_delivery_writes_at_most_once()
    machine.teardown()
    machine.one_message_per_window()


def test_no_interleaving_of_deliveries_runs_and_lost_messages_misses_a_change_or_opens_a_window_twice(
    state_table: Any,
) -> None:
    DebounceRaces.table = state_table
    run_state_machine_as_test(
        DebounceRaces,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            derandomize=SCALE < 1,  # make test: the same machines every run; make fault: new ones
            phases=[Phase.generate, Phase.shrink] if SCALE >= 1 else [Phase.generate],
            suppress_health_check=list(HealthCheck),
        ),
    )
