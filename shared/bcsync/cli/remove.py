"""`bcsync stores remove`: a store leaves this stack - its webhooks in BigCommerce, its secret, its data.

What a store owns is named in `bcsync.store.keys`: its registry row, its scheduled turns, every partition under
`STORE#<hash>#` (orders, jobs, catalog, stock, problems, shipments) and its outbox rows (keys
`order:<hash>:…` and `product:<hash>:…`). The webhooks go first, while the token still reads: once the
secret is gone, nothing could remove them, and BigCommerce would keep posting to the stack.
"""

from __future__ import annotations

import argparse
import contextlib
from typing import TYPE_CHECKING, Any, TextIO

from botocore.exceptions import ClientError

from bcsync.cli.common import credential_store, state_table, webhook_base_url
from bcsync.errors import CliError, CredentialsError, InvalidSettingsError, StoreNotConnectedError
from bcsync.store import keys
from bcsync.store.dynamo import scan_all
from bcsync.store.registry import StoreRegistry
from bcsync.webhooks.registration import remove_hooks, webhook_destination
from bigcommerce_client import BigCommerceClient, BigCommerceError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


# The first part of each event key (`order:{store}:...`, `stock:{store}:...`).
OUTBOX_KINDS = ("order", "product", "shipment", "stock", "return", "refund", "fulfilment")


def owned_keys(table: Table, store_hash: str) -> list[dict[str, Any]]:
    """The key of every state-table item the store owns (one scan: an operator's command, run once)."""
    # The outbox rows of every kind of event the store's flows publish (warehouse/events.py and the flows'
    # own keys): one left behind would make a reconnected store's first event of that key look published.
    outbox = {f":outbox{n}": f"{keys.OUTBOX_PREFIX}{kind}:{store_hash}:" for n, kind in enumerate(OUTBOX_KINDS)}
    found = scan_all(
        table,
        ProjectionExpression="pk, sk",
        # Its registry row and its scheduled turn in each ticked job's partition share one sort key.
        FilterExpression="((pk = :registry OR begins_with(pk, :turns)) AND sk = :row) OR begins_with(pk, :store) OR "
        + " OR ".join(f"begins_with(pk, {name})" for name in outbox),
        ExpressionAttributeValues={
            ":registry": keys.REGISTRY,
            ":turns": keys.TURNS_PREFIX,
            ":row": keys.registry_row(store_hash)["sk"],
            ":store": f"STORE#{store_hash}#",
            **outbox,
        },
    )
    return [{"pk": item["pk"], "sk": item["sk"]} for item in found]


def _confirmed(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> bool:
    if args.yes:
        return True
    if not stdin.isatty():
        raise CliError(f"removing store {args.store_hash} deletes its data: confirm with --yes")
    print(
        f"Remove store {args.store_hash} from this stack: its webhooks in BigCommerce, its secret (its token) and "
        "everything bcsync knows of it (orders, catalog, stock, job state)? Type the store hash to confirm: ",
        end="",
        file=out,
        flush=True,
    )
    return stdin.readline().strip() == str(args.store_hash)


def cmd_remove(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    store_hash = args.store_hash
    table = state_table(args)
    secrets_of_stack = credential_store(args)
    owned = owned_keys(table, store_hash)
    credentials = None
    with contextlib.suppress(CredentialsError):
        credentials = secrets_of_stack.get(store_hash, force_fetch=True)
    if not owned and credentials is None:
        raise CliError(f"store {store_hash} is not connected to this stack: nothing to remove")
    if not _confirmed(args, stdin, out):
        print("Not confirmed: nothing removed.", file=out)
        return 1
    destination = None
    with contextlib.suppress(StoreNotConnectedError, InvalidSettingsError):
        destination = StoreRegistry(table).get(store_hash).webhook_destination
    if destination is None and (base_url := webhook_base_url(args)):
        destination = webhook_destination(base_url, store_hash)  # hooks an interrupted connect may have left
    if credentials is None:
        print("Webhooks: no secret, so no token to remove them with; delete them in BigCommerce if any.", file=out)
    elif destination is not None:
        try:
            with BigCommerceClient(store_hash=store_hash, access_token=credentials.access_token) as client:
                removed = remove_hooks(client, destination=destination)
            print(f"Webhooks → {destination}: {removed} removed.", file=out)
        except BigCommerceError as error:
            raise CliError(
                f"store {store_hash}: its webhooks could not be removed ({error}); nothing else was removed. "
                "Fix the token (`bcsync stores connect`) and run this again, or delete the hooks in BigCommerce"
            ) from None
    with table.batch_writer() as batch:
        for key in owned:
            batch.delete_item(Key=key)
    print(f"State: {len(owned)} items of store {store_hash} deleted.", file=out)
    if credentials is not None:
        try:
            secrets_of_stack.delete(store_hash)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
        name = secrets_of_stack.name(store_hash)
        print(
            f"Secret {name}: scheduled for deletion in 7 days (until then `aws secretsmanager restore-secret "
            f"--secret-id {name}` brings it back, and connecting the store again waits for it).",
            file=out,
        )
    print(
        f"Store {store_hash} removed. Events already on the warehouse's queue stay there; the idempotency "
        "records expire on their own.",
        file=out,
    )
    return 0
