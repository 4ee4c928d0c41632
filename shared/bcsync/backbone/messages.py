"""Job messages and the job queues they travel on, with the debounce that queues them."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from bcsync.store.jobs import JobState
from bcsync.store.settings import JobName, StoreHash

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_SQS_DELAY_SECONDS = 900
SEND_BATCH = 10


# "stock": a warehouse stock message made the inventory push due.
Trigger = Literal["schedule", "webhook", "manual", "continuation", "stock"]


class JobOptions(BaseModel):
    """What a job message may ask of its job beyond a scheduled run; each job has its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class OrderImportOptions(JobOptions):
    order_ids: list[PositiveInt] = Field(default_factory=list)  # `bcsync orders fetch --ids`
    resend_ids: list[PositiveInt] = Field(default_factory=list)  # `bcsync orders resend --ids`
    since: AwareDatetime | None = None  # `bcsync orders fetch --since`

    @property
    def manual(self) -> bool:
        """An operator's fetch or resend: it runs beside the scan, not instead of it."""
        return bool(self.order_ids or self.resend_ids or self.since)


class ProductSyncOptions(JobOptions):
    mode: Literal["delta", "full"] = "delta"
    deleted_product_ids: list[PositiveInt] = Field(default_factory=list)  # `store/product/deleted` webhooks


class InventoryPushOptions(JobOptions):
    drift: bool = False  # read BigCommerce's own levels first and correct what others changed


# Read back: a tick's scan and the webhooks' news are every run; the hourly tick also reconciles stock.
class ReadbackOptions(JobOptions):
    stock_reconcile: bool = False  # read every inventory item of a source store, not only those with news


JOB_OPTIONS: dict[JobName, type[JobOptions]] = {
    "order_import": OrderImportOptions,
    "product_sync": ProductSyncOptions,
    "inventory_push": InventoryPushOptions,
    "tracking_writeback": JobOptions,
    "readback": ReadbackOptions,
}


class JobMessage(BaseModel):
    """The body of a message on a job queue. Its `options` are checked against its job's model, so a
    message no job can run is refused where it is read (and dead-lettered with the field's name)."""

    model_config = ConfigDict(extra="forbid")

    job: JobName
    store_hash: StoreHash
    trigger: Trigger = "schedule"
    options: dict[str, Any] = Field(default_factory=dict)
    continuation: int = Field(default=0, ge=0)

    @field_validator("options")
    @classmethod
    def _options_of_the_job(cls, options: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        job = info.data.get("job")
        if job is not None:
            try:
                JOB_OPTIONS[job].model_validate(options)
            except ValidationError as error:
                fields = ", ".join(sorted(".".join(map(str, issue["loc"])) for issue in error.errors()))
                raise ValueError(f"not options of {job}: {fields}") from None
        return options

    def options_as[T: JobOptions](self, model: type[T]) -> T:
        return model.model_validate(self.options)


class JobQueue:
    def __init__(self, sqs: SQSClient | Any, queue_url: str) -> None:
        self._sqs = sqs
        self._url = queue_url

    def send(self, message: JobMessage, *, delay_seconds: float = 0) -> None:
        delay = min(max(math.ceil(delay_seconds), 0), MAX_SQS_DELAY_SECONDS)
        self._sqs.send_message(QueueUrl=self._url, MessageBody=message.model_dump_json(), DelaySeconds=delay)

    def send_many(self, messages: list[JobMessage]) -> list[str]:
        """Returns the store hashes whose message SQS refused."""
        refused: list[str] = []
        for start in range(0, len(messages), SEND_BATCH):
            chunk = messages[start : start + SEND_BATCH]
            response = self._sqs.send_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(n), "MessageBody": m.model_dump_json()} for n, m in enumerate(chunk)],
            )
            refused += [chunk[int(failure["Id"])].store_hash for failure in response.get("Failed", [])]
        return refused


def queue_when_due(
    job_state: JobState, queue: JobQueue, message: JobMessage, *, now: float, debounce_seconds: float
) -> bool:
    """Open a debounce window on the store's job and queue `message` due at its end. False when a
    window is already open: its message, due at the window's end, covers this change too.

    Only the caller that opens a window writes (`JobState.mark_due` reads the window first). Why a
    change is never missed: a window seen open at `now` ends after `now`, and its message is sent after
    the window was written, with the window's length as its delay, so the run it starts begins after
    `now` and its list query (up to the run's start) reads this change. A window seen open whose message
    could not be sent was closed again by its opener, which answered an error: the sender's retry of that
    change opens a new window, and its run reads this change too. tests/integration/test_debounce_races.py
    drives these interleavings. Two cases wait for the scan instead (a delay, never a loss): the window's run
    resumes a scan an earlier run left unfinished (its list query ends where that scan was to end), or the
    opener dies between its write and its send (the window stays open with no message until it ends)."""
    if not job_state.mark_due(message.store_hash, message.job, now=now, debounce_seconds=debounce_seconds):
        return False
    try:
        queue.send(message, delay_seconds=debounce_seconds)
    except Exception:
        # No message means the window must not stay open: the next change (or the sender's retry of
        # this one) opens a new one.
        job_state.clear_due(message.store_hash, message.job, now=now, debounce_seconds=debounce_seconds)
        raise
    return True
