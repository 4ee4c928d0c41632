"""What every `bcsync` command shares: the stack's table, queues and secret prefix, a store's client, the token.

Every resource comes from one stack: `--stack`'s outputs, or the `BCSYNC_*` variables when they describe
that stack (the local runtime prints them with `BCSYNC_STACK_NAME`). Two stacks in one account (staging
and production) are never mixed: `bcsync --stack staging ...` in a shell set up for production acts on
staging alone.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TextIO

import boto3
from botocore.exceptions import ClientError
from pydantic import SecretStr

from bcsync.backbone.messages import JobMessage
from bcsync.errors import CliError
from bcsync.store.credentials import CredentialStore, StoreCredentials
from bcsync.store.flows import LABELS, flow_enabled, turn_on_hint
from bcsync.store.registry import StoreRegistry
from bcsync.store.settings import JobName, StoreSettings
from bigcommerce_client import BigCommerceClient

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


STACK_ENV = "BCSYNC_STACK_NAME"  # the stack the environment's BCSYNC_* variables describe
DEFAULT_STACK = "bcsync"


class StackNotFoundError(CliError):
    """The stack named (or the default one) is not deployed in this account and region."""

    def __init__(self, stack: str, region: str | None) -> None:
        super().__init__(
            f"stack {stack} does not exist in region {region or '(none)'}: name the deployed one with --stack "
            "(and --region, --profile), or deploy it with `make deploy`"
        )


def stack_name(args: argparse.Namespace) -> str:
    return str(args.stack or os.environ.get(STACK_ENV) or DEFAULT_STACK)


def from_environment(args: argparse.Namespace, variable: str) -> str | None:
    """A `BCSYNC_*` variable, unless `--stack` names a stack other than the one the environment describes:
    then the environment is another stack's, and the named stack's outputs are used instead."""
    value = os.environ.get(variable)
    if not value or (args.stack and os.environ.get(STACK_ENV) != args.stack):
        return None
    return value


def stack_outputs(args: argparse.Namespace) -> dict[str, str]:
    """The stack's outputs, read once per command."""
    cached: dict[str, dict[str, str]] = args.__dict__.setdefault("_stack_outputs", {})
    stack = stack_name(args)
    if stack not in cached:
        try:
            described = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
        except ClientError as error:
            if "does not exist" in str(error.response.get("Error", {}).get("Message", "")):
                raise StackNotFoundError(stack, boto3.session.Session().region_name) from None
            raise  # access denied, expired credentials: `bcsync.cli.failures` says which, in one line
        cached[stack] = {str(o["OutputKey"]): str(o["OutputValue"]) for o in described.get("Outputs", [])}
    return cached[stack]


def stack_output(args: argparse.Namespace, key: str) -> str | None:
    return stack_outputs(args).get(key)


def from_stack(args: argparse.Namespace, variable: str, output: str) -> str:
    """The environment's `variable` when it describes this stack, else the stack's `output`."""
    value = from_environment(args, variable) or stack_output(args, output)
    if not value:
        raise CliError(f"stack {stack_name(args)} has no {output} output: deploy this release, or set {variable}")
    return value


def state_table(args: argparse.Namespace) -> Table:
    name = args.state_table or from_stack(args, "BCSYNC_STATE_TABLE", "StateTableName")
    return boto3.resource("dynamodb").Table(name)


def secret_prefix(args: argparse.Namespace) -> str:
    """Where this stack keeps its store secrets (`bcsync/<stack>/stores/`): its own, never another stack's."""
    return from_stack(args, "BCSYNC_SECRET_PREFIX", "SecretPrefix")


def credential_store(args: argparse.Namespace) -> CredentialStore:
    return CredentialStore(client=boto3.client("secretsmanager"), prefix=secret_prefix(args))


def webhook_base_url(args: argparse.Namespace) -> str | None:
    """--webhook-url, else $BCSYNC_WEBHOOK_URL (this stack's), else the stack's WebhookBaseUrl output."""
    url = getattr(args, "webhook_url", None) or from_environment(args, "BCSYNC_WEBHOOK_URL")
    if url:
        return str(url)
    try:
        return stack_output(args, "WebhookBaseUrl")
    except CliError:
        return None


def read_token(args: argparse.Namespace, stdin: TextIO) -> SecretStr:
    """The token from a hidden prompt, or from standard input (`--token-stdin`, or a pipe): never from an
    argument or a variable, which end up in shell history, process listings and CI logs."""
    if args.token_stdin or not stdin.isatty():
        token = stdin.readline()
    else:
        token = getpass.getpass(f"BigCommerce access token for store {args.store_hash} (hidden): ")
    token = token.strip()
    if not token:
        raise CliError(
            "give the store's access token at the hidden prompt, or on standard input with --token-stdin "
            "(never as an argument)"
        )
    return SecretStr(token)


def store_client(args: argparse.Namespace, settings: StoreSettings) -> tuple[BigCommerceClient, StoreCredentials]:
    credentials = credential_store(args).get(settings.store_hash, force_fetch=True)
    return BigCommerceClient(store_hash=settings.store_hash, access_token=credentials.access_token), credentials


def queue_job(args: argparse.Namespace, job: JobName, options: dict[str, Any], out: TextIO) -> int:
    """Queue an on-demand run: it shares the store's pace and failure handling with scheduled ones."""
    settings = StoreRegistry(state_table(args)).get(args.store_hash)  # a clear error for a store not connected
    if not flow_enabled(settings, job):  # its consumer would skip the message: say so here instead
        raise CliError(f"{LABELS[job]} is off for store {args.store_hash}: {turn_on_hint(args.store_hash, job)} first")
    output = f"{''.join(w.title() for w in job.split('_'))}JobsQueueUrl"
    url = from_stack(args, f"BCSYNC_{job.upper()}_QUEUE_URL", output)
    message = JobMessage(job=job, store_hash=args.store_hash, trigger="manual", options=options)
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody=message.model_dump_json())
    print(
        f"Queued {job.replace('_', ' ')} for {args.store_hash}; `bcsync status {args.store_hash}` shows the run.",
        file=out,
    )
    return 0


def plain(value: Any) -> Any:
    """YAML reads 2026-11-20 as a date: settings take ISO text."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def queue_urls(args: argparse.Namespace) -> dict[str, str]:
    """Every queue of the stack by name (`StockInbound`, `StockInboundDLQ`, ...)."""
    if listed := from_environment(args, "BCSYNC_QUEUES"):
        return {str(name): str(url) for name, url in json.loads(listed).items()}
    return {
        key.removesuffix("QueueUrl"): value for key, value in stack_outputs(args).items() if key.endswith("QueueUrl")
    }
