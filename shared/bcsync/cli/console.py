"""`bcsync console`: every store's pages, the dead-letter queues and enable/disable, on 127.0.0.1 only."""

from __future__ import annotations

import argparse
from typing import TextIO

import boto3

from bcsync.cli.common import credential_store, from_stack, queue_urls, state_table
from bcsync.console.data import ConsoleData
from bcsync.console.local import OperatorConsole


def console_data(args: argparse.Namespace) -> ConsoleData:
    """The operator's console acts with the operator's own credentials on this stack's resources alone."""
    return ConsoleData(
        table=state_table(args),
        sqs=boto3.client("sqs"),
        credentials=credential_store(args),
        order_import_queue_url=from_stack(args, "BCSYNC_ORDER_IMPORT_QUEUE_URL", "OrderImportJobsQueueUrl"),
        queues=queue_urls(args),
    )


def cmd_console(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    console = OperatorConsole(console_data(args), port=args.port)
    print(f"bcsync console on {console.url} (this machine only). Open:\n  {console.login_url}", file=out, flush=True)
    try:
        console.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        console.stop()
    return 0
