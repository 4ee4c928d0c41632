"""A function for the local runtime's own tests: configuration at cold start, one call per event."""

from __future__ import annotations

from typing import Any

from bcsync.settings import RuntimeConfig

CONFIG = RuntimeConfig.from_env()  # read once, at import, as a Lambda cold start does
INVOCATIONS: list[str] = []


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    INVOCATIONS.append(context.aws_request_id)
    return {"state_table": CONFIG.state_table, "echo": event, "invocations": len(INVOCATIONS)}
