"""`bcsync stores ...`: connect, list, show, status, configure, enable, disable."""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr, ValidationError

from bcsync.cli.common import credential_store, plain, read_token, state_table, store_client, webhook_base_url
from bcsync.errors import CliError, ConnectError, CredentialsError, InvalidSettingsError, StoreNotConnectedError
from bcsync.orders.state import OrderState
from bcsync.store.connect import check_scopes, check_store
from bcsync.store.credentials import CredentialStore, StoreCredentials
from bcsync.store.jobs import JobState
from bcsync.store.problems import ProblemLog
from bcsync.store.registry import StoreRegistry
from bcsync.store.settings import JOBS, StoreSettings, describe_validation_error
from bcsync.webhooks.registration import ensure_hooks, remove_hooks, webhook_destination
from bigcommerce_client import BigCommerceClient


def cmd_connect(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    token = read_token(args, stdin)
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
    secrets_of_stack = credential_store(args)
    store_credentials = StoreCredentials(
        store_hash=settings.store_hash,
        client_id=args.client_id,
        access_token=token,
        # A reconnect keeps the webhook secret, so deliveries already on their way still verify.
        webhook_secret=_existing_webhook_secret(secrets_of_stack, settings.store_hash)
        or SecretStr(secrets.token_urlsafe(32)),
    )
    registry = StoreRegistry(state_table(args))
    with contextlib.suppress(StoreNotConnectedError, InvalidSettingsError):
        settings = registry.get(settings.store_hash).model_copy(update={"enabled": True, "name": settings.name})
    previous_destination = settings.webhook_destination
    if args.no_webhooks:
        settings.webhook_destination = None
    elif base_url := webhook_base_url(args):
        settings.webhook_destination = webhook_destination(base_url, settings.store_hash)
    # The secret first, then the registry entry that makes the store active: a failure in between
    # leaves an inactive secret that the next `connect` overwrites, never an active store without one.
    secrets_of_stack.put(store_credentials)
    registry.put(settings)
    print(f"Connected store {settings.store_hash} ({settings.name}): every scope the jobs need is granted.", file=out)
    _report_legacy_secret(secrets_of_stack, settings.store_hash, out)
    with BigCommerceClient(store_hash=settings.store_hash, access_token=token) as client:
        if previous_destination and previous_destination != settings.webhook_destination:
            removed = remove_hooks(client, destination=previous_destination)
            print(f"Webhooks → {previous_destination}: {removed} removed.", file=out)
        if settings.webhook_destination is None:
            print("Webhooks: not registered; the schedules alone pick up changes.", file=out)
        else:
            _ensure_hooks(
                client, settings.webhook_destination, store_credentials.webhook_secret, out, source=settings.is_source
            )
    return 0


def _ensure_hooks(
    client: BigCommerceClient, destination: str, secret: SecretStr, out: TextIO, *, source: bool = False
) -> None:
    report = ensure_hooks(client, destination=destination, secret=secret, source=source)
    print(f"Webhooks → {destination}: {report.summary()}.", file=out)


def _existing_webhook_secret(credential_store: CredentialStore, store_hash: str) -> SecretStr | None:
    try:
        return credential_store.get(store_hash, force_fetch=True).webhook_secret
    except CredentialsError:
        return None


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
    if not rows:
        print("No stores connected. Run `bcsync stores connect STORE_HASH`.", file=out)
    for row in rows:
        if isinstance(row, InvalidSettingsError):
            print(f"!  {row}", file=out)
        else:
            print(f"{'on ' if row.enabled else 'off'} {row.store_hash:<12} {row.name}", file=out)
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


def cmd_status(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    """Per store: each job's last run, the order cursor, and the problems an operator must see."""
    table = state_table(args)
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
    settings = StoreRegistry(state_table(args)).set_enabled(args.store_hash, False)
    print(f"Store {args.store_hash} disabled: no job runs for it until `bcsync stores enable`.", file=out)
    if settings.webhook_destination:
        client, _ = store_client(args, settings)
        with client:
            removed = remove_hooks(client, destination=settings.webhook_destination)
        print(f"Webhooks: {removed} removed.", file=out)
    return 0


def cmd_enable(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    settings = StoreRegistry(state_table(args)).set_enabled(args.store_hash, True)
    print(f"Store {args.store_hash} enabled.", file=out)
    if settings.webhook_destination:
        client, credentials = store_client(args, settings)
        with client:
            _ensure_hooks(
                client, settings.webhook_destination, credentials.webhook_secret, out, source=settings.is_source
            )
    return 0
