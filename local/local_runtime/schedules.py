"""The template's schedule rules fired from the runtime's clock, with what EventBridge would send each target."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from . import limits
from .invoke import Functions, LambdaContext, refuse_request_over
from .template import ACCOUNT, REGION

ScheduleHandler = Callable[[str, dict[str, Any], LambdaContext], Any]

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_DAILY_CRON = re.compile(r"^cron\(\d{1,2} \d{1,2} \* \* \? \*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> float:
    if _DAILY_CRON.match(expression.strip()):
        return 86_400  # a daily cron fires once per simulated day (its hour is not kept)
    match = _RATE.match(expression.strip())
    if match is None:
        raise ValueError(f"only rate(...) and daily cron(...) schedules run locally, not {expression!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


class Schedules(Functions):
    """A part of `LocalDeployment`: the stack's schedule rules and when they are due."""

    def schedules(self) -> dict[str, float]:
        """Every schedule rule of the template and its period in seconds (rate expressions)."""
        periods: dict[str, float] = {}
        for logical, spec in self.template["Resources"].items():
            expression = (
                spec.get("Properties", {}).get("ScheduleExpression") if spec["Type"] == "AWS::Events::Rule" else None
            )
            if expression:
                periods[logical] = rate_seconds(expression)
        return periods

    def due_schedules(self, since: float, until: float) -> list[tuple[str, float]]:
        """(rule, fire time) for every schedule tick in (since, until], in time order."""
        due = []
        for logical, period in self.schedules().items():
            tick = (since // period + 1) * period
            while tick <= until:
                due.append((logical, tick))
                tick += period
        return sorted(due, key=lambda item: item[1])


def _scheduled_event(stack: Schedules, rule: str, fired_at: float) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": datetime.fromtimestamp(fired_at, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "region": REGION,
        "resources": [stack.physical.get(rule, {}).get("Arn", f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}")],
        "detail": {},
    }


def fire_schedules(stack: Schedules, since: float, until: float, invoke: ScheduleHandler) -> list[tuple[str, float]]:
    """Invoke each schedule target due in (since, until] with what EventBridge would send it:
    the target's `Input` when it has one, else the scheduled event. Returns what fired.

    EventBridge invokes a function asynchronously: an event over Lambda's asynchronous payload quota
    (1 MB) is refused (RequestTooLargeException) and the function never runs."""
    fired = stack.due_schedules(since, until)
    for rule, at in fired:
        targets = stack.template["Resources"][rule].get("Properties", {}).get("Targets", [{"Id": rule}])
        for target in targets:
            event = json.loads(target["Input"]) if "Input" in target else _scheduled_event(stack, rule, at)
            arn = target.get("Arn")
            # A function target is `!GetAtt <Function>.Arn`: invoke that function by its logical id.
            function = arn["Fn::GetAtt"][0] if isinstance(arn, dict) and "Fn::GetAtt" in arn else target.get("Id", rule)
            refuse_request_over(function, event, limits.LAMBDA_ASYNC_PAYLOAD_BYTES)
            invoke(function, event, stack.context(function))
    return fired
