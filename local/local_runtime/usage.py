"""What a run on the local runtime would cost in AWS, at list prices, from what went over the wire.

Counted: every request the handlers, the runtime's SQS poller and the harness sent moto (`AwsUsage` is
a `LocalDeployment.observe_aws` observer) and every handler invocation (`LocalDeployment.invocations`). Each
estimate errs high where it has to guess:

- DynamoDB request units follow the size of the request (writes, 1 KB a unit) or of moto's answer
  (reads, 4 KB a unit, half for an eventually consistent read), both in DynamoDB's wire JSON, which
  is larger than the item sizes DynamoDB bills.
- Lambda bills each invocation's wall time plus the time it spent waiting on the runtime's clock
  (BigCommerce's latency on a compressed clock), at the function's memory, rounded up to the ms.
  Its CPU time ran on a whole local core; in Lambda a function gets a whole vCPU at 1,769 MB and a
  share below, so the CPU part is stretched by 1,769 / memory under that (`lambda_seconds`).
  The handlers ran against moto, which is slower than DynamoDB and SQS.
- Each event EventBridge routes to a queue is one SQS request of EventBridge's (moto routes it
  without one); the local poller deletes each message on its own, where Lambda deletes a batch at once.
  A receive that found nothing is a poller's idle cost, paid by the hour whatever the traffic (Lambda's
  pollers long-poll each queue around the clock): it is counted apart, not in the bill.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .invoke import Invocation
from .moto_server import AwsRequest

# USD, us-east-1, on demand, arm64 (the template's architecture), past any free tier
# (aws.amazon.com/<service>/pricing, 2026-11).
PRICES = {
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second": 0.0000133334,
    "dynamodb_write_unit": 0.625 / 1e6,
    "dynamodb_read_unit": 0.125 / 1e6,
    "sqs_request": 0.40 / 1e6,  # each 64 KB of a payload is a request
    "eventbridge_event": 1.00 / 1e6,  # each 64 KB of an entry is an event
    "http_api_request": 1.00 / 1e6,
    "s3_put": 0.005 / 1e3,
    "s3_get": 0.0004 / 1e3,
    "secrets_manager_call": 0.05 / 1e4,
    "logs_gb_ingested": 0.50,
    "xray_trace": 5.00 / 1e6,
}
_KB, _SQS_CHUNK = 1024, 64 * 1024
_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
_READS = {"GetItem", "Query", "Scan", "BatchGetItem"}


def _units(size: int, per: int) -> int:
    return max(1, math.ceil(size / per))


# --- Lambda's memory, by measurement: CPU is proportional to memory, waiting is not ---
LAMBDA_MB_PER_VCPU = 1_769  # Lambda's documented size for one full vCPU
MEMORY_SIZES_MB = (256, 512, 1_024)


def cpu_factor(memory_mb: int) -> float:
    """How much longer CPU work takes at `memory_mb` than on a whole vCPU (1 at 1,769 MB and above)."""
    return max(1.0, LAMBDA_MB_PER_VCPU / memory_mb)


def lambda_seconds(run: Invocation, memory_mb: int) -> float:
    """An invocation's duration at `memory_mb`, billed to the ms: its waiting (wall time not spent on
    CPU, and the compressed clock's waits) as measured, its CPU time stretched by `cpu_factor`."""
    cpu = min(max(run.cpu_seconds, 0.0), run.wall_seconds)
    waiting = run.wall_seconds - cpu + run.clock_seconds
    return math.ceil((waiting + cpu * cpu_factor(memory_mb)) * 1000) / 1000


def gb_seconds_by_memory(
    invocations: Iterable[Invocation], sizes: Iterable[int] = MEMORY_SIZES_MB
) -> dict[str, dict[int, float]]:
    """Each function's GB-seconds had it run at each memory size: memory / 1024 x `lambda_seconds`."""
    wanted = tuple(sizes)
    table: dict[str, dict[int, float]] = {}
    for run in invocations:
        row = table.setdefault(run.function, dict.fromkeys(wanted, 0.0))
        for size in wanted:
            row[size] += size / 1024 * lambda_seconds(run, size)
    return {function: {size: round(value, 3) for size, value in row.items()} for function, row in table.items()}


def cheapest_memory(gb_seconds: dict[int, float], allowed: Iterable[int]) -> int:
    """The memory size of the fewest GB-seconds among those `allowed` (the smaller one on a tie)."""
    return min(allowed, key=lambda size: (gb_seconds[size], size))


@dataclass
class AwsUsage:
    """Counts as requests arrive; `bill()` prices them with the run's invocations."""

    dynamodb_write_units: float = 0
    dynamodb_read_units: float = 0
    sqs_requests: int = 0
    empty_receives: int = 0
    events: int = 0
    s3_puts: int = 0
    s3_gets: int = 0
    secrets_manager_calls: int = 0
    operations: Counter[str] = field(default_factory=Counter)
    write_units_by_operation: Counter[str] = field(default_factory=Counter)

    def observe(self, request: AwsRequest) -> None:
        operation = request.operation.rpartition(".")[2]
        self.operations[f"{request.service} {operation or request.method}"] += 1
        if request.service == "dynamodb":
            self._dynamodb(operation, request)
        elif request.service == "sqs":
            if operation == "ReceiveMessage" and b'"Messages"' not in request.response:
                self.empty_receives += 1  # a poller's, fixed by the hour whatever the traffic
            else:
                self.sqs_requests += _units(len(request.body), _SQS_CHUNK)
        elif request.service == "events" and operation == "PutEvents":
            entries = json.loads(request.body).get("Entries", [])
            published = sum(_units(len(json.dumps(entry)), _SQS_CHUNK) for entry in entries)
            self.events += published
            self.sqs_requests += published  # EventBridge's delivery to the queue the rule targets
        elif request.service == "s3":
            if request.method in {"PUT", "POST"}:
                self.s3_puts += 1
            else:
                self.s3_gets += 1
        elif request.service == "secretsmanager":
            self.secrets_manager_calls += 1

    def _dynamodb(self, operation: str, request: AwsRequest) -> None:
        body: dict[str, Any] = json.loads(request.body or b"{}")
        table = str(body.get("TableName", ""))
        if operation in _WRITES:
            self._wrote(f"{operation} {table}", _units(len(request.body), _KB))
        elif operation == "BatchWriteItem":
            for name, entries in body.get("RequestItems", {}).items():
                self._wrote(f"{operation} {name}", sum(_units(len(json.dumps(entry)), _KB) for entry in entries))
        elif operation == "TransactWriteItems":
            self._wrote(operation, sum(2 * _units(len(json.dumps(item)), _KB) for item in body["TransactItems"]))
        elif operation in _READS:
            consistent = body.get("ConsistentRead", False)
            self.dynamodb_read_units += _units(len(request.response), 4 * _KB) * (1 if consistent else 0.5)
        elif operation == "TransactGetItems":
            self.dynamodb_read_units += 2 * _units(len(request.response), 4 * _KB)

    def _wrote(self, what: str, units: int) -> None:
        self.dynamodb_write_units += units
        self.write_units_by_operation[what] += units

    def bill(
        self, invocations: Iterable[Invocation], *, http_api_requests: int = 0, log_bytes: int = 0
    ) -> dict[str, Any]:
        """USD by service: `core` holds what the connector's work itself costs (Lambda, DynamoDB, SQS,
        EventBridge); `also` what a deployment adds around it, X-Ray as if every invocation were traced."""
        runs = list(invocations)
        by_function: dict[str, float] = {}
        for run in runs:  # at the memory the template gives the function
            billed_seconds = lambda_seconds(run, run.memory_mb)
            by_function[run.function] = by_function.get(run.function, 0.0) + run.memory_mb / 1024 * billed_seconds
        gb_seconds = sum(by_function.values())
        core = {
            "lambda": len(runs) * PRICES["lambda_request"] + gb_seconds * PRICES["lambda_gb_second"],
            "dynamodb": self.dynamodb_write_units * PRICES["dynamodb_write_unit"]
            + self.dynamodb_read_units * PRICES["dynamodb_read_unit"],
            "sqs": self.sqs_requests * PRICES["sqs_request"],
            "eventbridge": self.events * PRICES["eventbridge_event"],
        }
        also = {
            "http_api": http_api_requests * PRICES["http_api_request"],
            "s3": self.s3_puts * PRICES["s3_put"] + self.s3_gets * PRICES["s3_get"],
            "secrets_manager": self.secrets_manager_calls * PRICES["secrets_manager_call"],
            "cloudwatch_logs": log_bytes / 1024**3 * PRICES["logs_gb_ingested"],
            "xray_at_most": len(runs) * PRICES["xray_trace"],
        }
        return {
            "counted": {
                "invocations": len(runs),
                "lambda_gb_seconds": round(gb_seconds, 3),
                "lambda_gb_seconds_by_function": {name: round(value, 3) for name, value in by_function.items()},
                "dynamodb_write_units": self.dynamodb_write_units,
                "dynamodb_read_units": self.dynamodb_read_units,
                "sqs_requests": self.sqs_requests,
                "sqs_empty_receives_not_billed_here": self.empty_receives,
                "eventbridge_events": self.events,
                "http_api_requests": http_api_requests,
                "log_bytes": log_bytes,
                "top_operations": dict(self.operations.most_common(12)),
                "write_units_by_operation": dict(self.write_units_by_operation.most_common(12)),
            },
            "core_usd": core,
            "core_total_usd": sum(core.values()),
            "also_usd": also,
            "total_usd": sum(core.values()) + sum(also.values()),
        }
