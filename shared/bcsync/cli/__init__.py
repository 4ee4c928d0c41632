"""`bcsync`: the operator's command line.

It works against a deployed stack (resource names and the secret prefix from the stack's outputs,
`--stack`) or against the local runtime (`AWS_ENDPOINT_URL` and the `BCSYNC_*` variables it prints); the
variables are used only for the stack they describe (`BCSYNC_STACK_NAME`).
Store tokens are read from an environment variable or standard input, never from an argument,
so they do not land in shell history or process listings.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from bcsync.cli.common import DEFAULT_STACK, STACK_ENV, TOKEN_ENV
from bcsync.cli.dlq import cmd_dlq_list, cmd_dlq_redrive
from bcsync.cli.inventory import cmd_inventory_push
from bcsync.cli.orders import cmd_orders_fetch, cmd_orders_resend, order_ids, since_text
from bcsync.cli.products import cmd_products_sync
from bcsync.cli.stores import cmd_configure, cmd_connect, cmd_disable, cmd_enable, cmd_list, cmd_show, cmd_status
from bcsync.errors import BcsyncError
from bigcommerce_client import BigCommerceError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bcsync", description="Operate bcsync: stores, jobs and their state.")
    parser.add_argument(
        "--stack",
        help=f"the stack whose table, queues and store secrets to use (default: ${STACK_ENV}, else {DEFAULT_STACK})",
    )
    parser.add_argument("--state-table", help="the state table (default: $BCSYNC_STATE_TABLE, else the stack's)")
    groups = parser.add_subparsers(dest="group", required=True)
    stores = groups.add_parser("stores", help="connect and manage BigCommerce stores").add_subparsers(
        dest="command", required=True
    )
    connect = stores.add_parser("connect", help="check a store's token and scopes, then save it")
    connect.add_argument("store_hash")
    connect.add_argument("--client-id", default="", help="the API account's client id")
    connect.add_argument("--name", help="a display name (default: the store's own)")
    connect.add_argument(
        "--webhook-url", help="where webhooks go (default: $BCSYNC_WEBHOOK_URL, else the stack's WebhookBaseUrl)"
    )
    connect.add_argument(
        "--no-webhooks", action="store_true", help="no webhooks (removes this store's): the schedules alone"
    )
    connect.add_argument("--token-env", default=TOKEN_ENV, help=f"variable holding the token (default {TOKEN_ENV})")
    connect.set_defaults(handler=cmd_connect)
    stores.add_parser("list", help="every connected store").set_defaults(handler=cmd_list)
    for name, handler, text in (
        ("show", cmd_show, "a store's settings, credentials state and last job runs"),
        ("disable", cmd_disable, "stop running jobs for a store"),
        ("enable", cmd_enable, "run jobs for a store again"),
    ):
        sub = stores.add_parser(name, help=text)
        sub.add_argument("store_hash")
        sub.set_defaults(handler=handler)
    configure = stores.add_parser(
        "configure", help="change a store's settings: --set FIELD=VALUE (a YAML value) and/or --file settings.yaml"
    )
    configure.add_argument("store_hash")
    configure.add_argument("--set", action="append", metavar="FIELD=VALUE", help="e.g. hold_minutes=30 (repeatable)")
    configure.add_argument("--file", help="a YAML mapping of settings, e.g. ship_option_map: {UPS Ground: GROUND}")
    configure.set_defaults(handler=cmd_configure)
    orders = groups.add_parser("orders", help="fetch or resend orders on demand").add_subparsers(
        dest="command", required=True
    )
    fetch = orders.add_parser("fetch", help="import now: the named orders, or every order changed since a time")
    fetch.add_argument("store_hash")
    which = fetch.add_mutually_exclusive_group(required=True)
    which.add_argument("--ids", type=order_ids, help="order ids, comma-separated")
    which.add_argument("--since", type=since_text, help="every order modified since (ISO 8601)")
    fetch.set_defaults(handler=cmd_orders_fetch)
    resend = orders.add_parser("resend", help="send orders the warehouse lost again, under their current version")
    resend.add_argument("store_hash")
    resend.add_argument("--ids", type=order_ids, required=True, help="order ids, comma-separated")
    resend.set_defaults(handler=cmd_orders_resend)
    products = groups.add_parser("products", help="sync products on demand").add_subparsers(
        dest="command", required=True
    )
    sync = products.add_parser("sync", help="a delta sync now (--full: the whole catalog)")
    sync.add_argument("store_hash")
    sync.add_argument("--full", action="store_true")
    sync.set_defaults(handler=cmd_products_sync)
    inventory = groups.add_parser("inventory", help="push stock to BigCommerce on demand").add_subparsers(
        dest="command", required=True
    )
    push = inventory.add_parser("push", help="push what differs now (--dry-run: only show it)")
    push.add_argument("store_hash")
    push.add_argument("--dry-run", action="store_true", help="show what would change; no call, nothing written")
    push.add_argument("--drift", action="store_true", help="read BigCommerce's levels first and correct them too")
    push.add_argument("--limit", type=int, default=50, help="lines of detail in a dry run (default 50)")
    push.set_defaults(handler=cmd_inventory_push)
    dlq = groups.add_parser("dlq", help="dead-letter queues: what is there and why; send it back").add_subparsers(
        dest="command", required=True
    )
    listing = dlq.add_parser("list", help="each dead-letter queue's depth (--show N: N messages and their reasons)")
    listing.add_argument("--show", type=int, default=0, metavar="N")
    listing.set_defaults(handler=cmd_dlq_list)
    redrive = dlq.add_parser("redrive", help="move a queue's dead letters back to it (e.g. StockInbound)")
    redrive.add_argument("queue")
    redrive.add_argument("--limit", type=int, default=10_000)
    redrive.set_defaults(handler=cmd_dlq_redrive)
    status = groups.add_parser("status", help="last run of each job, order cursor, problems, warehouse rejections")
    status.add_argument("store_hash", nargs="?", help="one store (default: every store)")
    status.set_defaults(handler=cmd_status)
    console = groups.add_parser("console", help="the operator's web console on 127.0.0.1: every store, the DLQs")
    console.add_argument("--port", type=int, default=8765, help="the local port (default 8765; 0: any free one)")
    console.set_defaults(handler=_cmd_console)
    return parser


def _cmd_console(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    from bcsync.cli.console import cmd_console  # the web console's modules (Jinja2) load only for it

    return cmd_console(args, stdin, out)


def main(argv: list[str] | None = None, *, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args, stdin or sys.stdin, out or sys.stdout))
    except (BcsyncError, BigCommerceError) as error:
        print(f"bcsync: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
