"""SQS → Lambda as the event source mapping delivers it: batches of up to BatchSize, `batchItemFailures`
(failed records stay; the rest are deleted), the whole batch back when the handler raises or is cut,
maxReceiveCount → DLQ (moto's redrive), and on demand duplicated or reordered deliveries.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import limits
from .invoke import Functions, InvocationCut, LambdaContext, payload_size
from .template import REGION

logger = logging.getLogger("local_runtime")
DUPLICATE_ATTRIBUTE = "local-runtime-duplicate"

SqsHandler = Callable[[dict[str, Any], LambdaContext], Any]


@dataclass
class DeliveryReport:
    invocations: int = 0
    delivered: int = 0
    failed: int = 0
    cut: int = 0
    errors: int = 0
    duplicates_sent: int = 0


class SqsDelivery(Functions):
    """A part of `LocalDeployment`: the stack's queues, polled like Lambda's event source mapping."""

    def take_messages(self, queue: str) -> list[dict[str, Any]]:
        """Every message waiting on `queue` (a logical id), attributes included, deleted as it is read:
        what a consumer outside the stack (the warehouse, an operator) takes."""
        sqs, url = self.client("sqs"), self.physical[queue]["Ref"]
        taken: list[dict[str, Any]] = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
            "Messages", []
        ):
            taken += batch
            sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)]
            )
        return taken

    def deliver_sqs(
        self,
        queue: str,
        handler: SqsHandler,
        *,
        batch_size: int = 10,
        timeout_seconds: float = 120.0,
        duplicate_rate: float = 0.0,  # the share of messages delivered a second time (a copy is not copied)
        reorder: bool = False,
        seed: int = 0,
        max_invocations: int = 1000,
    ) -> DeliveryReport:
        """Poll `queue` (a logical id) like Lambda's event source mapping until it is empty.

        Failed records (in `batchItemFailures`, or the whole batch when the handler raises or is
        cut) are left to SQS: they come back after their visibility timeout - made to elapse at
        once here - and SQS dead-letters them after maxReceiveCount.
        """
        sqs = self.client("sqs")
        url, arn = self.physical[queue]["Ref"], self.physical[queue]["Arn"]
        rng = random.Random(seed)
        report = DeliveryReport()
        while report.invocations < max_invocations:
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=batch_size, AttributeNames=["All"], MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                return report
            records = [_sqs_record(message, arn) for message in messages]
            if reorder:
                rng.shuffle(records)
            records, left = _within_invocation_payload(records)
            for record in left:  # received but not in this batch: back on the queue for the next poll
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0)
            for record in list(records):
                if record["messageAttributes"].get(DUPLICATE_ATTRIBUTE):
                    continue  # a copy is not copied again: each message is delivered at most twice
                if duplicate_rate and rng.random() < duplicate_rate:
                    sqs.send_message(  # delivered again, later
                        QueueUrl=url,
                        MessageBody=record["body"],
                        MessageAttributes={DUPLICATE_ATTRIBUTE: {"DataType": "String", "StringValue": "1"}},
                    )
                    report.duplicates_sent += 1
            report.invocations += 1
            failed_ids: set[str]
            try:
                response = handler({"Records": records}, self.context(queue, timeout_seconds))
                failed_ids = {item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])}
            except InvocationCut:
                report.cut += 1
                failed_ids = {record["messageId"] for record in records}
                self.expire_in_progress_leases()
            except Exception:  # Lambda's answer to a handler that raises: the whole batch comes back
                logger.warning("handler raised; the batch returns to the queue", exc_info=True)
                report.errors += 1
                failed_ids = {record["messageId"] for record in records}
            for record in records:
                if record["messageId"] in failed_ids:
                    report.failed += 1
                    sqs.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
                    )
                else:
                    report.delivered += 1
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])
        return report

    def expire_in_progress_leases(self) -> None:
        """A cut invocation's deadline passes before its batch comes back, as it does in AWS (the
        visibility timeout is 6 x the function's): Powertools idempotency's in-progress records,
        whose lease is that deadline on the wall clock, expire with it."""
        table = self.resource("dynamodb").Table(str(self.outputs()["IdempotencyTableName"]))
        scan: dict[str, Any] = {"FilterExpression": "#status = :in_progress",
                                "ExpressionAttributeNames": {"#status": "status"},
                                "ExpressionAttributeValues": {":in_progress": "INPROGRESS"}}  # fmt: skip
        for item in table.scan(**scan).get("Items", []):
            table.update_item(
                Key={"id": item["id"]},
                UpdateExpression="SET in_progress_expiration = :past",
                ExpressionAttributeValues={":past": 0},
            )


def _within_invocation_payload(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The first records whose event fits Lambda's 6 MB synchronous payload, and the rest: the event
    source mapping never builds a batch Lambda would refuse (ten messages of 1 MiB are two batches)."""
    size = payload_size({"Records": []})
    for count, record in enumerate(records):
        size += payload_size(record) + (1 if count else 0)  # and the comma between two records
        if size > limits.LAMBDA_SYNC_PAYLOAD_BYTES and count:
            return records[:count], records[count:]
    return records, []


def _sqs_record(message: dict[str, Any], arn: str) -> dict[str, Any]:
    """A received message as the event source mapping hands it to the handler."""
    attributes = message.get("MessageAttributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: {"stringValue": value.get("StringValue"), "dataType": value["DataType"]}
            for name, value in attributes.items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": REGION,
    }
