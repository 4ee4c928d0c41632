"""The `ReturnsInbound` queue: Powertools BatchProcessor, idempotency per warehouse return."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import ValidationError

from bcsync.backbone.consumer import InboundConsumer, dead_letter, invalid_fields
from bcsync.errors import BcsyncError, NeverValid
from bcsync.orders.state import OrderState
from bcsync.returns.decide import gives_up
from bcsync.returns.inbound import RETURNS_INBOUND, ReturnReceived
from bcsync.returns.record import Returns
from bcsync.returns.state import RETURN_RECORD_DAYS, ReturnLog
from bcsync.store.problems import ProblemLog
from bcsync.warehouse.events import EventPublisher
from bigcommerce_client import BigCommerceError, RetryLaterError

logger = logging.getLogger("bcsync.returns.consumer")

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from mypy_boto3_dynamodb.service_resource import Table


def parse_message(body: str) -> ReturnReceived:
    try:
        return RETURNS_INBOUND.validate_json(body)
    except ValidationError as error:
        raise NeverValid(f"not a Return Received message (invalid: {invalid_fields(error)})") from None


@dataclass(kw_only=True)
class ReturnsConsumer(InboundConsumer):
    table: Table
    publisher: EventPublisher
    retention_days: int = 90

    batch_figures: ClassVar[tuple[str, ...]] = ("returns_recorded", "refunds_issued")

    def __post_init__(self) -> None:
        super().__post_init__()
        self._receive_once = self.once(
            self._receive, data="received", key="[store_hash, warehouse_return_id]", days=RETURN_RECORD_DAYS
        )

    def process(self, record: SQSRecord) -> None:
        message: ReturnReceived | None = None
        try:
            message = parse_message(record.body)
            settings, client = self.open_store(message.store_hash)
            returns = Returns(
                settings=settings,
                client=client,
                orders=OrderState(self.table, settings.store_hash, retention_days=self.retention_days),
                log=ReturnLog(self.table, settings.store_hash),
                problems=ProblemLog(self.table, settings.store_hash),
                publisher=self.publisher,
                count=self.count,
                clock=self.clock,
            )
            result = self._receive_once(received=message.model_dump(mode="json"), returns=returns)
            if result.get("duplicate"):
                self.count("duplicates_suppressed")
        except (NeverValid, RetryLaterError):
            raise  # the record loop's: dead-lettered with the reason, or re-queued for the store's budget
        except (BcsyncError, BigCommerceError) as failed:
            if message is None or not gives_up(int(record.attributes.approximate_receive_count or 1)):
                raise  # retried through batchItemFailures
            # SQS's redrive would move it on the next receive with no reason: say why, here and to the operator.
            reason = f"return {message.warehouse_return_id} failed on every attempt ({failed}); redrive it"
            self.count("dead_lettered")
            ProblemLog(self.table, message.store_hash).add("return_failed", message.warehouse_return_id, reason)
            logger.error("message dead-lettered", extra={"reason": reason, "message_id": record.message_id})
            dead_letter(
                self.sqs, dlq_url=self.dlq_url, body=record.body, source_message_id=record.message_id, reason=reason
            )

    @staticmethod
    def _receive(received: dict[str, Any], returns: Returns) -> dict[str, Any]:
        return returns.receive(ReturnReceived.model_validate(received))
