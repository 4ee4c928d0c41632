"""The SQS consumer every job function shares: job message → store → client → step, per record.

Powertools' BatchProcessor reports failures per record (`ReportBatchItemFailures`), so one
store's trouble never fails another store's message in the same batch. A message that can
never succeed (not a job message, a store that is not connected, settings or a secret that
do not validate) is moved to the DLQ with its reason; a disabled store's message, or one for a flow
the store has switched off, is dropped with a log line; transient trouble raises and comes back
through `batchItemFailures`.

Beside it, what the warehouse's queues share: `requeue_when_budget_returns` (a record whose store has no API
budget left goes back onto its queue, delayed until the window resets) and `InboundConsumer`, the record loop
of the fulfilment and returns consumers.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from pydantic import SecretStr, ValidationError

from bcsync.aws import AwsClients
from bcsync.backbone.idempotency import flag_duplicate
from bcsync.backbone.messages import MAX_SQS_DELAY_SECONDS, JobMessage, JobQueue
from bcsync.backbone.runner import JobRunner, JobStep
from bcsync.errors import ConfigurationError, CredentialsError, InvalidSettingsError, NeverValid, StoreNotConnectedError
from bcsync.settings import RuntimeConfig
from bcsync.store.credentials import CredentialStore, StoreCredentials
from bcsync.store.flows import Verdict, decide
from bcsync.store.jobs import JobRun, JobState
from bcsync.store.registry import StoreRegistry
from bcsync.store.settings import JobName, StoreSettings
from bigcommerce_client import RATE_WINDOW_SECONDS, SYSTEM_CLOCK, BigCommerceClient, CallCounter, Clock, RetryLaterError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_sqs import SQSClient

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


logger = logging.getLogger("bcsync.backbone.consumer")
ClientFactory = Callable[[StoreSettings, StoreCredentials], BigCommerceClient]
StepFactory = Callable[[StoreSettings, BigCommerceClient], JobStep]


def batch_processor() -> BatchProcessor:
    """Powertools' SQS batch processor as every bcsync queue uses it. A batch whose every record failed
    is reported like any other - each record retried by SQS, then redriven to its DLQ - instead of
    raised: no exception leaves the handler for what each record's own log line already explains."""
    return BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def invalid_fields(error: ValidationError) -> str:
    """The fields a message failed validation on, for its dead-letter reason ("body" for the whole)."""
    return ", ".join(sorted({".".join(map(str, issue["loc"])) or "body" for issue in error.errors()}))


def open_settings(registry: StoreRegistry, store_hash: str, *, what: str = "message") -> StoreSettings | None:
    """The settings of the store a message names; None for a disabled store (logged, nothing to do).
    Raises NeverValid for a store that is not connected or whose settings do not validate."""
    try:
        settings = registry.get(store_hash)
    except (StoreNotConnectedError, InvalidSettingsError) as error:
        raise NeverValid(str(error)) from None
    if not settings.enabled:
        logger.info(f"store is disabled; {what} skipped", extra={"store_hash": store_hash})
        return None
    return settings


def default_client_factory(
    *, api_url: str | None, clock: Clock, counter: CallCounter | None = None, read_timeout: float = 20.0
) -> ClientFactory:
    def build(settings: StoreSettings, credentials: StoreCredentials) -> BigCommerceClient:
        return BigCommerceClient(
            counter=counter,
            read_timeout=read_timeout,
            store_hash=settings.store_hash,
            access_token=credentials.access_token,
            api_url=api_url,
            reserve_ratio=settings.api_reserve_ratio,
            max_wait_seconds=settings.max_wait_seconds,
            clock=clock,
        )

    return build


def client_factory_for(config: RuntimeConfig, *, clock: Clock, counter: CallCounter | None = None) -> ClientFactory:
    """The client factory of a function, from its runtime configuration."""
    return default_client_factory(
        api_url=config.bigcommerce_api_url,
        clock=clock,
        counter=counter,
        read_timeout=config.bigcommerce_read_timeout_seconds,
    )


@dataclass
class StoreClients:
    """A message's store: its settings, credentials and one pooled client per store for the
    container's life (a rotated token gets a new one). Raises NeverValid for a store that can never
    run: not connected, settings or secret that do not validate; None for a disabled store."""

    registry: StoreRegistry
    credentials: CredentialStore
    client_factory: ClientFactory

    @classmethod
    def for_stack(
        cls, config: RuntimeConfig, aws: AwsClients, table: Any, *, clock: Clock, calls: CallCounter
    ) -> StoreClients:
        """Every function's stores, from its stack's configuration (each consumer made at cold start)."""
        return cls(
            registry=StoreRegistry(table),
            credentials=CredentialStore(client=aws.client("secretsmanager"), prefix=config.secret_prefix),
            client_factory=client_factory_for(config, clock=clock, counter=calls),
        )

    def __post_init__(self) -> None:
        self._clients: dict[str, tuple[SecretStr, BigCommerceClient]] = {}

    def open(self, store_hash: str) -> tuple[StoreSettings, BigCommerceClient] | None:
        settings = open_settings(self.registry, store_hash)
        if settings is None:
            return None
        try:
            credentials = self.credentials.get(store_hash)
        except CredentialsError as error:
            raise NeverValid(str(error)) from None
        return settings, self._client_for(settings, credentials)

    def _client_for(self, settings: StoreSettings, credentials: StoreCredentials) -> BigCommerceClient:
        token = credentials.access_token  # SecretStr compares by value without exposing it
        cached = self._clients.get(settings.store_hash)
        if cached is None or cached[0] != token:
            if cached is not None:
                cached[1].close()
            self._clients[settings.store_hash] = (token, self.client_factory(settings, credentials))
        return self._clients[settings.store_hash][1]


def process_counted(
    event: dict[str, Any],
    context: LambdaContext,
    *,
    processor: BatchProcessor,
    record_handler: Callable[[SQSRecord], Any],
    calls: CallCounter,
    figures: dict[str, int],
    on_figures: Callable[[dict[str, int]], None] | None,
) -> dict[str, Any]:
    """A batch through Powertools' processor with partial failures; the BigCommerce calls and 429s it made are
    added to `figures`, which go to `on_figures` whatever happened (a batch whose every record failed too)."""
    calls_before, limited_before = calls.total(), calls.rate_limited()
    try:
        return process_partial_response(  # type: ignore[return-value]  # a TypedDict of that dict
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        figures["bigcommerce_calls"] = calls.total() - calls_before
        figures["bigcommerce_429s"] = calls.rate_limited() - limited_before
        if on_figures is not None:
            on_figures(dict(figures))


def disabled_store(store_hash: str) -> NeverValid:
    """A message that happens once (an order to create, a return to record) for a store that is disabled:
    dead-lettered with this, never dropped."""
    return NeverValid(
        f"store {store_hash} is disabled: enable it (`bcsync stores enable {store_hash}`), then redrive this queue"
    )


def dead_letter_never_valid(sqs: Any, dlq_url: str, record: SQSRecord, verdict: NeverValid) -> None:
    logger.error("message dead-lettered", extra={"reason": str(verdict), "message_id": record.message_id})
    dead_letter(sqs, dlq_url=dlq_url, body=record.body, source_message_id=record.message_id, reason=str(verdict))


@dataclass
class JobConsumer:
    job: str
    stores: StoreClients
    runner: JobRunner
    sqs: SQSClient | Any
    dlq_url: str
    step_factory: StepFactory
    on_run: Callable[[JobRun], None] | None = None
    # Every BigCommerce call this consumer's clients make, per store and endpoint (for reports and benchmarks).
    calls: CallCounter = field(default_factory=CallCounter)

    def __post_init__(self) -> None:
        self._processor = batch_processor()
        self._context: LambdaContext | None = None

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        self._context = context
        return process_partial_response(  # type: ignore[return-value]  # a TypedDict of that dict
            event=event, record_handler=self._record, processor=self._processor, context=context
        )

    def process(self, record: SQSRecord, context: LambdaContext) -> None:
        """One record of a batch another processor holds (a function fed by more than one queue)."""
        self._context = context
        self._record(record)

    def _record(self, record: SQSRecord) -> None:
        try:
            message = self._message(record.body)
            opened = self.stores.open(message.store_hash)
        except NeverValid as verdict:
            dead_letter_never_valid(self.sqs, self.dlq_url, record, verdict)
            return
        if opened is None:
            return  # a disabled store: nothing to do, already logged
        settings, client = opened
        flow = decide(settings, "job_message", message.job)
        if flow.verdict is Verdict.SKIP:  # nothing lost: the flow's cursor waits for it to be on again
            logger.info(f"{flow.reason}; job message skipped", extra={"store_hash": settings.store_hash})
            return
        assert self._context is not None
        run = self.runner.run(
            message,
            self.step_factory(settings, client),
            self._context,
            count_calls=lambda: self.calls.total(settings.store_hash),
            count_rate_limited=lambda: self.calls.rate_limited(settings.store_hash),
        )
        if self.on_run is not None:
            self.on_run(run)

    def _message(self, body: str) -> JobMessage:
        try:
            message = JobMessage.model_validate_json(body)
        except ValidationError as error:
            raise NeverValid(f"not a job message (invalid: {invalid_fields(error)})") from None
        if message.job != self.job:
            raise NeverValid(f"a {message.job} message on the {self.job} queue")
        return message


def build_job_consumer(
    job: JobName,
    *,
    config: RuntimeConfig,
    step_factory: StepFactory,
    clock: Clock = SYSTEM_CLOCK,
    aws: AwsClients | None = None,
    on_run: Callable[[JobRun], None] | None = None,
) -> JobConsumer:
    """The consumer a job function creates at module level (cold start), from its environment."""
    if job not in config.job_queue_urls or job not in config.job_dlq_urls:
        raise ConfigurationError(f"bcsync is not configured: BCSYNC_{job.upper()}_QUEUE_URL and _DLQ_URL are needed")
    aws = aws or AwsClients()
    table = aws.table(config.state_table)
    sqs = aws.client("sqs")
    queue = JobQueue(sqs, config.job_queue_urls[job])
    calls = CallCounter()
    return JobConsumer(
        job=job,
        stores=StoreClients.for_stack(config, aws, table, clock=clock, calls=calls),
        runner=JobRunner(
            state=JobState(table), queue=queue, clock=clock, margin_seconds=config.deadline_margin_seconds
        ),
        sqs=sqs,
        dlq_url=config.job_dlq_urls[job],
        step_factory=step_factory,
        on_run=on_run,
        calls=calls,
    )


REASON_ATTRIBUTE = "bcsync-error"
SOURCE_ID_ATTRIBUTE = "bcsync-source-message-id"
MAX_REASON_CHARS = 1000


def dead_letter(sqs: SQSClient | Any, *, dlq_url: str, body: str, source_message_id: str, reason: str) -> None:
    """Move a message that can never succeed to the DLQ, with why, so an operator can read it there."""
    sqs.send_message(
        QueueUrl=dlq_url,
        MessageBody=body,
        MessageAttributes={
            REASON_ATTRIBUTE: {"DataType": "String", "StringValue": reason[:MAX_REASON_CHARS] or "invalid"},
            SOURCE_ID_ATTRIBUTE: {"DataType": "String", "StringValue": source_message_id},
        },
    )


FIRST_SENT_ATTRIBUTE = "bcsync-first-sent"  # epoch ms the message was first sent, kept across re-queues


def first_sent_seconds(record: SQSRecord) -> float:
    """When the message was first sent (epoch seconds): a re-queued one carries its original time."""
    carried = record.message_attributes[FIRST_SENT_ATTRIBUTE]  # None when absent (`.get` would not wrap it)
    sent = (carried.string_value if carried else None) or record.attributes.sent_timestamp or 0
    return int(sent) / 1000


def requeue_when_budget_returns(
    sqs: SQSClient | Any, *, queue_url: str, record: SQSRecord, later: RetryLaterError, clock: Clock
) -> int:
    """Send the record again, delayed until the store's API budget returns; returns the delay (s).

    Not a failed record: that would come back after the queue's visibility timeout (12 minutes), and each
    such return brings it a receive closer to the DLQ, while the store's other apps merely used its quota.
    The caller then lets the original go (deleted as processed); cut between the two, the copy is a
    duplicate that idempotency by the business id absorbs."""
    # A 429 without rate-limit headers (BigCommerce under load) says no reset: a window's length, not a second,
    # or every such shipment would come back each second.
    wait = (later.retry_at - clock.now()) if later.retry_at is not None else RATE_WINDOW_SECONDS
    delay = min(max(math.ceil(wait), 1), MAX_SQS_DELAY_SECONDS)
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=record.body,
        DelaySeconds=delay,
        MessageAttributes={
            FIRST_SENT_ATTRIBUTE: {"DataType": "Number", "StringValue": str(round(first_sent_seconds(record) * 1000))}
        },
    )
    logger.info("re-queued until the store's API budget returns", extra={"delay_seconds": delay})
    return delay


# --- the record loop of the warehouse's once-only queues (fulfillment requests, returns) ---------------------


@dataclass(kw_only=True)
class InboundConsumer:
    """A warehouse queue whose every message happens once (an order to create, a return to record), record by
    record (Powertools BatchProcessor, one record's trouble its own): what the fulfilment and returns consumers
    share. A subclass's `process` handles one record; around it, a message that can never succeed
    (`NeverValid`) goes to the DLQ with its reason, and one whose store has no API budget left
    (`RetryLaterError`) is sent again onto its own queue for when the budget returns - a spent budget is the
    store's other apps at work, not a failure. Anything else raises and SQS retries it.

    Re-queueing repeats nothing BigCommerce did: `RetryLaterError` comes before a request is sent (the rate
    governor) or with a 429 (not acted on), and the copy goes through the same intent record and lookup as a
    redelivery does before any create."""

    stores: StoreClients
    sqs: SQSClient | Any
    queue_url: str  # the queue itself: what waits for a store's budget goes back onto it
    dlq_url: str
    persistence: BasePersistenceLayer
    clock: Clock
    on_figures: Callable[[dict[str, int]], None] | None = None
    calls: CallCounter = field(default_factory=CallCounter)

    batch_figures: ClassVar[tuple[str, ...]] = ()  # reported by every batch, 0 when nothing happened

    def __post_init__(self) -> None:
        self._processor = batch_processor()
        self._idempotency: IdempotencyConfig | None = None
        self.figures: dict[str, int] = {}

    def once(
        self, function: Callable[..., dict[str, Any]], *, data: str, key: str, days: int
    ) -> Callable[..., dict[str, Any]]:
        """`function` run once per `key` (a JMESPath into its `data` argument), its result kept `days`: a
        duplicate gets the stored result, flagged `duplicate`, and two deliveries never run at once."""
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

        self._idempotency = IdempotencyConfig(
            event_key_jmespath=key, expires_after_seconds=days * 86_400, response_hook=flag_duplicate
        )
        guarded: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument=data, persistence_store=self.persistence, config=self._idempotency
        )(function)
        return guarded

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        self.figures = dict.fromkeys(self.batch_figures, 0)
        if self._idempotency is not None:
            self._idempotency.register_lambda_context(context)
        return process_counted(
            event, context, processor=self._processor, record_handler=self._record, calls=self.calls,
            figures=self.figures, on_figures=self.on_figures,
        )  # fmt: skip

    def count(self, figure: str, amount: int = 1) -> None:
        self.figures[figure] = self.figures.get(figure, 0) + amount

    def open_store(self, store_hash: str) -> tuple[StoreSettings, BigCommerceClient]:
        """The message's store. A disabled one's message is dead-lettered with the reason (NeverValid), never
        dropped: it happens once, and is redriven once the store is enabled."""
        opened = self.stores.open(store_hash)
        if opened is None:
            raise disabled_store(store_hash)
        return opened

    def process(self, record: SQSRecord) -> None:
        raise NotImplementedError

    def _record(self, record: SQSRecord) -> None:
        try:
            self.process(record)
        except NeverValid as verdict:
            self.count("dead_lettered")
            dead_letter_never_valid(self.sqs, self.dlq_url, record, verdict)
        except RetryLaterError as later:
            requeue_when_budget_returns(
                self.sqs, queue_url=self.queue_url, record=record, later=later, clock=self.clock
            )
            self.count("requeued_for_budget")
