"""`bcsync stores ...`: connect, list, show, status, configure, enable, disable."""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from bcsync.cli.common import credential_store, plain, read_token, state_table, webhook_base_url
from bcsync.errors import CliError, ConnectError, CredentialsError, InvalidSettingsError
from bcsync.store.connect import ScopesMissingError, connect_store
from bcsync.store.credentials import CredentialStore
from bcsync.store.enablement import set_store_enabled
from bcsync.store.jobs import JobState
from bcsync.store.registry import StoreRegistry
from bcsync.store.settings import JOBS, StoreSettings, describe_validation_error
from bcsync.store.status import QUEUE_FLOWS, read_status
from bigcommerce_client import BigCommerceClient


def cmd_connect(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    token = read_token(args, stdin)
    secrets_of_stack = credential_store(args)
    try:
        connection = connect_store(
            store_hash=args.store_hash,
            token=token,
            client_id=args.client_id,
            name=args.name or "",
            registry=StoreRegistry(state_table(args)),
            credentials=secrets_of_stack,
            client_factory=lambda settings, credentials: BigCommerceClient(
                store_hash=settings.store_hash, access_token=credentials.access_token
            ),
            webhook_base_url=None if args.no_webhooks else webhook_base_url(args),
            register_webhooks=not args.no_webhooks,
        )
    except ScopesMissingError as error:
        raise CliError(
            f"store {args.store_hash}: the API account lacks {', '.join(error.missing)}; grant them in the "
            "BigCommerce control panel (Settings > API accounts) and connect again. Nothing was saved."
        ) from None
    except ConnectError as error:
        raise CliError(str(error)) from None
    settings = connection.settings
    print(f"Connected store {settings.store_hash} ({settings.name}): every scope the jobs need is granted.", file=out)
    _report_legacy_secret(secrets_of_stack, settings.store_hash, out)
    if connection.previous_destination and connection.previous_destination != settings.webhook_destination:
        print(f"Webhooks → {connection.previous_destination}: {connection.previous_hooks_removed} removed.", file=out)
    if connection.hooks is None:
        print("Webhooks: not registered; the schedules alone pick up changes.", file=out)
    else:
        print(f"Webhooks → {settings.webhook_destination}: {connection.hooks.summary()}.", file=out)
    return 0


def _report_legacy_secret(secrets_of_stack: CredentialStore, store_hash: str, out: TextIO) -> None:
    """A secret left under the prefix every stack once shared is named, never moved nor deleted here: the
    operator decides (docs/operations.md, "Two stacks in one account")."""
    try:
        legacy = secrets_of_stack.legacy_secret(store_hash)
    except (BotoCoreError, ClientError):
        return  # only a report: the store is connected either way
    if legacy:
        print(
            f"Note: secret {legacy} from before each stack had its own secrets is still there; no stack reads it. "
            f"Delete it once every stack using this store has been connected again: "
            f"aws secretsmanager delete-secret --secret-id {legacy}",
            file=out,
        )


def cmd_list(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    registry = StoreRegistry(state_table(args))
    rows = list(registry.iter_valid(enabled_only=False))
    if args.json:
        listed = [
            {"problem": str(row)}
            if isinstance(row, InvalidSettingsError)
            else {"store_hash": row.store_hash, "name": row.name, "enabled": row.enabled}
            for row in rows
        ]
        print(json.dumps(listed, indent=2), file=out)
        return 0
    if not rows:
        print("No stores connected. Run `bcsync stores connect STORE_HASH`.", file=out)
    for row in rows:
        if isinstance(row, InvalidSettingsError):
            print(f"!  {row}", file=out)
        else:
            # A store that fulfils says so (`--set role=source|both`); a sales channel, the default, does not.
            role = "" if row.role == "sales_channel" else f" [{row.role}]"
            print(f"{'on ' if row.enabled else 'off'} {row.store_hash:<12} {row.name}{role}", file=out)
    return 0


def cmd_show(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    table = state_table(args)
    settings = StoreRegistry(table).get(args.store_hash)
    secrets_of_stack = credential_store(args)
    try:
        secrets_of_stack.get(args.store_hash, force_fetch=True)
        credentials_state = "present"
    except CredentialsError as error:
        credentials_state = f"PROBLEM: {error}"
        with contextlib.suppress(BotoCoreError, ClientError):
            if legacy := secrets_of_stack.legacy_secret(args.store_hash):
                credentials_state += (
                    f"; {legacy}, the secret every stack shared before, is read by none: connect the store again"
                )
    jobs: dict[str, Any] = {}
    for job in JOBS:
        run = JobState(table).last_run(args.store_hash, job)
        jobs[job] = run.model_dump(exclude={"store_hash", "job"}) if run else None
    report = {"settings": settings.model_dump(mode="json"), "credentials": credentials_state, "last_runs": jobs}
    print(json.dumps(report, indent=2), file=out)
    return 0


# Flows fed by a queue rather than run as a job: their "run" is their last batch, and they keep totals.


def store_status(table: Any, settings: StoreSettings) -> dict[str, Any]:
    """What `bcsync status` shows of one store, as data (`--json` prints it as is)."""
    return read_status(table, settings).as_report()


def _figures(figures: dict[str, int]) -> str:
    return ", ".join(f"{name} {value}" for name, value in sorted(figures.items()))


def cmd_status(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    """Per store: each flow's last run (a queue's flow: its last batch and its totals), the order cursor, and
    the problems an operator must see."""
    table = state_table(args)
    registry = StoreRegistry(table)
    stores = [registry.get(args.store_hash)] if args.store_hash else registry.list()
    reports = [store_status(table, settings) for settings in stores]
    if args.json:
        print(json.dumps(reports, indent=2), file=out)
        return 0
    if not stores:
        print("No stores connected. Run `bcsync stores connect STORE_HASH`.", file=out)
    for report in reports:
        print(f"{report['store_hash']} ({report['name'] or 'unnamed'}){'' if report['enabled'] else ' - disabled'}",
              file=out)  # fmt: skip
        for job, flow in report["flows"].items():
            run = flow["last_run"]
            if run is None:
                print(f"  {job:<19} never ran", file=out)
                continue
            when = run["finished_at"] or run["started_at"]
            if job in QUEUE_FLOWS:
                print(f"  {job:<19} last batch at {when}: {_figures(run['figures']) or 'nothing to do'}", file=out)
                print(f"  {'':<19} since {flow['totals_since']}: {_figures(flow['totals'])}", file=out)
            else:
                print(f"  {job:<19} {run['outcome']} at {when}: {_figures(run['figures']) or 'nothing to do'}",
                      file=out)  # fmt: skip
            for problem in run["problems"][:5]:
                print(f"    ! {problem}", file=out)
        cursor = report["orders_imported_up_to"]
        print(f"  orders modified up to {cursor or '(not yet scanned)'} are imported", file=out)
        # --- returns and refunds (bcsync.returns) ---
        returns = report["returns"]
        refunding = (
            f"refunds on ({returns['refund_lines']} lines, up to {returns['refund_limit_per_order']} an order)"
            if returns["refunds_enabled"]
            else "refunds off"
        )
        print(
            f"  returns: {returns['recorded']} recorded, {returns['refunded']} refunded ({returns['amount']});"
            f" {refunding}",
            file=out,
        )
        for logged in report["problems"]:
            print(f"  ! {logged['kind']} {logged['subject']}: {logged['text']} ({logged['at']})", file=out)
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
    changes = {name: plain(value) for name, value in changes.items()}
    registry = StoreRegistry(state_table(args))
    current = registry.get(args.store_hash)
    try:
        settings = current.with_changes(changes)
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


def cmd_disable(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    report = set_store_enabled(state_table(args), credential_store(args), args.store_hash, False)
    print(f"Store {args.store_hash} disabled: no job runs for it until `bcsync stores enable`.", file=out)
    if report:
        print(report, file=out)
    return 0


def cmd_enable(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    report = set_store_enabled(state_table(args), credential_store(args), args.store_hash, True)
    print(f"Store {args.store_hash} enabled.", file=out)
    if report:
        print(report, file=out)
    return 0
