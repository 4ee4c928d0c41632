"""AWS's documented limits, checked before moto sees a request: moto takes what AWS refuses.

Each check names the limit and answers as AWS does (its error code, HTTP 400), so code that runs on
the local runtime meets the same refusals it would meet in an account. docs/architecture.md ("Limits
the local AWS enforces") lists each with the test at its edge. Faults can be injected as well: a
throttled or failing call of one operation, a given number of times (`Faults`).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

KIB = 1024
EVENTBRIDGE_ENTRIES, EVENTBRIDGE_REQUEST_BYTES = 10, 256 * KIB
# AWS says 400 KB; moto refuses from 405,000 bytes on (its own reading of the limit): the lower is held,
# so what fits here fits in AWS.
DYNAMODB_ITEM_BYTES = 400_000
DYNAMODB_BATCH_WRITE, DYNAMODB_BATCH_GET, DYNAMODB_TRANSACTION = 25, 100, 100
DYNAMODB_BATCH_WRITE_BYTES = 16 * KIB * KIB
SQS_MESSAGE_BYTES, SQS_BATCH_ENTRIES = 1024 * KIB, 10
SQS_MAX_DELAY_SECONDS, SQS_MAX_VISIBILITY_SECONDS, SQS_MAX_RECEIVE = 900, 43_200, 10
# Lambda's invocation payloads: 6 MB each way for a synchronous invocation (an event source mapping's
# batch, API Gateway's request), 1 MB for an asynchronous one's event (an EventBridge schedule's): the
# Invoke API reference and the Lambda quotas page.
LAMBDA_SYNC_PAYLOAD_BYTES = 6 * KIB * KIB
LAMBDA_ASYNC_PAYLOAD_BYTES = 1 * KIB * KIB
# An HTTP API's payload, and its integration timeout (TimeoutInMillis: 50 to 30,000, 30,000 by default).
HTTP_API_PAYLOAD_BYTES = 10 * KIB * KIB
HTTP_API_MAX_INTEGRATION_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class Refusal:
    """What AWS answers a request over one of its limits."""

    service: str
    code: str
    message: str
    query_code: str = ""  # SQS's error code as its query protocol names it (botocore reads it from a header)
    status: int = 400

    def body(self) -> bytes:
        return json.dumps({"__type": self.code, "message": self.message, "Message": self.message}).encode()

    def headers(self) -> list[tuple[str, str]]:
        headers = [("Content-Type", "application/x-amz-json-1.0")]
        if self.query_code:
            headers.append(("x-amzn-query-error", f"{self.query_code};Sender"))
        return headers


def dynamodb_attribute_size(value: dict[str, Any]) -> int:
    """A DynamoDB attribute value's size in bytes, by AWS's rules (wire JSON: {"S": ...}, {"N": ...})."""
    (kind, content), = value.items()  # fmt: skip
    if kind == "S":
        return len(str(content).encode())
    if kind == "N":
        digits = str(Decimal(str(content)).normalize()).lstrip("-").replace(".", "").lstrip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(base64.b64decode(content))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(item).encode()) for item in content)
    if kind == "NS":
        return sum(dynamodb_attribute_size({"N": item}) for item in content)
    if kind == "BS":
        return sum(len(base64.b64decode(item)) for item in content)
    if kind == "L":
        return 3 + sum(1 + dynamodb_attribute_size(item) for item in content)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + dynamodb_attribute_size(item) for name, item in content.items())
    raise ValueError(f"not a DynamoDB attribute value: {kind}")


def dynamodb_item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + dynamodb_attribute_size(value) for name, value in item.items())


def _dynamodb(operation: str, request: dict[str, Any]) -> Refusal | None:
    def refuse(message: str) -> Refusal:
        return Refusal("dynamodb", "com.amazonaws.dynamodb.v20120810#ValidationException", message)

    too_large = "Item size has exceeded the maximum allowed size"
    if operation == "PutItem" and dynamodb_item_size(request.get("Item", {})) > DYNAMODB_ITEM_BYTES:
        return refuse(too_large)
    if operation == "UpdateItem":
        # What the update writes alone (its key and values): the item it makes is at least this large.
        written = dynamodb_item_size(request.get("Key", {})) + sum(
            dynamodb_attribute_size(value) for value in request.get("ExpressionAttributeValues", {}).values()
        )
        if written > DYNAMODB_ITEM_BYTES:
            return refuse(too_large)
    if operation == "BatchWriteItem":
        writes = [write for table in request.get("RequestItems", {}).values() for write in table]
        if len(writes) > DYNAMODB_BATCH_WRITE:
            return refuse(f"Too many items requested for the BatchWriteItem call: {len(writes)}")
        items = [write["PutRequest"]["Item"] for write in writes if "PutRequest" in write]
        if any(dynamodb_item_size(item) > DYNAMODB_ITEM_BYTES for item in items):
            return refuse(too_large)
        if sum(map(dynamodb_item_size, items)) > DYNAMODB_BATCH_WRITE_BYTES:
            return refuse("Item collection size limit of the request exceeded")
    if operation == "BatchGetItem":
        keys = sum(len(table.get("Keys", [])) for table in request.get("RequestItems", {}).values())
        if keys > DYNAMODB_BATCH_GET:
            return refuse(f"Too many items requested for the BatchGetItem call: {keys}")
    if operation in ("TransactWriteItems", "TransactGetItems"):
        actions = len(request.get("TransactItems", []))
        if actions > DYNAMODB_TRANSACTION:
            return refuse(f"Member must have length less than or equal to {DYNAMODB_TRANSACTION}: {actions}")
    return None


def _events(operation: str, request: dict[str, Any]) -> Refusal | None:
    if operation != "PutEvents":
        return None
    entries = request.get("Entries", [])

    def refuse(message: str) -> Refusal:
        return Refusal("events", "ValidationException", message)

    if len(entries) > EVENTBRIDGE_ENTRIES:
        return refuse(
            "1 validation error detected: Value at 'entries' failed to satisfy constraint: "
            f"Member must have length less than or equal to {EVENTBRIDGE_ENTRIES}"
        )
    if sum(map(eventbridge_entry_size, entries)) > EVENTBRIDGE_REQUEST_BYTES:
        return refuse("Total size of the entries in the request is over the limit.")
    return None


def eventbridge_entry_size(entry: dict[str, Any]) -> int:
    """AWS's formula: 14 bytes for a Time, the UTF-8 bytes of Source, DetailType, Detail and Resources."""
    size = 14 if entry.get("Time") is not None else 0
    size += sum(len(str(entry.get(name) or "").encode()) for name in ("Source", "DetailType", "Detail"))
    return size + sum(len(str(resource).encode()) for resource in entry.get("Resources") or [])


def sqs_message_size(body: str, attributes: dict[str, Any]) -> int:
    """A message's size: its body and, for each attribute, its name, type and value."""
    size = len(body.encode())
    for name, attribute in attributes.items():
        value = attribute.get("StringValue") or attribute.get("BinaryValue") or ""
        size += len(name.encode()) + len(str(attribute.get("DataType", "")).encode()) + len(str(value).encode())
    return size


def _sqs(operation: str, request: dict[str, Any]) -> Refusal | None:
    def refuse(code: str, message: str) -> Refusal:
        return Refusal("sqs", f"com.amazonaws.sqs#{code}", message, query_code=f"AWS.SimpleQueueService.{code}")

    def invalid(message: str) -> Refusal:
        return Refusal("sqs", "com.amazonaws.sqs#InvalidParameterValue", message, query_code="InvalidParameterValue")

    def message_problem(message: dict[str, Any]) -> Refusal | None:
        if (
            sqs_message_size(str(message.get("MessageBody", "")), message.get("MessageAttributes") or {})
            > SQS_MESSAGE_BYTES
        ):
            return invalid(
                f"One or more parameters are invalid. Reason: Message must be shorter than {SQS_MESSAGE_BYTES} bytes."
            )
        if int(message.get("DelaySeconds") or 0) > SQS_MAX_DELAY_SECONDS:
            return invalid(
                f"Value {message['DelaySeconds']} for parameter DelaySeconds is invalid. "
                f"Reason: must be <= {SQS_MAX_DELAY_SECONDS}."
            )
        return None

    if operation == "SendMessage":
        return message_problem(request)
    if operation == "SendMessageBatch":
        entries = request.get("Entries", [])
        if len(entries) > SQS_BATCH_ENTRIES:
            return refuse(
                "TooManyEntriesInBatchRequest", f"Maximum number of entries per request are {SQS_BATCH_ENTRIES}."
            )
        total = sum(sqs_message_size(str(e.get("MessageBody", "")), e.get("MessageAttributes") or {}) for e in entries)
        if total > SQS_MESSAGE_BYTES:
            return refuse("BatchRequestTooLong", f"Batch requests cannot be longer than {SQS_MESSAGE_BYTES} bytes.")
        return next((problem for problem in map(message_problem, entries) if problem is not None), None)
    if operation == "ChangeMessageVisibility" and int(request.get("VisibilityTimeout", 0)) > SQS_MAX_VISIBILITY_SECONDS:
        return invalid(f"Value {request['VisibilityTimeout']} for parameter VisibilityTimeout is invalid.")
    if operation == "ReceiveMessage" and int(request.get("MaxNumberOfMessages", 1)) > SQS_MAX_RECEIVE:
        return invalid(f"Value {request['MaxNumberOfMessages']} for parameter MaxNumberOfMessages is invalid.")
    return None


CHECKS: dict[str, Callable[[str, dict[str, Any]], Refusal | None]] = {
    "dynamodb": _dynamodb,
    "events": _events,
    "sqs": _sqs,
}


def check(service: str, operation: str, body: bytes) -> Refusal | None:
    """AWS's refusal of this request, or None. `operation`: the name after the X-Amz-Target's dot."""
    rule = CHECKS.get(service)
    if rule is None or not body:
        return None
    try:
        request = json.loads(body)
    except ValueError:
        return None  # not a JSON-protocol request: moto answers it as AWS would
    return rule(operation, request) if isinstance(request, dict) else None


# A fault kind that is no AWS error code: the answer never comes (the connection closes without one),
# as a call that timed out meets it. botocore takes both for the same connection error and retries them.
NO_ANSWER = "no answer"


@dataclass
class Fault:
    service: str
    operation: str
    refusal: Refusal
    times: int


@dataclass
class Faults:
    """Calls made to fail on purpose: the next `times` calls of one operation get AWS's error."""

    pending: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, service: str, operation: str, code: str, *, times: int = 1, status: int = 400) -> None:
        """`code`: AWS's error code (e.g. "ThrottlingException"), or NO_ANSWER for a call left unanswered."""
        message = f"injected by the local runtime: {code}"
        with self._lock:
            self.pending.append(Fault(service, operation, Refusal(service, code, message, status=status), times))

    def take(self, service: str, operation: str) -> Refusal | None:
        with self._lock:
            for fault in self.pending:
                if (fault.service, fault.operation) == (service, operation) and fault.times > 0:
                    fault.times -= 1
                    return fault.refusal
        return None

    def clear(self) -> None:
        with self._lock:
            self.pending.clear()

    def left(self) -> int:
        """How many injected failures are still to come."""
        with self._lock:
            return sum(fault.times for fault in self.pending)
