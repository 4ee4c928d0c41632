"""events/: one sample per trigger per function (`sam local invoke -e`), each accepted by its real handler."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from bcsync.app.signed_payload import app_secret_name
from bcsync.cli import main as bcsync_cli
from bigcommerce_sandbox import Sandbox, seed_catalog
from bigcommerce_sandbox.app import register_app
from local_runtime import LocalDeployment
from tests.aws import reason_of
from tests.conftest import KNOWN_TOKENS

EVENTS = Path(__file__).resolve().parents[2] / "events"
SAMPLES = sorted(EVENTS.glob("*/*.json"))


def _function_of(stack: LocalDeployment, folder: str) -> str:
    return str(
        next(
            logical
            for logical, spec in stack.template["Resources"].items()
            if spec["Type"] == "AWS::Lambda::Function"
            and spec["Properties"].get("Code", {}).get("S3Key") == f"functions/{folder}"
        )
    )


def test_every_function_has_a_sample_for_each_of_its_triggers(local_stack: LocalDeployment) -> None:
    folders = {path.parent.name for path in SAMPLES}
    for folder in folders:
        function = _function_of(local_stack, folder)
        inputs = [
            json.loads(target["Input"])
            for spec in local_stack.template["Resources"].values()
            if spec["Type"] == "AWS::Events::Rule"
            for target in spec["Properties"].get("Targets", [])
            if target.get("Arn") == {"Fn::GetAtt": [function, "Arn"]} and "Input" in target
        ]
        samples = [json.loads(path.read_text()) for path in SAMPLES if path.parent.name == folder]
        assert all(schedule_input in samples for schedule_input in inputs), f"{folder}: a schedule has no sample"
    functions = {spec["Properties"]["Code"]["S3Key"].split("/")[-1] for spec in local_stack.template["Resources"].values()
                 if spec["Type"] == "AWS::Lambda::Function"}  # fmt: skip
    assert functions == folders


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_the_sample_is_accepted_by_its_handler(local_world: tuple[LocalDeployment, Sandbox], sample: Path) -> None:
    stack, sandbox = local_world
    KNOWN_TOKENS.add("demo-token-events")
    seed_catalog(sandbox.add_store("demo123", token="demo-token-events"), products=3, variants_per_product=1)
    assert bcsync_cli(["stores", "connect", "demo123"], stdin=io.StringIO("demo-token-events"), out=io.StringIO()) == 0
    event: dict[str, Any] = json.loads(sample.read_text())
    if "requestContext" in event:  # the store's real webhook secret, as BigCommerce would send it
        secret = stack.credentials().get("demo123").webhook_secret
        event["headers"]["x-bcsync-webhook-secret"] = secret.get_secret_value()
    for record in event.get("Records", []):  # the sample names its queue; the stack's has this account's ARN
        queue = record["eventSourceARN"].rsplit(":", 1)[1].removeprefix("bcsync-")
        record["eventSourceARN"] = stack.physical[queue]["Arn"]
    if sample.parent.name == "app_callbacks":  # a payload BigCommerce signed for this stack's app, now
        app = register_app(sandbox, client_id="demo-app", client_secret="demo-app-secret-0123456789abcdef",
                           redirect_uri="https://sample.execute-api.us-east-1.amazonaws.com/app/auth")  # fmt: skip
        stack.client("secretsmanager").create_secret(
            Name=app_secret_name(stack.stack_name),
            SecretString=json.dumps({"client_id": app.client_id, "client_secret": app.client_secret}),
        )
        event["queryStringParameters"]["signed_payload_jwt"] = app.signed_payload("demo123", "remove_user")
    function = _function_of(stack, sample.parent.name)

    answer = stack.load_handler(function)(event, stack.context(function))

    if "Records" in event:
        assert answer == {"batchItemFailures": []}
        dead = {
            logical: [reason_of(message) for message in stack.take_messages(logical)]
            for logical in stack.physical
            if logical.endswith("DLQ") and "QueueUrl" in stack.physical[logical]
        }
        # Read and routed, not refused unread: the writeback's samples name an order this store never
        # released, so the writeback itself sends them on with that reason; every other sample is taken.
        expected: dict[str, list[str]] = {}
        if sample.parent.name == "tracking_writeback":
            order_id = json.loads(event["Records"][0]["body"])["order_id"]
            reason = f"order {order_id} is not one bcsync sent to the warehouse for store demo123"
            expected = {"ShipmentsInboundDLQ": [reason]}
        if sample.parent.name == "returns":  # the same: a return of an order bcsync never sent
            body = json.loads(event["Records"][0]["body"])
            reason = f"order {body['order_id']} is not one bcsync sent to the warehouse for store demo123"
            expected = {
                "ReturnsInboundDLQ": [f"return {body['warehouse_return_id']} of order {body['order_id']}: {reason}"]
            }
        elif sample.parent.name == "fulfilment":  # demo123 is a sales channel: it fulfils no requests
            reason = "store demo123 is not a source (its role is sales_channel): set its role to source or both "
            reason += "(`bcsync stores configure demo123 --set role=source`) and redrive"
            expected = {"FulfillmentRequestsInboundDLQ": [reason]}
        assert {queue: reasons for queue, reasons in dead.items() if reasons} == expected
    elif sample.parent.name == "app_callbacks":
        assert answer["statusCode"] == 200 and "User removed" in answer["body"]
    elif sample.parent.name == "console":  # a page without a session says how to open one
        assert answer["statusCode"] == 401 and "open the app from BigCommerce" in answer["body"]
    elif "requestContext" in event:
        assert answer["statusCode"] == 200 and json.loads(answer["body"])["outcome"] == "accepted"
    else:
        assert answer.get("problems") == []
