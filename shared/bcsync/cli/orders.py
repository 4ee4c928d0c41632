"""`bcsync orders fetch|resend`: an operator's job messages for order import."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any, TextIO

from bcsync.cli.common import queue_job


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


def cmd_orders_fetch(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    options: dict[str, Any] = {"order_ids": args.ids} if args.ids else {"since": args.since}
    return queue_job(args, "order_import", options, out)


def cmd_orders_resend(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    return queue_job(args, "order_import", {"resend_ids": args.ids}, out)
