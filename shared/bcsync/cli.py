"""`bcsync`: the operator's command line.

It works against a deployed stack (resource names from the stack's outputs, `--stack`) or
against the local runtime (`AWS_ENDPOINT_URL` and the `BCSYNC_*` variables it prints).
Store tokens are read from an environment variable or standard input, never from an argument,
so they do not land in shell history or process listings.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr, ValidationError

from bigcommerce_client import SYSTEM_CLOCK, BigCommerceClient, BigCommerceError

from .connect import ConnectError, check_scopes, check_store
from .credentials import CredentialsError, CredentialStore, StoreCredentials
from .inbound import REASON_ATTRIBUTE
from .inventory_push import push_for
from .jobs import JobMessage
from .order_state import OrderState
from .settings import JOBS, JobName, StoreSettings, describe_validation_error
from .state import InvalidSettingsError, JobState, ProblemLog, StoreRegistry, UnknownStoreError
from .webhook_registration import ensure_hooks, remove_hooks, webhook_destination

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

TOKEN_ENV = "BCSYNC_ACCESS_TOKEN"  # noqa: S105 - the variable's name, not a token


class CliError(Exception):
    pass


def _state_table(args: argparse.Namespace) -> Table:
    name = args.state_table or os.environ.get("BCSYNC_STATE_TABLE")
    if not name:
        name = _stack_output(args.stack, "StateTableName")
    if not name:
        raise CliError(f"cannot find the state table: set BCSYNC_STATE_TABLE or deploy stack {args.stack}")
    return boto3.resource("dynamodb").Table(name)


def _read_token(args: argparse.Namespace, stdin: TextIO) -> SecretStr:
    token = os.environ.get(args.token_env, "")
    if not token and not stdin.isatty():
        token = stdin.readline()
    token = token.strip()
    if not token:
        raise CliError(
            f"give the store's access token in ${args.token_env} or on standard input (never as an argument)"
        )
    return SecretStr(token)


def cmd_connect(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    token = _read_token(args, stdin)
    try:
        settings = StoreSettings(store_hash=args.store_hash, name=args.name or "")
    except ValidationError as error:
        raise CliError(describe_validation_error(args.store_hash, error)) from None
    with BigCommerceClient(store_hash=settings.store_hash, access_token=token) as client:
        try:
            info = check_store(client)
            missing = check_scopes(client)
        except ConnectError as error:
            raise CliError(str(error)) from None
    if missing:
        raise CliError(
            f"store {settings.store_hash}: the API account lacks {', '.join(missing)}; grant them in the "
            "BigCommerce control panel (Settings > API accounts) and connect again. Nothing was saved."
        )
    if not settings.name:
        settings.name = str(info.get("name", ""))
    credential_store = CredentialStore(client=boto3.client("secretsmanager"))
    store_credentials = StoreCredentials(
        store_hash=settings.store_hash,
        client_id=args.client_id,
        access_token=token,
        # A reconnect keeps the webhook secret, so deliveries already on their way still verify.
        webhook_secret=_existing_webhook_secret(credential_store, settings.store_hash)
        or SecretStr(secrets.token_urlsafe(32)),
    )
    registry = StoreRegistry(_state_table(args))
    with contextlib.suppress(UnknownStoreError, InvalidSettingsError):
        settings = registry.get(settings.store_hash).model_copy(update={"enabled": True, "name": settings.name})
    previous_destination = settings.webhook_destination
    if args.no_webhooks:
        settings.webhook_destination = None
    elif base_url := _webhook_base_url(args):
        settings.webhook_destination = webhook_destination(base_url, settings.store_hash)
    # The secret first, then the registry entry that makes the store active: a failure in between
    # leaves an inactive secret that the next `connect` overwrites, never an active store without one.
    credential_store.put(store_credentials)
    registry.put(settings)
    print(f"Connected store {settings.store_hash} ({settings.name}): every scope the jobs need is granted.", file=out)
    with BigCommerceClient(store_hash=settings.store_hash, access_token=token) as client:
        if previous_destination and previous_destination != settings.webhook_destination:
            removed = remove_hooks(client, destination=previous_destination)
            print(f"Webhooks → {previous_destination}: {removed} removed.", file=out)
        if settings.webhook_destination is None:
            print("Webhooks: not registered; the schedules alone pick up changes.", file=out)
        else:
            _ensure_hooks(client, settings.webhook_destination, store_credentials.webhook_secret, out)
    return 0


def _ensure_hooks(client: BigCommerceClient, destination: str, secret: SecretStr, out: TextIO) -> None:
    report = ensure_hooks(client, destination=destination, secret=secret)
    print(f"Webhooks → {destination}: {report.summary()}.", file=out)


def _existing_webhook_secret(credential_store: CredentialStore, store_hash: str) -> SecretStr | None:
    try:
        return credential_store.get(store_hash, force_fetch=True).webhook_secret
    except CredentialsError:
        return None


def _webhook_base_url(args: argparse.Namespace) -> str | None:
    """--webhook-url, else $BCSYNC_WEBHOOK_URL, else the stack's WebhookBaseUrl output."""
    url = args.webhook_url or os.environ.get("BCSYNC_WEBHOOK_URL")
    if url:
        return str(url)
    try:
        return _stack_output(args.stack, "WebhookBaseUrl")
    except (BotoCoreError, ClientError):
        return None


def _stack_output(stack: str, key: str) -> str | None:
    outputs = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    return next((str(o["OutputValue"]) for o in outputs if o["OutputKey"] == key), None)


def _store_client(settings: StoreSettings) -> tuple[BigCommerceClient, StoreCredentials]:
    credentials = CredentialStore(client=boto3.client("secretsmanager")).get(settings.store_hash, force_fetch=True)
    return BigCommerceClient(store_hash=settings.store_hash, access_token=credentials.access_token), credentials


def cmd_list(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    registry = StoreRegistry(_state_table(args))
    rows = list(registry.iter_valid(enabled_only=False))
    if not rows:
        print("No stores connected. Run `bcsync stores connect STORE_HASH`.", file=out)
    for row in rows:
        if isinstance(row, InvalidSettingsError):
            print(f"!  {row}", file=out)
        else:
            print(f"{'on ' if row.enabled else 'off'} {row.store_hash:<12} {row.name}", file=out)
    return 0


def cmd_show(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    table = _state_table(args)
    settings = StoreRegistry(table).get(args.store_hash)
    try:
        CredentialStore(client=boto3.client("secretsmanager")).get(args.store_hash, force_fetch=True)
        credentials_state = "present"
    except CredentialsError as error:
        credentials_state = f"PROBLEM: {error}"
    jobs: dict[str, Any] = {}
    for job in JOBS:
        run = JobState(table).last_run(args.store_hash, job)
        jobs[job] = run.model_dump(exclude={"store_hash", "job"}) if run else None
    report = {"settings": settings.model_dump(mode="json"), "credentials": credentials_state, "last_runs": jobs}
    print(json.dumps(report, indent=2), file=out)
    return 0


def cmd_status(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    """Per store: each job's last run, the order cursor, and the problems an operator must see."""
    table = _state_table(args)
    registry, jobs_state = StoreRegistry(table), JobState(table)
    stores = [registry.get(args.store_hash)] if args.store_hash else registry.list()
    if not stores:
        print("No stores connected. Run `bcsync stores connect STORE_HASH`.", file=out)
    for settings in stores:
        print(
            f"{settings.store_hash} ({settings.name or 'unnamed'}){'' if settings.enabled else ' - disabled'}", file=out
        )
        for job in JOBS:
            run = jobs_state.last_run(settings.store_hash, job)
            if run is None:
                print(f"  {job:<19} never ran", file=out)
                continue
            figures = ", ".join(f"{name} {value}" for name, value in sorted(run.figures.items()))
            print(
                f"  {job:<19} {run.outcome} at {run.finished_at or run.started_at}: {figures or 'nothing to do'}",
                file=out,
            )
            for problem in run.problems[:5]:
                print(f"    ! {problem}", file=out)
        cursor = OrderState(table, settings.store_hash).cursor()
        print(f"  orders modified up to {cursor.isoformat() if cursor else '(not yet scanned)'} are imported", file=out)
        for logged in ProblemLog(table, settings.store_hash).list():
            print(f"  ! {logged['kind']} {logged['subject']}: {logged['text']} ({logged['at']})", file=out)
    return 0


def _queue_job(args: argparse.Namespace, job: JobName, options: dict[str, Any], out: TextIO) -> int:
    """Queue an on-demand run: it shares the store's pace and failure handling with scheduled ones."""
    StoreRegistry(_state_table(args)).get(args.store_hash)  # a clear error for a store not connected
    variable = f"BCSYNC_{job.upper()}_QUEUE_URL"
    url = os.environ.get(variable) or _stack_output(
        args.stack, f"{''.join(w.title() for w in job.split('_'))}JobsQueueUrl"
    )
    if not url:
        raise CliError(f"cannot find the {job} queue: set {variable} or deploy stack {args.stack}")
    message = JobMessage(job=job, store_hash=args.store_hash, trigger="manual", options=options)
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody=message.model_dump_json())
    print(
        f"Queued {job.replace('_', ' ')} for {args.store_hash}; `bcsync status {args.store_hash}` shows the run.",
        file=out,
    )
    return 0


def _order_ids(text: str) -> list[int]:
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"order ids are whole numbers separated by commas, not {text!r}") from None
    if not ids or any(order_id <= 0 for order_id in ids):
        raise argparse.ArgumentTypeError(f"order ids are positive whole numbers, not {text!r}")
    return ids


def _since(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--since takes an ISO date or time (2026-11-20T08:00:00Z), not {text!r}"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def cmd_orders_fetch(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    options: dict[str, Any] = {"order_ids": args.ids} if args.ids else {"since": args.since}
    return _queue_job(args, "order_import", options, out)


def cmd_orders_resend(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    return _queue_job(args, "order_import", {"resend_ids": args.ids}, out)


def cmd_products_sync(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    return _queue_job(args, "product_sync", {"mode": "full" if args.full else "delta"}, out)


def cmd_inventory_push(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    if not args.dry_run:
        return _queue_job(args, "inventory_push", {"drift": True} if args.drift else {}, out)
    # A dry run is worked out here, from the stored state: no BigCommerce call, nothing written.
    table = _state_table(args)
    settings = StoreRegistry(table).get(args.store_hash)
    client, _ = _store_client(settings)
    with client:
        plan = push_for(settings, client, table=table, clock=SYSTEM_CLOCK).plan(merge=False)
    print(
        f"{args.store_hash}: {len(plan.sellable.by_sku)} SKUs evaluated, {len(plan.changes)} items would change "
        f"({plan.merged} stock messages waiting), {len(plan.sellable.problems)} SKUs with problems",
        file=out,
    )
    for target, quantity in list(plan.changes.items())[: args.limit]:
        was = plan.pushed.get(target.key())
        skus = ", ".join(plan.sellable.skus_of(target))
        print(
            f"  SKU {skus}: {target.kind} {target.item_id} at location {target.location_id}: "
            f"{'-' if was is None else was} → {quantity}",
            file=out,
        )
    for sku, reason in sorted(plan.sellable.problems.items())[: args.limit]:
        print(f"  ! SKU {sku}: {reason}", file=out)
    return 0


# Changed by their own commands, which do more than write the field (webhooks, the store's identity).
NOT_CONFIGURABLE = {"store_hash": "it names the store", "enabled": "use `bcsync stores enable|disable`",
                    "webhook_destination": "use `bcsync stores connect`"}  # fmt: skip


def cmd_configure(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    """Settings from a YAML file and `--set FIELD=VALUE` flags (each value read as YAML: 30, [11, 9],
    {UPS Ground: GROUND}), checked whole by the settings model before anything is saved."""
    import yaml  # the operator's tool only: no Lambda imports it

    changes: dict[str, Any] = {}
    if args.file:
        loaded = yaml.safe_load(Path(args.file).read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise CliError(f"{args.file}: a YAML mapping of setting names to values is needed")
        changes.update(loaded)
    for assignment in args.set or []:
        name, sign, raw = assignment.partition("=")
        if not sign or not name.strip():
            raise CliError(f"--set takes FIELD=VALUE, not {assignment!r}")
        changes[name.strip()] = yaml.safe_load(raw) if raw.strip() else ""
    if not changes:
        raise CliError("nothing to change: give --set FIELD=VALUE or --file settings.yaml")
    for name, why in NOT_CONFIGURABLE.items():
        if name in changes:
            raise CliError(f"{name} cannot be configured here: {why}")
    changes = {name: _plain(value) for name, value in changes.items()}
    registry = StoreRegistry(_state_table(args))
    current = registry.get(args.store_hash)
    try:
        settings = StoreSettings.model_validate(current.model_dump(mode="json") | changes)
    except ValidationError as error:
        raise CliError(describe_validation_error(args.store_hash, error)) from None
    before, after = current.model_dump(mode="json"), settings.model_dump(mode="json")
    changed = [name for name in changes if before.get(name) != after.get(name)]
    registry.put(settings)
    for name in changed:
        print(f"{args.store_hash}: {name}: {json.dumps(before.get(name))} → {json.dumps(after.get(name))}", file=out)
    if not changed:
        print(f"{args.store_hash}: already so; nothing changed", file=out)
    return 0


def _plain(value: Any) -> Any:
    """YAML reads 2026-11-20 as a date: settings take ISO text."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _queues(args: argparse.Namespace) -> dict[str, str]:
    """Every queue of the stack by name (`StockInbound`, `StockInboundDLQ`, ...)."""
    if os.environ.get("BCSYNC_QUEUES"):
        loaded = json.loads(os.environ["BCSYNC_QUEUES"])
        return {str(name): str(url) for name, url in loaded.items()}
    outputs = boto3.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0].get("Outputs", [])
    return {
        str(o["OutputKey"]).removesuffix("QueueUrl"): str(o["OutputValue"])
        for o in outputs
        if str(o["OutputKey"]).endswith("QueueUrl")
    }


def cmd_dlq_list(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    queues, sqs = _queues(args), boto3.client("sqs")
    dead = {name: url for name, url in sorted(queues.items()) if name.endswith("DLQ")}
    if not dead:
        raise CliError(f"no dead-letter queues found: deploy stack {args.stack} or set BCSYNC_QUEUES")
    for name, url in dead.items():
        depth = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        print(f"{name}: {depth['Attributes']['ApproximateNumberOfMessages']} messages", file=out)
        if not args.show:
            continue
        # Looked at, not taken: each comes back at once (visibility 0).
        seen = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(args.show, 10), VisibilityTimeout=0, MessageAttributeNames=["All"]
        ).get("Messages", [])
        for message in seen:
            why = message.get("MessageAttributes", {}).get(REASON_ATTRIBUTE)
            reason = str(why.get("StringValue", "")) if why else "(no reason)"
            print(f"  - {reason}: {message['Body'][:160]}", file=out)
    return 0


def cmd_dlq_redrive(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    """Move dead letters back to their queue, once whatever made them fail is fixed."""
    queues, sqs = _queues(args), boto3.client("sqs")
    source = args.queue.removesuffix("DLQ")
    if source not in queues or f"{source}DLQ" not in queues:
        names = ", ".join(sorted(name for name in queues if f"{name}DLQ" in queues))
        raise CliError(f"no queue {args.queue!r} with a dead-letter queue; one of: {names}")
    moved = 0
    while moved < args.limit:
        batch = sqs.receive_message(
            QueueUrl=queues[f"{source}DLQ"], MaxNumberOfMessages=min(10, args.limit - moved), VisibilityTimeout=60
        ).get("Messages", [])
        if not batch:
            break
        # Ten at a time each way; a message is deleted from the DLQ only once its queue has it again.
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {"Id": str(n), "MessageBody": m["Body"]} for n, m in enumerate(batch)
        ]
        sent = sqs.send_message_batch(QueueUrl=queues[source], Entries=entries).get("Successful", [])
        done = [batch[int(entry["Id"])] for entry in sent]
        if done:
            sqs.delete_message_batch(
                QueueUrl=queues[f"{source}DLQ"],
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)],
            )
        moved += len(done)
        if len(done) < len(batch):
            raise CliError(
                f"{len(batch) - len(done)} messages could not be sent back to {source}; they stay in its DLQ"
            )
        print(f"  moved {moved} ...", file=out)
    print(f"{moved} messages moved from {source}DLQ back to {source}", file=out)
    return 0


def cmd_disable(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    settings = StoreRegistry(_state_table(args)).set_enabled(args.store_hash, False)
    print(f"Store {args.store_hash} disabled: no job runs for it until `bcsync stores enable`.", file=out)
    if settings.webhook_destination:
        client, _ = _store_client(settings)
        with client:
            removed = remove_hooks(client, destination=settings.webhook_destination)
        print(f"Webhooks: {removed} removed.", file=out)
    return 0


def cmd_enable(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    settings = StoreRegistry(_state_table(args)).set_enabled(args.store_hash, True)
    print(f"Store {args.store_hash} enabled.", file=out)
    if settings.webhook_destination:
        client, credentials = _store_client(settings)
        with client:
            _ensure_hooks(client, settings.webhook_destination, credentials.webhook_secret, out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bcsync", description="Operate bcsync: stores, jobs and their state.")
    parser.add_argument("--stack", default="bcsync", help="the deployed stack whose outputs name the resources")
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
    which.add_argument("--ids", type=_order_ids, help="order ids, comma-separated")
    which.add_argument("--since", type=_since, help="every order modified since (ISO 8601)")
    fetch.set_defaults(handler=cmd_orders_fetch)
    resend = orders.add_parser("resend", help="send orders the warehouse lost again, under their current version")
    resend.add_argument("store_hash")
    resend.add_argument("--ids", type=_order_ids, required=True, help="order ids, comma-separated")
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
    return parser


def main(argv: list[str] | None = None, *, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args, stdin or sys.stdin, out or sys.stdout))
    except (CliError, UnknownStoreError, InvalidSettingsError, CredentialsError, BigCommerceError) as error:
        print(f"bcsync: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
