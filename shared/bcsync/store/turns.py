"""Each scheduled job's turns: one small item per store in one partition per job (`TURNS#job`).

A schedule tick used to read the whole registry (every store's settings, ~1.5 KB each) and make one
conditional write per enabled store whether or not it was due; a refused conditional write is billed as a
write all the same. Now a tick reads only this partition and writes only for the stores whose turn it is.

- **The item** (~60 bytes): `next_at` (epoch seconds; 0 = due now) and `every_seconds` (between the
  store's runs; 0 = at every tick, as for a job without `schedule_minutes`). A store that is disabled, or whose flow
  is off for the job, is *parked*: its item has no `next_at`, so no tick's filter or claim ever matches it.
- **Who writes it.** Every settings write (`StoreRegistry.put`: connect, configure, enable, disable, the
  console, the app's uninstall) follows the settings with one PutItem per ticked job: parked, or active with
  the store's interval. Made active, or its interval changed, the turn is due at once (`next_at` 0); an
  unrelated change keeps the booked turn (the put's condition refuses it).
- **The tick** queries the partition (eventually consistent, `next_at <= now`) and claims each due turn with
  one conditional UpdateItem (`next_at <= now`): of two ticks at once, one wins each store. A job message
  SQS refused gives the turn back, so the next tick tries it again.
- **No settings read.** The turn holds all a tick decides on (enabled, the flow on, the interval), so a
  tick reads no store's settings: the consumer reads them (consistently) for each message before it runs,
  skips a store disabled a moment ago and dead-letters a message whose store's settings do not validate.
- **Reconciling.** The first item of the partition, `#RECONCILED` (not a turn), says when the turns were
  last checked against the registry; missing (stores connected before turns existed) or a day old, the tick walks the
  registry page by page and writes only the turns that disagree with the settings (a store written by an
  older release) and deletes the turns of stores no longer connected. A store whose settings do not validate
  is reported and keeps its turn (or gets the default one): the consumer dead-letters each of its job
  messages with what is wrong, so the operator sees it in the jobs' DLQ and its alarm.

What a tick costs, as DynamoDB bills it (a write unit per 1 KB written, a refused conditional write
included; a read unit per 4 KB read, half for an eventually consistent read; a query is billed for the items
it reads before its filter), for 500 stores with 100 due: the query reads 500 x ~60 B = ~30 KB = 8 x 4 KB,
eventually consistent: 4 read units; the `#RECONCILED` read: 0.5; 100 claims of ~60 B: 100 write units;
10 SendMessageBatch requests. On demand ($0.625 per million write units, $0.125 per million read units)
that is $0.0000631 a tick, where the whole-registry tick cost 500 write units and ~96 read units (500 x
~1.5 KB settings, eventually consistent): $0.000324 (measured with `AwsUsage` through the local runtime:
100 write units where there were 500). On order import's 1-minute tick (43,200 a month) that is $2.73 a
month, $2.70 of it the due stores' own claims, where it was $14.01. A parked store costs its ~60 bytes of the
query: 1/135 of a read unit a tick.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bcsync.errors import InvalidSettingsError
from bcsync.store import keys
from bcsync.store.dynamo import conditional, query_all
from bcsync.store.flows import Verdict, decide
from bcsync.store.settings import DEFAULT_SCHEDULE_MINUTES, JobName, StoreSettings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

logger = logging.getLogger("bcsync.store.turns")

# The jobs a schedule ticks (template.yaml, `Schedule:`): the tracking writeback only consumes its queue.
TICKED_JOBS: tuple[JobName, ...] = ("order_import", "product_sync", "inventory_push", "readback")
REGULAR_TICK_OPTIONS = {"mode": "delta"}  # product sync's regular tick (template.yaml, DeltaTick)
SCHEDULE_SLACK_SECONDS = 30.0  # keeps a 5-minute interval on 1-minute ticks at 5, not 6
RECONCILE_EVERY_SECONDS = 86_400.0


@dataclass(frozen=True)
class Turn:
    """A store's due turn as the tick read it."""

    store_hash: str
    next_at: Decimal
    every: int  # seconds between the store's runs; 0: at every tick, nothing to book


def interval(settings: StoreSettings, job: JobName) -> int | None:
    """Seconds between the store's scheduled runs of `job` (0: every tick); None when it must not run."""
    if not settings.enabled or decide(settings, "tick", job).verdict is Verdict.SKIP:
        return None
    minutes = settings.schedule_minutes.get(job)
    return minutes * 60 if minutes else 0


class ScheduledTurns:
    def __init__(self, table: Table) -> None:
        self._table = table

    # --- kept by every settings write -----------------------------------------------------------------------

    def follow(self, settings: StoreSettings, *, active: bool) -> None:
        """The store's turns for these settings, one PutItem per ticked job: the active ones (`active=True`) or
        the parked ones. `StoreRegistry.put` writes the active turns before the settings and parks after them, so
        a failure or a crash between the two leaves at worst a turn whose run the consumer skips (the settings
        still say disabled, or off), never an active store without its runs until the daily check."""
        for job in TICKED_JOBS:
            every = interval(settings, job)
            if (every is not None) is not active:
                continue
            if every is None:
                self._table.put_item(Item=_item(job, settings.store_hash, None))
                continue
            # Due at once when it was parked, missing or on another interval; a turn already booked at this
            # interval stays booked (a settings change that is not about the schedule runs nothing early).
            conditional(
                self._table.put_item,
                Item=_item(job, settings.store_hash, every),
                ConditionExpression="attribute_not_exists(next_at) OR NOT every_seconds = :every",
                ExpressionAttributeValues={":every": every},
            )

    def forget(self, store_hash: str) -> None:
        for job in TICKED_JOBS:
            self._table.delete_item(Key=keys.turn(job, store_hash))

    # --- read and claimed by the tick -------------------------------------------------------------------------

    @staticmethod
    def claimed_by(options: dict[str, Any]) -> bool:
        """Whether a tick with these options claims turns: each job's regular tick does (order import's, read
        back's scan, the push's reconcile: no options; product sync's delta). Its other ticks (the nightly full
        sync, the nightly drift read, the hourly stock check) run for every active store instead."""
        return not options or options == REGULAR_TICK_OPTIONS

    def active(self, job: JobName) -> Iterator[str]:
        """Every store whose turn for the job is not parked, due or not: a tick with options of its own (the
        nightly full sync, the drift read, the hourly stock check) runs for each without claiming a turn, so it
        is never skipped because the job's regular tick booked the store's next turn."""
        for item in query_all(
            self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :store)",
            FilterExpression="attribute_exists(next_at)",
            ProjectionExpression="sk",
            ExpressionAttributeValues={":pk": keys.turns(job), ":store": keys.REGISTRY_ROW_PREFIX},
        ):
            yield str(item["sk"]).removeprefix(keys.REGISTRY_ROW_PREFIX)

    def due(self, job: JobName, *, now: float) -> Iterator[Turn]:
        """The turns due at `now`, page by page (eventually consistent: a turn a moment stale is claimed,
        or refused, by its conditional write). The `#RECONCILED` item is not a turn."""
        for item in query_all(
            self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :store)",
            FilterExpression="next_at <= :now",
            ProjectionExpression="sk, next_at, every_seconds",
            ExpressionAttributeValues={
                ":pk": keys.turns(job),
                ":store": keys.REGISTRY_ROW_PREFIX,
                ":now": _seconds(now),
            },
        ):
            yield Turn(
                store_hash=str(item["sk"]).removeprefix(keys.REGISTRY_ROW_PREFIX),
                next_at=Decimal(item["next_at"]),
                every=int(item.get("every_seconds", 0)),
            )

    def claim(self, job: JobName, turn: Turn, *, now: float) -> Decimal | None:
        """The store's turn is this caller's: books the next one and returns it (None: another tick
        claimed it first). A store that runs at every tick books nothing and costs no write."""
        if turn.every == 0:
            return turn.next_at
        booked = _seconds(now + turn.every - SCHEDULE_SLACK_SECONDS)
        made = conditional(
            self._table.update_item,
            Key=keys.turn(job, turn.store_hash),
            UpdateExpression="SET next_at = :next",
            ConditionExpression="next_at <= :now",
            ExpressionAttributeValues={":next": booked, ":now": _seconds(now)},
        )
        return booked if made else None

    def give_back(self, job: JobName, turn: Turn, booked: Decimal) -> None:
        """The job message could not be queued: the turn is due again, unless something rewrote it since."""
        if turn.every == 0:
            return
        conditional(
            self._table.update_item,
            Key=keys.turn(job, turn.store_hash),
            UpdateExpression="SET next_at = :was",
            ConditionExpression="next_at = :booked",
            ExpressionAttributeValues={":was": turn.next_at, ":booked": booked},
        )

    # --- checked against the registry, once a day ---------------------------------------------------------------

    def reconcile_due(self, job: JobName, *, now: float) -> bool:
        item = self._table.get_item(Key=keys.turns_reconciled(job)).get("Item")
        return item is None or float(str(item.get("reconciled_at", 0))) + RECONCILE_EVERY_SECONDS <= now

    def reconcile(
        self,
        job: JobName,
        stores: Iterable[tuple[str, StoreSettings | InvalidSettingsError]],
        *,
        now: float,
    ) -> list[str]:
        """Make the job's turns say what the registry says; returns the problems (settings that do not
        validate: the store's turn is left as it was)."""
        held: dict[str, dict[str, Any]] = {
            str(item["sk"]).removeprefix(keys.REGISTRY_ROW_PREFIX): item
            for item in query_all(
                self._table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :store)",
                ExpressionAttributeValues={":pk": keys.turns(job), ":store": keys.REGISTRY_ROW_PREFIX},
                ConsistentRead=True,
            )
        }
        problems: list[str] = []
        written = 0
        for store_hash, settings in stores:
            item = held.pop(store_hash, None)
            if isinstance(settings, InvalidSettingsError):
                # Its job messages go on (the consumer dead-letters each with what is wrong, as for any
                # message of such a store): a turn it had is kept, a store that had none gets the default.
                problems.append(str(settings))
                if item is not None:
                    continue
                every: int | None = DEFAULT_SCHEDULE_MINUTES.get(job, 0) * 60
            else:
                every = interval(settings, job)
            if item is not None and _agrees(item, every):
                continue
            # On the condition that the turn is still as read: a settings write since (its turn written
            # after its settings) wins over this reading of the registry.
            written += conditional(self._table.put_item, Item=_item(job, store_hash, every), **_as_held(item))
        for store_hash in held:  # no longer connected
            self._table.delete_item(Key=keys.turn(job, store_hash))
        self._table.put_item(Item={**keys.turns_reconciled(job), "reconciled_at": _seconds(now)})
        logger.info(
            "scheduled turns reconciled with the registry",
            extra={"job": job, "written": written, "forgotten": sorted(held), "problems": problems},
        )
        return problems


def _item(job: JobName, store_hash: str, every: int | None) -> dict[str, Any]:
    if every is None:
        return {**keys.turn(job, store_hash), "parked": True}
    return {**keys.turn(job, store_hash), "next_at": 0, "every_seconds": every}


def _agrees(item: dict[str, Any], every: int | None) -> bool:
    if every is None:
        return "next_at" not in item
    return "next_at" in item and int(item.get("every_seconds", -1)) == every


def _as_held(item: dict[str, Any] | None) -> dict[str, Any]:
    if item is None:
        return {"ConditionExpression": "attribute_not_exists(pk)"}
    if "next_at" not in item:
        return {"ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(next_at)"}
    return {"ConditionExpression": "next_at = :seen", "ExpressionAttributeValues": {":seen": item["next_at"]}}


def _seconds(moment: float) -> Decimal:
    return Decimal(str(round(moment, 3)))
