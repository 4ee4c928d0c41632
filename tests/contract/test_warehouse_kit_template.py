"""The stack gives a warehouse system what docs/warehouse.md says: its queues and bucket as outputs, a managed
policy of exactly those grants, and another account's access only when its id is given."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from tests import aws

DOC = Path(__file__).resolve().parents[2] / "docs" / "warehouse.md"


@cache
def load_template() -> dict[str, Any]:
    """template.yaml, read once for the module (it is read-only here)."""
    return aws.load_template()


def _statements(document: dict[str, Any]) -> list[Any]:
    return list(document["PolicyDocument"]["Statement"])


def test_every_output_the_guide_names_exists_and_each_queue_and_the_bucket_has_its_arn() -> None:
    outputs = load_template()["Outputs"]
    table = DOC.read_text(encoding="utf-8").split("## The queues, from the stack's outputs")[1].split("## ")[0]
    first_cells = [row.split("|")[1] for row in table.splitlines() if row.startswith("| `")]
    named = {name for cell in first_cells for name in re.findall(r"`(\w+)`", cell) if name != "Arn"}
    named |= {f"{stem}Arn" for cell in first_cells for stem in re.findall(r"`(\w+)Url`/`Arn`", cell)}
    assert len(named) >= 17
    assert named - set(outputs) == set(), "docs/warehouse.md names outputs the stack does not have"
    for queue in ("WarehouseOutbound", "WarehouseOutboundDLQ", "ShipmentsInbound", "ShipmentsInboundDLQ",
                  "StockInbound", "StockInboundDLQ", "BusDeliveryDLQ"):  # fmt: skip
        assert outputs[f"{queue}QueueArn"]["Value"] == {"Fn::GetAtt": [queue, "Arn"]}
        assert outputs[f"{queue}QueueUrl"]["Value"] == {"Ref": queue}
    assert outputs["PayloadBucketArn"]["Value"] == {"Fn::GetAtt": ["PayloadBucket", "Arn"]}
    assert outputs["WmsPolicyArn"]["Value"] == {"Ref": "WmsPolicy"}


def test_the_wms_policy_consumes_the_outbound_queue_feeds_the_inbound_ones_and_reads_claim_checks_only() -> None:
    policy = load_template()["Resources"]["WmsPolicy"]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    grants = set()
    for statement in _statements(policy["Properties"]):
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        grants |= {(str(target), action) for target in targets for action in actions}
    consume = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"}

    def on(queue: str) -> set[str]:
        return {action for target, action in grants if target == str({"Fn::GetAtt": [queue, "Arn"]})}

    # Every queue a warehouse sends to (each `...Inbound` queue of the template: shipments, stock, returns,
    # fulfillment requests), and its DLQ to count what was refused.
    resources = load_template()["Resources"]
    inbound = sorted(name for name, spec in resources.items()
                     if spec["Type"] == "AWS::SQS::Queue" and name.endswith("Inbound"))  # fmt: skip
    assert len(inbound) == 4
    assert on("WarehouseOutbound") == on("WarehouseOutboundDLQ") == consume
    for queue in inbound:
        assert on(queue) == {"sqs:SendMessage", "sqs:GetQueueAttributes"}, queue
        assert on(f"{queue}DLQ") == {"sqs:GetQueueAttributes"}, queue
    assert (str({"Fn::Sub": "${PayloadBucket.Arn}/events/*"}), "s3:GetObject") in grants
    assert not any("*" in action for _, action in grants)
    assert len(grants) == 4 * 2 + len(inbound) * 3 + 1  # nothing else: not the job queues, not the tables


def test_another_account_gets_nothing_unless_its_id_is_given() -> None:
    template = load_template()
    assert template["Parameters"]["WmsAccountId"]["Default"] == ""
    assert template["Conditions"]["HasWmsAccount"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "WmsAccountId"}, ""]}]}
    resources = template["Resources"]
    assert resources["WmsInboundQueuePolicy"]["Condition"] == "HasWmsAccount"
    for name in ("WarehouseOutboundPolicy", "PayloadBucketPolicy"):
        conditional = [s for s in _statements(resources[name]["Properties"]) if "Fn::If" in s]
        (statement,) = conditional
        condition, granted, otherwise = statement["Fn::If"]
        assert (condition, otherwise) == ("HasWmsAccount", {"Ref": "AWS::NoValue"})
        assert granted["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${WmsAccountId}:root"}}
    text = str(resources)
    assert text.count("${WmsAccountId}") == 3  # those three statements, and nowhere else
