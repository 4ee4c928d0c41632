"""Which IAM action, on which resource, each AWS request the functions send needs (local_runtime.iam)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from local_runtime import iam


@dataclass(frozen=True)
class Sent:
    service: str
    operation: str = ""
    method: str = "POST"
    path: str = "/"
    query: str = ""
    body: bytes = b""


def sent(service: str, operation: str, **body: object) -> Sent:
    return Sent(service=service, operation=operation, body=json.dumps(body).encode())


@pytest.mark.parametrize(
    ("request_", "action"),
    [
        (sent("dynamodb", "DynamoDB_20120810.GetItem", TableName="t"), "dynamodb:GetItem"),
        (sent("dynamodb", "DynamoDB_20120810.BatchWriteItem", RequestItems={"t": []}), "dynamodb:BatchWriteItem"),
        (sent("sqs", "AmazonSQS.SendMessage", QueueUrl="q"), "sqs:SendMessage"),
        (sent("sqs", "AmazonSQS.SendMessageBatch", QueueUrl="q"), "sqs:SendMessage"),
        (sent("sqs", "AmazonSQS.DeleteMessageBatch", QueueUrl="q"), "sqs:DeleteMessage"),
        (Sent("sqs", "SendMessage", body=b"Action=SendMessage&QueueUrl=q"), "sqs:SendMessage"),
        (sent("events", "AWSEvents.PutEvents", Entries=[]), "events:PutEvents"),
        (sent("secretsmanager", "secretsmanager.GetSecretValue", SecretId="s"), "secretsmanager:GetSecretValue"),
        (Sent("s3", method="GET", path="/bucket/a/b.json"), "s3:GetObject"),
        (Sent("s3", method="HEAD", path="/bucket/a"), "s3:GetObject"),
        (Sent("s3", method="PUT", path="/bucket/a"), "s3:PutObject"),
        (Sent("s3", method="DELETE", path="/bucket/a"), "s3:DeleteObject"),
        (Sent("s3", method="PUT", path="/bucket/a", query="tagging"), "s3:PutObjectTagging"),
        (Sent("s3", method="GET", path="/bucket", query="list-type=2"), "s3:ListBucket"),
    ],
)
def test_each_request_needs_the_iam_action_aws_checks(request_: Sent, action: str) -> None:
    assert iam.action_of(request_) == action


def test_a_request_is_named_by_the_resources_of_the_stack_it_acts_on() -> None:
    physical = {
        "StateTable": {"Ref": "bcsync-state", "Arn": "arn:aws:dynamodb:us-east-1:1:table/bcsync-state"},
        "OrderImportJobs": {"Ref": "http://aws/1/jobs", "Arn": "arn:aws:sqs:us-east-1:1:jobs"},
        "EventBus": {"Ref": "bcsync-bus", "Arn": "arn:aws:events:us-east-1:1:event-bus/bcsync-bus"},
        "PayloadBucket": {"Ref": "bcsync-payloads", "Arn": "arn:aws:s3:::bcsync-payloads"},
    }
    names = iam.logical_names(physical, "bcsync/stack/stores/")

    def used(request: Sent) -> list[iam.Grant]:
        return iam.grants_used("F", request, names)

    assert used(sent("dynamodb", "DynamoDB_20120810.BatchGetItem", RequestItems={"bcsync-state": {}})) == [
        ("F", "StateTable", "dynamodb:BatchGetItem")
    ]
    assert used(sent("sqs", "AmazonSQS.SendMessage", QueueUrl="http://aws/1/jobs")) == [
        ("F", "OrderImportJobs", "sqs:SendMessage")
    ]
    assert used(sent("events", "AWSEvents.PutEvents", Entries=[{"EventBusName": physical["EventBus"]["Arn"]}])) == [
        ("F", "EventBus", "events:PutEvents")
    ]
    assert used(sent("secretsmanager", "secretsmanager.GetSecretValue", SecretId="bcsync/stack/stores/abc")) == [
        ("F", iam.STORE_SECRETS, "secretsmanager:GetSecretValue")
    ]
    assert used(Sent("s3", method="GET", path="/bcsync-payloads/events/1.json")) == [
        ("F", "PayloadBucket/*", "s3:GetObject")
    ]
    # Another stack's secret, or a table this stack does not hold, matches none of its grants.
    assert used(sent("secretsmanager", "secretsmanager.GetSecretValue", SecretId="bcsync/other/stores/abc")) == [
        ("F", "bcsync/other/stores/abc", "secretsmanager:GetSecretValue")
    ]
    assert used(sent("sqs", "AmazonSQS.ListQueues")) == [("F", "*", "sqs:ListQueues")]
    # A secret made (named, not an id yet) and the stack's app secret are named as the matrix names them.
    assert used(sent("secretsmanager", "secretsmanager.CreateSecret", Name="bcsync/stack/stores/abc")) == [
        ("F", iam.STORE_SECRETS, "secretsmanager:CreateSecret")
    ]
    assert used(sent("secretsmanager", "secretsmanager.GetSecretValue", SecretId="bcsync/stack/app")) == [
        ("F", iam.APP_SECRET, "secretsmanager:GetSecretValue")
    ]


def test_a_function_key_names_its_stack_and_function_and_the_operators_names_none() -> None:
    key = iam.function_access_key("bcsync-test", "WebhookReceiverFunction")

    assert iam.caller_of(key) == ("bcsync-test", "WebhookReceiverFunction")
    assert iam.caller_of("local") is None
    assert iam.caller_of("AKIAIOSFODNN7EXAMPLE") is None


GRANTS = {("F", "StateTable", "dynamodb:GetItem"), ("F", "StateTable", "dynamodb:PutItem")}


def test_a_call_no_grant_allows_is_reported_even_from_a_subset_of_the_tests() -> None:
    findings = iam.compare(GRANTS, [("F", "StateTable", "dynamodb:Scan")], whole_suite=False)

    assert findings.ungranted == [("F", "StateTable", "dynamodb:Scan")]
    assert findings.unused == []
    assert "F: dynamodb:Scan on StateTable" in findings.report()


def test_a_grant_never_used_is_reported_only_after_the_whole_suite() -> None:
    observed = [("F", "StateTable", "dynamodb:GetItem")]

    assert iam.compare(GRANTS, observed, whole_suite=True).unused == [("F", "StateTable", "dynamodb:PutItem")]
    assert iam.compare(GRANTS, observed, whole_suite=False).unused == []
    allowed = {("F", "StateTable", "dynamodb:PutItem"): "the one write of a rare path"}
    assert iam.compare(GRANTS, observed, allowed_unused=allowed, whole_suite=True).unused == []
