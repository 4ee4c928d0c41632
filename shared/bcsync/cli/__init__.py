"""`bcsync`: the operator's command line.

It works against a deployed stack (resource names and the secret prefix from the stack's outputs,
`--stack`) or against the local runtime (`AWS_ENDPOINT_URL` and the `BCSYNC_*` variables it prints); the
variables are used only for the stack they describe (`BCSYNC_STACK_NAME`).
Store tokens are read from a hidden prompt or standard input (`--token-stdin`), never from an argument or
an environment variable, so they do not land in shell history, process listings or CI logs.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

import boto3

from bcsync import __version__
from bcsync.cli.common import DEFAULT_STACK, STACK_ENV
from bcsync.cli.dlq import cmd_dlq_list, cmd_dlq_redrive
from bcsync.cli.failures import EXIT_CODES, FAILED, explain
from bcsync.cli.inventory import cmd_inventory_push
from bcsync.cli.orders import cmd_orders_fetch, cmd_orders_resend, order_ids, since_text, window_days
from bcsync.cli.products import cmd_products_sync
from bcsync.cli.remove import cmd_remove
from bcsync.cli.stores import (
    cmd_configure,
    cmd_connect,
    cmd_disable,
    cmd_enable,
    cmd_list,
    cmd_show,
    cmd_status,
)
from bcsync.errors import BcsyncError
from bigcommerce_client import BigCommerceError

# The options every command takes, before or after its name: `bcsync --stack prod status` and
# `bcsync status --stack prod` are the same. SUPPRESS keeps a subcommand from resetting what came first.
GLOBAL_OPTIONS = argparse.ArgumentParser(add_help=False)
GLOBAL_OPTIONS.add_argument(
    "--stack",
    default=argparse.SUPPRESS,
    help=f"the stack whose table, queues and store secrets to use (default: ${STACK_ENV}, else {DEFAULT_STACK})",
)
GLOBAL_OPTIONS.add_argument("--profile", default=argparse.SUPPRESS, help="the AWS profile (default: AWS's own)")
GLOBAL_OPTIONS.add_argument("--region", default=argparse.SUPPRESS, help="the AWS region (default: the profile's)")
GLOBAL_OPTIONS.add_argument(
    "--state-table", default=argparse.SUPPRESS, help="the state table (default: $BCSYNC_STATE_TABLE, else the stack's)"
)
GLOBAL_DEFAULTS = {"stack": None, "profile": None, "region": None, "state_table": None, "json": False}

# What a reading command takes to print JSON instead of text.
READING = argparse.ArgumentParser(add_help=False)
READING.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON, for scripts")

EPILOG = "exit codes:\n" + "\n".join(f"  {code}  {meaning}" for code, meaning in EXIT_CODES.items())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bcsync",
        description="Operate bcsync: stores, jobs and their state.",
        parents=[GLOBAL_OPTIONS],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"bcsync {__version__}")
    groups = parser.add_subparsers(dest="group", required=True)

    def group(name: str, text: str) -> argparse._SubParsersAction[argparse.ArgumentParser]:
        return groups.add_parser(name, help=text, parents=[GLOBAL_OPTIONS]).add_subparsers(
            dest="command", required=True
        )

    def command(
        within: argparse._SubParsersAction[argparse.ArgumentParser], name: str, text: str, *, reads: bool = False
    ) -> argparse.ArgumentParser:
        return within.add_parser(name, help=text, parents=[GLOBAL_OPTIONS, READING] if reads else [GLOBAL_OPTIONS])

    stores = group("stores", "connect and manage BigCommerce stores")
    connect = command(stores, "connect", "check a store's token and scopes, then save it")
    connect.add_argument("store_hash")
    connect.add_argument("--client-id", default="", help="the API account's client id")
    connect.add_argument("--name", help="a display name (default: the store's own)")
    connect.add_argument(
        "--webhook-url", help="where webhooks go (default: $BCSYNC_WEBHOOK_URL, else the stack's WebhookBaseUrl)"
    )
    connect.add_argument(
        "--no-webhooks", action="store_true", help="no webhooks (removes this store's): the schedules alone"
    )
    connect.add_argument(
        "--token-stdin",
        action="store_true",
        help="read the access token from standard input (default: a hidden prompt; a pipe is read too)",
    )
    connect.set_defaults(handler=cmd_connect)
    command(stores, "list", "every connected store", reads=True).set_defaults(handler=cmd_list)
    show = command(stores, "show", "a store's settings, credentials state and last job runs", reads=True)
    show.add_argument("store_hash")
    show.set_defaults(handler=cmd_show)
    for name, handler, text in (
        ("disable", cmd_disable, "stop running jobs for a store"),
        ("enable", cmd_enable, "run jobs for a store again"),
    ):
        sub = command(stores, name, text)
        sub.add_argument("store_hash")
        sub.set_defaults(handler=handler)
    remove = command(stores, "remove", "delete a store from this stack: its secret, its webhooks and its data")
    remove.add_argument("store_hash")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    remove.set_defaults(handler=cmd_remove)
    configure = command(
        stores, "configure", "change a store's settings: --set FIELD=VALUE (a YAML value) and/or --file settings.yaml"
    )
    configure.add_argument("store_hash")
    configure.add_argument("--set", action="append", metavar="FIELD=VALUE", help="e.g. hold_minutes=30 (repeatable)")
    configure.add_argument("--file", help="a YAML mapping of settings, e.g. ship_option_map: {UPS Ground: GROUND}")
    configure.set_defaults(handler=cmd_configure)

    orders = group("orders", "fetch or resend orders on demand")
    fetch = command(
        orders,
        "fetch",
        "import now: the named orders, every order changed since a time, or the last N days with a report",
        reads=True,
    )
    fetch.add_argument("store_hash")
    which = fetch.add_mutually_exclusive_group(required=True)
    which.add_argument("--ids", type=order_ids, help="order ids, comma-separated")
    which.add_argument("--since", type=since_text, help="every order modified since (ISO 8601)")
    which.add_argument(
        "--days",
        type=window_days,
        metavar="N",
        help="every order modified in the last N days; waits for the run, then lists each order: imported, or why not",
    )
    fetch.add_argument(
        "--wait", type=float, default=300.0, metavar="SECONDS", help="with --days: how long to wait for the run"
    )
    fetch.set_defaults(handler=cmd_orders_fetch)
    resend = command(orders, "resend", "send orders the warehouse lost again, under their current version")
    resend.add_argument("store_hash")
    resend.add_argument("--ids", type=order_ids, required=True, help="order ids, comma-separated")
    resend.set_defaults(handler=cmd_orders_resend)

    products = group("products", "sync products on demand")
    sync = command(products, "sync", "a delta sync now (--full: the whole catalog)")
    sync.add_argument("store_hash")
    sync.add_argument("--full", action="store_true")
    sync.set_defaults(handler=cmd_products_sync)

    inventory = group("inventory", "push stock to BigCommerce on demand")
    push = command(inventory, "push", "push what differs now (--dry-run: only show it)", reads=True)
    push.add_argument("store_hash")
    push.add_argument("--dry-run", action="store_true", help="show what would change; no call, nothing written")
    push.add_argument("--drift", action="store_true", help="read BigCommerce's levels first and correct them too")
    push.add_argument("--limit", type=int, default=50, help="lines of detail in a dry run (default 50)")
    push.set_defaults(handler=cmd_inventory_push)

    dlq = group("dlq", "dead-letter queues: what is there and why; send it back")
    listing = command(
        dlq, "list", "each dead-letter queue's depth (--show N: N messages and their reasons)", reads=True
    )
    listing.add_argument("--show", type=int, default=0, metavar="N")
    listing.set_defaults(handler=cmd_dlq_list)
    redrive = command(dlq, "redrive", "move a queue's dead letters back to it (e.g. StockInbound)")
    redrive.add_argument("queue")
    redrive.add_argument("--limit", type=int, default=10_000)
    redrive.set_defaults(handler=cmd_dlq_redrive)

    status = groups.add_parser(
        "status",
        help="each flow's last run or batch, the order cursor, problems, warehouse rejections",
        parents=[GLOBAL_OPTIONS, READING],
    )
    status.add_argument("store_hash", nargs="?", help="one store (default: every store)")
    status.set_defaults(handler=cmd_status)
    console = groups.add_parser(
        "console", help="the operator's web console on 127.0.0.1: every store, the DLQs", parents=[GLOBAL_OPTIONS]
    )
    console.add_argument("--port", type=int, default=8765, help="the local port (default 8765; 0: any free one)")
    console.set_defaults(handler=_cmd_console)
    return parser


def _cmd_console(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    from bcsync.cli.console import cmd_console  # the web console's modules (Jinja2) load only for it

    return cmd_console(args, stdin, out)


def parse(argv: list[str] | None) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    for name, default in GLOBAL_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    return args


def main(argv: list[str] | None = None, *, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    args = parse(argv)
    previous = boto3.DEFAULT_SESSION
    try:
        if args.profile or args.region:
            # Every client the command makes comes from this session; the previous one is put back after,
            # so a caller in the same process (a test, the demo) is not left with this command's profile.
            boto3.setup_default_session(profile_name=args.profile, region_name=args.region)
        return int(args.handler(args, stdin or sys.stdin, out or sys.stdout))
    except (BcsyncError, BigCommerceError) as error:
        failure = explain(error)
        print(f"bcsync: {failure.line if failure else error}", file=sys.stderr)
        return failure.code if failure else FAILED
    except Exception as error:
        failure = explain(error)
        if failure is None:
            raise  # a bug: its traceback is what a report needs
        print(f"bcsync: {failure.line}", file=sys.stderr)
        return failure.code
    finally:
        boto3.DEFAULT_SESSION = previous


if __name__ == "__main__":
    sys.exit(main())
