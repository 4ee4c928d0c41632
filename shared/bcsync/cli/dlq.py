"""`bcsync dlq list|redrive`: what is in the dead-letter queues, and sending it back (the operator's console
shows and redrives them with the same functions)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

import boto3

from bcsync.backbone.consumer import REASON_ATTRIBUTE
from bcsync.cli.common import queue_urls, stack_name
from bcsync.errors import CliError

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef


@dataclass(frozen=True)
class DeadLetter:
    reason: str
    body: str


@dataclass(frozen=True)
class DeadLetterQueue:
    name: str
    depth: int
    messages: list[DeadLetter] = field(default_factory=list)  # a look at the first few, not taken

    @property
    def redrive_name(self) -> str:
        """What `redrive` takes for this queue (its source's name)."""
        return self.name.removesuffix("DLQ")


def dead_letter_queues(sqs: Any, queues: dict[str, str], *, show: int = 0) -> list[DeadLetterQueue]:
    """Each dead-letter queue's depth and, with `show`, its first messages with their reasons."""
    found = []
    for name, url in sorted(queues.items()):
        if not name.endswith("DLQ"):
            continue
        depth = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        messages = []
        if show:
            # Looked at, not taken: each comes back at once (visibility 0).
            seen = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=min(show, 10), VisibilityTimeout=0, MessageAttributeNames=["All"]
            ).get("Messages", [])
            for message in seen:
                why = message.get("MessageAttributes", {}).get(REASON_ATTRIBUTE)
                reason = str(why.get("StringValue", "")) if why else "(no reason)"
                messages.append(DeadLetter(reason, str(message["Body"])))
        found.append(DeadLetterQueue(name, int(depth["Attributes"]["ApproximateNumberOfMessages"]), messages))
    return found


def cmd_dlq_list(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    dead = dead_letter_queues(boto3.client("sqs"), queue_urls(args), show=args.show)
    if not dead:
        raise CliError(f"no dead-letter queues found: deploy stack {stack_name(args)} or set BCSYNC_QUEUES")
    if args.json:
        report = {
            queue.name: {
                "messages": queue.depth,
                "shown": [{"reason": message.reason, "body": message.body} for message in queue.messages],
            }
            for queue in dead
        }
        print(json.dumps(report, indent=2), file=out)
        return 0
    for queue in dead:
        print(f"{queue.name}: {queue.depth} messages", file=out)
        for message in queue.messages:
            print(f"  - {message.reason}: {message.body[:160]}", file=out)
    return 0


# A dead-letter queue that is not named for the queue its messages go back to: what the bus could not
# deliver goes on to WarehouseOutbound, where it was going.
REDRIVE_TO = {"BusDeliveryDLQ": "WarehouseOutbound"}


def redrive(
    sqs: Any, queues: dict[str, str], queue: str, *, limit: int = 10_000, progress: Callable[[int], None] | None = None
) -> tuple[int, str, str]:
    """Move dead letters back to their queue, once whatever made them fail is fixed: (moved, from, to)."""
    dead = f"{queue.removesuffix('DLQ')}DLQ"
    source = REDRIVE_TO.get(dead, dead.removesuffix("DLQ"))
    if source not in queues or dead not in queues:
        names = ", ".join(sorted(name for name in queues if f"{name}DLQ" in queues) + sorted(REDRIVE_TO))
        raise CliError(f"no queue {queue!r} with a dead-letter queue; one of: {names}")
    moved = 0
    while moved < limit:
        batch = sqs.receive_message(
            QueueUrl=queues[dead], MaxNumberOfMessages=min(10, limit - moved), VisibilityTimeout=60
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
        if progress is not None:
            progress(moved)
    return moved, dead, source


def cmd_dlq_redrive(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    moved, dead, source = redrive(
        boto3.client("sqs"),
        queue_urls(args),
        args.queue,
        limit=args.limit,
        progress=lambda n: print(f"  moved {n} ...", file=out),
    )
    print(f"{moved} messages moved from {dead} back to {source}", file=out)
    return 0
