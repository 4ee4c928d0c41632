"""The core's log lines as CloudWatch shows them: under the Lambda Python runtime's own logging setup,
every line from `bcsync` and `bigcommerce_client` is Powertools' structured JSON with its fields."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bigcommerce_sandbox import Sandbox
from local_runtime import LocalDeployment

# What the runtime (awslambdaric's bootstrap, text format, no AWS_LAMBDA_LOG_LEVEL) puts on the root logger:
# one handler with this format, and the root's default level, WARNING.
LAMBDA_TEXT_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"


@pytest.fixture
def lambda_root_logging() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(logging.Formatter(LAMBDA_TEXT_FORMAT, "%Y-%m-%dT%H:%M:%S"))

    def request_id(record: logging.LogRecord) -> bool:
        record.aws_request_id = "req-1"
        return True

    handler.addFilter(request_id)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    try:
        yield sink
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _sqs_record(stack: LocalDeployment, body: str) -> dict[str, Any]:
    return {
        "messageId": "m-1", "receiptHandle": "r-1", "body": body, "md5OfBody": "",
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"}, "messageAttributes": {},
        "eventSource": "aws:sqs", "eventSourceARN": stack.physical["OrderImportJobs"]["Arn"], "awsRegion": "us-east-1",
    }  # fmt: skip


def test_core_lines_are_structured_json_with_their_fields_and_none_falls_to_the_runtime_handler(
    local_world: tuple[LocalDeployment, Sandbox], lambda_root_logging: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, _ = local_world
    handle = stack.load_handler("OrderImportFunction")  # imported as the runtime imports it, after its setup

    handle({"action": "tick"}, stack.context("OrderImportFunction"))  # an INFO line of bcsync.backbone
    handle({"Records": [_sqs_record(stack, "not a job")]}, stack.context("OrderImportFunction"))  # an ERROR line

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    core = {line["message"]: line for line in lines if str(line.get("name", "")).startswith("bcsync")}
    tick, dead = core["schedule tick"], core["message dead-lettered"]
    assert (tick["level"], tick["service"], tick["name"], tick["job"]) == (
        "INFO", "order_import", "bcsync.backbone.function", "order_import",
    )  # fmt: skip
    assert (dead["level"], dead["message_id"]) == ("ERROR", "m-1")
    assert dead["reason"].startswith("not a job message")
    assert "bcsync" not in lambda_root_logging.getvalue() and "dead-lettered" not in lambda_root_logging.getvalue()
