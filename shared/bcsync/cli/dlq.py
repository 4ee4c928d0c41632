"""`bcsync dlq list|redrive`: what is in the dead-letter queues, and sending it back."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, TextIO

import boto3

from bcsync.backbone.consumer import REASON_ATTRIBUTE
from bcsync.cli.common import queue_urls, stack_name
from bcsync.errors import CliError

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef


def cmd_dlq_list(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    queues, sqs = queue_urls(args), boto3.client("sqs")
    dead = {name: url for name, url in sorted(queues.items()) if name.endswith("DLQ")}
    if not dead:
        raise CliError(f"no dead-letter queues found: deploy stack {stack_name(args)} or set BCSYNC_QUEUES")
    report: dict[str, dict[str, Any]] = {}
    for name, url in dead.items():
        depth = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        shown: list[dict[str, str]] = []
        report[name] = {"messages": int(depth["Attributes"]["ApproximateNumberOfMessages"]), "shown": shown}
        if not args.show:
            continue
        # Looked at, not taken: each comes back at once (visibility 0).
        seen = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(args.show, 10), VisibilityTimeout=0, MessageAttributeNames=["All"]
        ).get("Messages", [])
        for message in seen:
            why = message.get("MessageAttributes", {}).get(REASON_ATTRIBUTE)
            shown.append({"reason": str(why.get("StringValue", "")) if why else "(no reason)", "body": message["Body"]})
    if args.json:
        print(json.dumps(report, indent=2), file=out)
        return 0
    for name, listed in report.items():
        print(f"{name}: {listed['messages']} messages", file=out)
        for message in listed["shown"]:
            print(f"  - {message['reason']}: {message['body'][:160]}", file=out)
    return 0


# A dead-letter queue that is not named for the queue its messages go back to: what the bus could not
# deliver goes on to WarehouseOutbound, where it was going.
REDRIVE_TO = {"BusDeliveryDLQ": "WarehouseOutbound"}


def cmd_dlq_redrive(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    """Move dead letters back to their queue, once whatever made them fail is fixed."""
    queues, sqs = queue_urls(args), boto3.client("sqs")
    dead = f"{args.queue.removesuffix('DLQ')}DLQ"
    source = REDRIVE_TO.get(dead, dead.removesuffix("DLQ"))
    if source not in queues or dead not in queues:
        names = ", ".join(sorted(name for name in queues if f"{name}DLQ" in queues) + sorted(REDRIVE_TO))
        raise CliError(f"no queue {args.queue!r} with a dead-letter queue; one of: {names}")
    moved = 0
    while moved < args.limit:
        batch = sqs.receive_message(
            QueueUrl=queues[dead], MaxNumberOfMessages=min(10, args.limit - moved), VisibilityTimeout=60
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
                QueueUrl=queues[dead],
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)],
            )
        moved += len(done)
        if len(done) < len(batch):
            raise CliError(
                f"{len(batch) - len(done)} messages could not be sent back to {source}; they stay in its DLQ"
            )
        print(f"  moved {moved} ...", file=out)
    print(f"{moved} messages moved from {dead} back to {source}", file=out)
    return 0
