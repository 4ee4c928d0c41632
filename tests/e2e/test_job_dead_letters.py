"""Each job function dead-letters a message that can never run to its own DLQ, with the reason."""

from __future__ import annotations

import pytest

from bigcommerce_sandbox import Sandbox
from local_runtime import LocalDeployment
from tests.aws import reason_of


@pytest.mark.parametrize(
    ("function", "queue"),
    [
        ("OrderImportFunction", "OrderImportJobs"),
        ("ProductSyncFunction", "ProductSyncJobs"),
        ("InventoryPushFunction", "InventoryPushJobs"),
    ],
)
def test_a_job_message_that_can_never_run_goes_to_its_dlq_with_its_reason(
    local_world: tuple[LocalDeployment, Sandbox], function: str, queue: str
) -> None:
    stack, _ = local_world
    stack.client("sqs").send_message(QueueUrl=stack.physical[queue]["Ref"], MessageBody='{"job": "dance"}')

    report = stack.deliver_sqs(queue, stack.load_handler(function))

    assert report.failed == 0 and report.delivered == 1
    assert [reason_of(message) for message in stack.take_messages(f"{queue}DLQ")] == [
        "not a job message (invalid: job, store_hash)"
    ]
