"""Job messages and the job queues they travel on, with the debounce that queues them."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bcsync.store.jobs import JobState
from bcsync.store.settings import JobName, StoreHash

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_SQS_DELAY_SECONDS = 900
SEND_BATCH = 10


# "stock": a warehouse stock message made the inventory push due.
Trigger = Literal["schedule", "webhook", "manual", "continuation", "stock"]


class JobMessage(BaseModel):
    """The body of a message on a job queue."""

    model_config = ConfigDict(extra="forbid")

    job: JobName
    store_hash: StoreHash
    trigger: Trigger = "schedule"
    options: dict[str, Any] = Field(default_factory=dict)
    continuation: int = Field(default=0, ge=0)


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
    window is already open: its message, due at the window's end, covers this change too."""
    if not job_state.mark_due(message.store_hash, message.job, now=now, debounce_seconds=debounce_seconds):
        return False
    try:
        queue.send(message, delay_seconds=debounce_seconds)
    except Exception:
        # No message means the window must not stay open: the next change (or the sender's retry of
        # this one) opens a new one.
        job_state.clear_due(message.store_hash, message.job)
        raise
    return True
