"""`bcsync products sync`: a delta or full product sync queued now."""

from __future__ import annotations

import argparse
from typing import TextIO

from bcsync.cli.common import queue_job


def cmd_products_sync(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    return queue_job(args, "product_sync", {"mode": "full" if args.full else "delta"}, out)
