"""The `ReturnsInbound` queue: Powertools BatchProcessor, idempotency per warehouse return."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from pydantic import ValidationError

from bcsync.backbone.consumer import (
    StoreClients,
    batch_processor,
    dead_letter,
    dead_letter_never_valid,
    disabled_store,
    invalid_fields,
)
from bcsync.backbone.idempotency import flag_duplicate
from bcsync.errors import BcsyncError, NeverValid
from bcsync.orders.state import OrderState
from bcsync.returns.decide import gives_up
from bcsync.returns.inbound import RETURNS_INBOUND, ReturnReceived
from bcsync.returns.record import Returns
from bcsync.returns.state import RETURN_RECORD_DAYS, ReturnLog
from bcsync.store.problems import ProblemLog
from bcsync.warehouse.events import EventPublisher
from bigcommerce_client import BigCommerceError, CallCounter, Clock

logger = logging.getLogger("bcsync.returns.consumer")

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb.service_resource import Table


def parse_message(body: str) -> ReturnReceived:
    try:
        return RETURNS_INBOUND.validate_json(body)
    except ValidationError as error:
        raise NeverValid(f"not a Return Received message (invalid: {invalid_fields(error)})") from None


@dataclass
class ReturnsConsumer:
    stores: StoreClients
    table: Table
    sqs: Any
    dlq_url: str
    persistence: BasePersistenceLayer
    publisher: EventPublisher
    clock: Clock
    retention_days: int = 90
    on_figures: Callable[[dict[str, int]], None] | None = None
    calls: CallCounter = field(default_factory=CallCounter)

    def __post_init__(self) -> None:
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

        self._processor = batch_processor()
        self._idempotency = IdempotencyConfig(
            event_key_jmespath="[store_hash, warehouse_return_id]",
            expires_after_seconds=RETURN_RECORD_DAYS * 86_400,
            response_hook=flag_duplicate,
        )
        self._receive_once: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="received", persistence_store=self.persistence, config=self._idempotency
        )(self._receive)
        self.figures: dict[str, int] = {}

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        self.figures = {"returns_recorded": 0, "refunds_issued": 0}
        calls_before, limited_before = self.calls.total(), self.calls.rate_limited()
        self._idempotency.register_lambda_context(context)
        try:
            return process_partial_response(  # type: ignore[return-value]  # a TypedDict of that dict
                event=event, record_handler=self._record, processor=self._processor, context=context
            )
        finally:
            self.figures["bigcommerce_calls"] = self.calls.total() - calls_before
            self.figures["bigcommerce_429s"] = self.calls.rate_limited() - limited_before
            if self.on_figures is not None:
                self.on_figures(dict(self.figures))

    def count(self, figure: str, amount: int = 1) -> None:
        self.figures[figure] = self.figures.get(figure, 0) + amount

    def _record(self, record: SQSRecord) -> None:
        message: ReturnReceived | None = None
        try:
            message = parse_message(record.body)
            opened = self.stores.open(message.store_hash)
            if opened is None:  # a disabled store: kept with the reason, to redrive once enabled
                raise disabled_store(message.store_hash)
            settings, client = opened
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
        except NeverValid as verdict:
            self.count("dead_lettered")
            dead_letter_never_valid(self.sqs, self.dlq_url, record, verdict)
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
