"""What every `bcsync` command shares: the stack's table and queues, a store's client, the token."""

from __future__ import annotations

import argparse
import json
import os
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TextIO

import boto3
from pydantic import SecretStr

from bcsync.backbone.messages import JobMessage
from bcsync.errors import CliError
from bcsync.store.credentials import CredentialStore, StoreCredentials
from bcsync.store.registry import StoreRegistry
from bcsync.store.settings import JobName, StoreSettings
from bigcommerce_client import BigCommerceClient

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


TOKEN_ENV = "BCSYNC_ACCESS_TOKEN"  # noqa: S105 - the variable's name, not a token


def state_table(args: argparse.Namespace) -> Table:
    name = args.state_table or os.environ.get("BCSYNC_STATE_TABLE")
    if not name:
        name = stack_output(args.stack, "StateTableName")
    if not name:
        raise CliError(f"cannot find the state table: set BCSYNC_STATE_TABLE or deploy stack {args.stack}")
    return boto3.resource("dynamodb").Table(name)


def read_token(args: argparse.Namespace, stdin: TextIO) -> SecretStr:
    token = os.environ.get(args.token_env, "")
    if not token and not stdin.isatty():
        token = stdin.readline()
    token = token.strip()
    if not token:
        raise CliError(
            f"give the store's access token in ${args.token_env} or on standard input (never as an argument)"
        )
    return SecretStr(token)


def stack_output(stack: str, key: str) -> str | None:
    outputs = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    return next((str(o["OutputValue"]) for o in outputs if o["OutputKey"] == key), None)


def store_client(settings: StoreSettings) -> tuple[BigCommerceClient, StoreCredentials]:
    credentials = CredentialStore(client=boto3.client("secretsmanager")).get(settings.store_hash, force_fetch=True)
    return BigCommerceClient(store_hash=settings.store_hash, access_token=credentials.access_token), credentials


def queue_job(args: argparse.Namespace, job: JobName, options: dict[str, Any], out: TextIO) -> int:
    """Queue an on-demand run: it shares the store's pace and failure handling with scheduled ones."""
    StoreRegistry(state_table(args)).get(args.store_hash)  # a clear error for a store not connected
    variable = f"BCSYNC_{job.upper()}_QUEUE_URL"
    url = os.environ.get(variable) or stack_output(
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


def plain(value: Any) -> Any:
    """YAML reads 2026-11-20 as a date: settings take ISO text."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def queue_urls(args: argparse.Namespace) -> dict[str, str]:
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
