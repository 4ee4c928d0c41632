"""The `ShipmentsInbound` queue: Powertools BatchProcessor, idempotency per shipment."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from bcsync.backbone.consumer import (
    StoreClients,
    batch_processor,
    dead_letter,
    dead_letter_never_valid,
    first_sent_seconds,
    invalid_fields,
    process_counted,
    requeue_when_budget_returns,
)
from bcsync.backbone.idempotency import flag_duplicate
from bcsync.errors import NeverValid
from bcsync.orders.in_flight import InFlightOrders
from bcsync.orders.state import OrderState
from bcsync.shipments.decide import gives_up
from bcsync.shipments.state import SHIPMENT_RECORD_DAYS, ShipmentLog, StatusMoves
from bcsync.shipments.too_late import TooLateAnswers
from bcsync.shipments.writeback import StatusMoveError, Writeback
from bcsync.store.dynamo import now_iso
from bcsync.store.flows import FLOW_PROBLEM, Verdict, decide
from bcsync.store.jobs import JobRun, JobState
from bcsync.store.problems import ProblemLog
from bcsync.warehouse.inbound import (
    SHIPMENTS_QUEUE,
    OrderChangeTooLate,
    ShipmentConfirmed,
    ShipmentsQueueMessage,
)
from bigcommerce_client import CallCounter, Clock, RetryLaterError

logger = logging.getLogger("bcsync.shipments.consumer")

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb.service_resource import Table


def parse_message(body: str) -> ShipmentsQueueMessage:
    """Any message of the queue: the writeback's, or the warehouse's answer that a change came too late."""
    try:
        return SHIPMENTS_QUEUE.validate_json(body)
    except ValidationError as error:
        raise NeverValid(f"not a shipments message (invalid: {invalid_fields(error)})") from None


@dataclass
class ShipmentsConsumer:
    """The `ShipmentsInbound` queue: Powertools BatchProcessor, one record's failure its own."""

    stores: StoreClients
    table: Table
    sqs: Any
    dlq_url: str
    persistence: BasePersistenceLayer
    clock: Clock
    retention_days: int = 90
    # ShipmentsInbound itself: a shipment whose store has no API budget left is sent again for when it returns.
    queue_url: str = ""
    on_figures: Callable[[dict[str, int]], None] | None = None
    calls: CallCounter = field(default_factory=CallCounter)

    def __post_init__(self) -> None:
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

        self._processor = batch_processor()
        self._idempotency = IdempotencyConfig(
            event_key_jmespath="[store_hash, warehouse_shipment_id]",
            expires_after_seconds=SHIPMENT_RECORD_DAYS * 86_400,
            response_hook=flag_duplicate,
        )
        self._confirm_once: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="shipment", persistence_store=self.persistence, config=self._idempotency
        )(self._confirm)
        self.figures: dict[str, int] = {}
        self.by_store: dict[str, dict[str, int]] = {}
        self._store: str | None = None

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        self.figures = {"shipments_written": 0}
        self.by_store, self._store, started = {}, None, now_iso()
        self._idempotency.register_lambda_context(context)
        try:
            return process_counted(
                event, context, processor=self._processor, record_handler=self._record, calls=self.calls,
                figures=self.figures, on_figures=self.on_figures,
            )  # fmt: skip
        finally:  # a batch whose every record failed is recorded too
            self._record_batches(started)

    def count(self, figure: str, amount: int = 1) -> None:
        self.figures[figure] = self.figures.get(figure, 0) + amount
        if self._store is not None:
            figures = self.by_store.setdefault(self._store, {})
            figures[figure] = figures.get(figure, 0) + amount

    def _record_batches(self, started: str) -> None:
        """Each store's part of the batch, as `bcsync status` shows the flow (its last batch and totals)."""
        jobs, finished = JobState(self.table), now_iso()
        for store_hash, figures in self.by_store.items():
            run = JobRun(store_hash=store_hash, job="tracking_writeback", started_at=started, finished_at=finished,
                         outcome="done", figures={"shipments_written": 0, **figures})  # fmt: skip
            try:
                jobs.record_batch(run)
            except Exception:  # only a report: the shipments are written either way
                logger.exception("could not record the batch for bcsync status", extra={"store_hash": store_hash})

    def _record(self, record: SQSRecord) -> None:
        self._store = None  # what this record counts is its store's (none until its store is known)
        try:
            message = parse_message(record.body)
            opened = self.stores.open(message.store_hash)
            if opened is None:
                return  # a disabled store: dropped, already logged
            self._store = message.store_hash
            self.by_store.setdefault(message.store_hash, {})
            settings, client = opened
            flow = decide(
                settings, "shipment_confirmed" if isinstance(message, ShipmentConfirmed) else "warehouse_answer"
            )
            if flow.verdict is Verdict.DEAD_LETTER:  # a shipment happens once: kept in the DLQ for a redrive
                ProblemLog(self.table, settings.store_hash).add(FLOW_PROBLEM, "tracking_writeback", flow.reason)
                raise NeverValid(flow.reason)
            if isinstance(message, OrderChangeTooLate):
                orders = OrderState(self.table, settings.store_hash, retention_days=self.retention_days)
                problems = ProblemLog(self.table, settings.store_hash)
                TooLateAnswers(settings.store_hash, orders, problems, self.count).record(message)
                return  # no BigCommerce call, no writeback lag to measure
            writeback = Writeback(
                settings=settings,
                client=client,
                orders=OrderState(self.table, settings.store_hash, retention_days=self.retention_days),
                log=ShipmentLog(self.table, settings.store_hash),
                problems=ProblemLog(self.table, settings.store_hash),
                count=self.count,
                in_flight=InFlightOrders(self.table, settings.store_hash, retention_days=self.retention_days),
                clock=self.clock,
                moves=StatusMoves(self.table, settings.store_hash),
            )
            if isinstance(message, ShipmentConfirmed):
                result = self._confirm_once(shipment=message.model_dump(mode="json"), writeback=writeback)
                if result.get("duplicate"):
                    self.count("duplicates_suppressed")
            else:
                writeback.record_status(message)
        except NeverValid as verdict:
            self.count("dead_lettered")
            dead_letter_never_valid(self.sqs, self.dlq_url, record, verdict)
            return
        except RetryLaterError as later:
            if not self.queue_url:
                raise  # retried through batchItemFailures
            requeue_when_budget_returns(
                self.sqs, queue_url=self.queue_url, record=record, later=later, clock=self.clock
            )
            self.count("requeued_for_budget")
            return
        except StatusMoveError as failed:
            if not gives_up(int(record.attributes.approximate_receive_count or 1)):
                raise  # retried through batchItemFailures, the move still owed
            # SQS's redrive would move it on the next receive with no reason: say why, here and to the operator.
            self.count("dead_lettered")
            ProblemLog(self.table, message.store_hash).add("status_move_failed", str(failed.order_id), str(failed))
            logger.error("message dead-lettered", extra={"reason": str(failed), "message_id": record.message_id})
            dead_letter(
                self.sqs,
                dlq_url=self.dlq_url,
                body=record.body,
                source_message_id=record.message_id,
                reason=str(failed),
            )
            return
        sent = first_sent_seconds(record)
        if sent:
            lag = max(int(self.clock.now() - sent), 0)
            self.figures["writeback_lag_max_seconds"] = max(self.figures.get("writeback_lag_max_seconds", 0), lag)

    @staticmethod
    def _confirm(shipment: dict[str, Any], writeback: Writeback) -> dict[str, Any]:
        return writeback.confirm(ShipmentConfirmed.model_validate(shipment))
