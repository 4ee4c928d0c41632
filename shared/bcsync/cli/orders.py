"""`bcsync orders fetch|resend`: an operator's job messages for order import.

`fetch --days N` is the one that answers "why is this order not in the warehouse?": it queues the import
of the window, waits for that run, then lists every order BigCommerce has in it - imported, or why not.
"""

from __future__ import annotations

import argparse
import io
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from bcsync.cli.common import queue_job, state_table, store_client
from bcsync.errors import CliError
from bcsync.orders.decide import OrderRules
from bcsync.orders.state import OrderRecord, OrderState
from bcsync.store.jobs import JobRun, JobState
from bcsync.store.registry import StoreRegistry
from bcsync.store.settings import StoreSettings
from bigcommerce_client import SYSTEM_CLOCK, Clock
from bigcommerce_client.models import Order

POLL_SECONDS = 0.5
CLOCK: Clock = SYSTEM_CLOCK  # the window's end: now (a test sets the local stack's clock)


def order_ids(text: str) -> list[int]:
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"order ids are whole numbers separated by commas, not {text!r}") from None
    if not ids or any(order_id <= 0 for order_id in ids):
        raise argparse.ArgumentTypeError(f"order ids are positive whole numbers, not {text!r}")
    return ids


def since_text(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--since takes an ISO date or time (2026-11-20T08:00:00Z), not {text!r}"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def window_days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = 0
    if not 1 <= days <= 90:  # beyond the order records' retention, bcsync would not know the older ones
        raise argparse.ArgumentTypeError(f"--days takes a whole number of days from 1 to 90, not {text!r}")
    return days


def cmd_orders_fetch(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    if args.days is None:
        options: dict[str, Any] = {"order_ids": args.ids} if args.ids else {"since": args.since}
        return queue_job(args, "order_import", options, out)
    table = state_table(args)
    settings = StoreRegistry(table).get(args.store_hash)
    since = datetime.fromtimestamp(CLOCK.now(), tz=UTC) - timedelta(days=args.days)
    jobs = JobState(table)
    before = jobs.last_run(args.store_hash, "order_import")
    queue_job(args, "order_import", {"since": since.isoformat()}, out if not args.json else io.StringIO())
    run = _wait_for_run(jobs, args.store_hash, before, args.wait)
    if run is None:
        raise CliError(
            f"the import of the last {args.days} days was queued but has not finished within {args.wait:.0f} s: "
            f"`bcsync status {args.store_hash}` shows it; run this again to see the orders"
        )
    report = window_report(args, settings, since)
    if args.json:
        print(json.dumps({"store_hash": args.store_hash, "since": since.isoformat(), "run": run.model_dump(),
                          "orders": report}, indent=2), file=out)  # fmt: skip
        return 0
    imported = [row for row in report if row["imported"]]
    print(
        f"{args.store_hash}: {len(report)} orders modified in the last {args.days} days; "
        f"{len(imported)} imported, {len(report) - len(imported)} not",
        file=out,
    )
    for row in report:
        print(f"  order {row['order_id']:<8} {'imported' if row['imported'] else 'not imported'}: {row['why']}",
              file=out)  # fmt: skip
    for problem in run.problems[:5]:
        print(f"  ! {problem}", file=out)
    return 0


def _wait_for_run(jobs: JobState, store_hash: str, before: JobRun | None, wait: float) -> JobRun | None:
    """The order import run that follows `before` once it has finished (or stopped to continue)."""
    deadline = time.monotonic() + wait
    while True:
        run = jobs.last_run(store_hash, "order_import")
        if run is not None and run != before and run.outcome != "running":
            return run
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL_SECONDS)


def window_report(args: argparse.Namespace, settings: StoreSettings, since: datetime) -> list[dict[str, Any]]:
    """Every order BigCommerce has modified since `since`: what bcsync did with it, in one reason."""
    records = OrderState(state_table(args), settings.store_hash)
    rules = OrderRules.of(settings)
    client, _ = store_client(args, settings)
    with client:
        orders = list(client.iter_orders(modified_since=since, include_line_items=False))
    return [_row(order, records.get(order.id), rules, settings) for order in orders]


def _row(order: Order, record: OrderRecord | None, rules: OrderRules, settings: StoreSettings) -> dict[str, Any]:
    status = f"status {order.status_id}" + (f" ({order.status})" if order.status else "")
    imported, why = False, ""
    if record is not None and record.version > 0:
        imported = True
        why = {"cancelled": f"sent to the warehouse, then cancelled (version {record.version})"}.get(
            record.state, f"sent to the warehouse (version {record.version})"
        )
    elif record is not None and record.state == "held":
        imported, why = True, f"read, waiting to be sent: {record.reason}"
    elif record is not None and record.reason:
        why = record.reason
    elif not rules.from_start_date(order):
        why = f"placed before the store's order_start_date ({settings.order_start_date})"
    elif order.status_id not in rules.release_statuses:
        releases = ", ".join(str(status_id) for status_id in sorted(rules.release_statuses))
        why = f"{status}: bcsync sends orders in status {releases} (setting release_statuses)"
    else:
        why = "not read yet: the run stopped before it (see `bcsync status`); run the fetch again"
    return {"order_id": order.id, "status_id": order.status_id, "imported": imported, "why": why}


def cmd_orders_resend(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    return queue_job(args, "order_import", {"resend_ids": args.ids}, out)
