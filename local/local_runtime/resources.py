"""Each resource type of the expanded template created in moto, or named as not emulated with the reason.

A creator takes the resource's properties (intrinsic functions already resolved) and returns its
physical id and the attributes `Fn::GetAtt` reads: {"Ref": ..., "Arn": ...}. A type that is neither
created here nor in NOT_EMULATED stops the deployment (`create`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .template import ACCOUNT, REGION

Client = Callable[[str], Any]  # a boto3 client of the deployment's moto server, by service name
Physical = dict[str, str]  # "Ref" and the attributes Fn::GetAtt reads
Creator = Callable[[Client, str, dict[str, Any], str], Physical]  # (client, logical id, properties, stack name)

# Resource types with no behaviour to emulate here, and why.
NOT_EMULATED = {
    "AWS::Lambda::LayerVersion": "the layers' packages are imported from the repository",
    "AWS::S3::BucketPolicy": "moto does not enforce bucket policies",
    "AWS::SQS::QueuePolicy": "moto does not enforce queue policies",
    "AWS::IAM::Role": "moto does not enforce IAM; grants are checked against the expanded template instead",
    "AWS::IAM::ManagedPolicy": "moto does not enforce IAM; the warehouse's policy is checked against its calls instead",
    "AWS::Lambda::Function": "handlers run in-process, imported from their CodeUri",
    "AWS::Lambda::Permission": "in-process invocations need no permission",
    "AWS::Lambda::EventSourceMapping": "deliver_sqs plays the event source mapping",
    "AWS::ApiGatewayV2::Stage": "the local HTTP API serves every API's $default stage",
}
HTTP_API = "AWS::ApiGatewayV2::Api"  # served by the local HTTP API (gateway.py), not by moto


def create(
    kind: str, logical: str, properties: dict[str, Any], client: Client, *, api_url: str, stack_name: str
) -> Physical:
    """A resource CloudFormation would name (none given) is named `<stack>-<logical id>`, as CloudFormation
    starts its names with the stack's: two stacks in one account never share one."""
    if kind == HTTP_API:
        return {"Ref": f"local{logical.lower()}", "ApiEndpoint": api_url}
    creator = CREATORS.get(kind)
    if creator is None:
        raise RuntimeError(f"{logical}: the local runtime cannot create {kind}; add it or list it in NOT_EMULATED")
    return creator(client, logical, properties, stack_name)


def _dynamodb_table(client: Client, logical: str, p: dict[str, Any], stack: str) -> Physical:
    name = p.get("TableName", f"{stack}-{logical}")
    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=p["AttributeDefinitions"],
        KeySchema=p["KeySchema"],
        BillingMode=p.get("BillingMode", "PAY_PER_REQUEST"),
    )
    ttl = p.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    arn = dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
    return {"Ref": name, "Arn": arn}


def _sqs_queue(client: Client, logical: str, p: dict[str, Any], stack: str) -> Physical:
    name = p.get("QueueName", f"{stack}-{logical}")
    attributes = {
        key: (json.dumps(value) if isinstance(value, dict) else str(value))
        for key, value in p.items()
        if key in {"VisibilityTimeout", "MessageRetentionPeriod", "RedrivePolicy", "DelaySeconds"}
    }
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return {"Ref": url, "Arn": arn, "QueueName": name, "QueueUrl": url}


def _s3_bucket(client: Client, logical: str, p: dict[str, Any], stack: str) -> Physical:
    name = p.get("BucketName", f"{stack}-{logical}".lower())
    client("s3").create_bucket(Bucket=name)
    return {"Ref": name, "Arn": f"arn:aws:s3:::{name}"}


def _events_event_bus(client: Client, logical: str, p: dict[str, Any], stack: str) -> Physical:
    arn = client("events").create_event_bus(Name=p["Name"])["EventBusArn"]
    return {"Ref": p["Name"], "Arn": arn, "Name": p["Name"]}


def _events_rule(client: Client, logical: str, p: dict[str, Any], stack: str) -> Physical:
    name = p.get("Name", f"{stack}-{logical}")
    events = client("events")
    rule: dict[str, Any] = {"Name": name, "State": p.get("State", "ENABLED")}
    if p.get("EventBusName"):
        rule["EventBusName"] = p["EventBusName"]
    if p.get("EventPattern"):
        rule["EventPattern"] = json.dumps(p["EventPattern"])
    if p.get("ScheduleExpression"):
        rule["ScheduleExpression"] = p["ScheduleExpression"]
    arn = events.put_rule(**rule)["RuleArn"]
    targets = [{"Id": t["Id"], "Arn": t["Arn"]} for t in p.get("Targets", [])]
    if targets:
        events.put_targets(Rule=name, EventBusName=p.get("EventBusName", "default"), Targets=targets)
    return {"Ref": name, "Arn": arn}


def _sns_topic(client: Client, logical: str, p: dict[str, Any], stack: str) -> Physical:
    attributes = {"KmsMasterKeyId": str(p["KmsMasterKeyId"])} if p.get("KmsMasterKeyId") else {}
    arn = client("sns").create_topic(Name=p.get("TopicName", f"{stack}-{logical}"), Attributes=attributes)["TopicArn"]
    return {"Ref": arn, "TopicName": arn.rsplit(":", 1)[-1]}


def _sns_subscription(client: Client, logical: str, p: dict[str, Any], stack: str) -> Physical:
    arn = client("sns").subscribe(TopicArn=p["TopicArn"], Protocol=p["Protocol"], Endpoint=p["Endpoint"])
    return {"Ref": arn["SubscriptionArn"]}


def _logs_log_group(client: Client, logical: str, p: dict[str, Any], stack: str) -> Physical:
    name = p.get("LogGroupName", f"/aws/local/{stack}/{logical}")
    client("logs").create_log_group(logGroupName=name)
    return {"Ref": name, "Arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"}


def _cloudwatch_alarm(client: Client, logical: str, p: dict[str, Any], stack: str) -> Physical:
    name = p.get("AlarmName", f"{stack}-{logical}")
    alarm = {key: value for key, value in p.items() if key != "AlarmName"}
    if isinstance(alarm.get("Threshold"), str):  # a parameter's value: CloudFormation makes it a number
        alarm["Threshold"] = float(alarm["Threshold"])
    client("cloudwatch").put_metric_alarm(AlarmName=name, **alarm)
    return {"Ref": name, "Arn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"}


def _kms_key(client: Client, logical: str, p: dict[str, Any], stack: str) -> Physical:
    kms = client("kms")
    metadata = kms.create_key(Description=p.get("Description", logical), Policy=json.dumps(p["KeyPolicy"]))[
        "KeyMetadata"
    ]
    if p.get("EnableKeyRotation"):
        kms.enable_key_rotation(KeyId=metadata["KeyId"])
    return {"Ref": metadata["KeyId"], "Arn": metadata["Arn"], "KeyId": metadata["KeyId"]}


def _cloudwatch_dashboard(client: Client, logical: str, p: dict[str, Any], stack: str) -> Physical:
    name = p.get("DashboardName", f"{stack}-{logical}")
    json.loads(p["DashboardBody"])  # what CloudFormation would refuse: a body that is not JSON once substituted
    client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=p["DashboardBody"])
    return {"Ref": name}


CREATORS: dict[str, Creator] = {
    "AWS::DynamoDB::Table": _dynamodb_table,
    "AWS::SQS::Queue": _sqs_queue,
    "AWS::S3::Bucket": _s3_bucket,
    "AWS::Events::EventBus": _events_event_bus,
    "AWS::Events::Rule": _events_rule,
    "AWS::SNS::Topic": _sns_topic,
    "AWS::SNS::Subscription": _sns_subscription,
    "AWS::Logs::LogGroup": _logs_log_group,
    "AWS::CloudWatch::Alarm": _cloudwatch_alarm,
    "AWS::CloudWatch::Dashboard": _cloudwatch_dashboard,
    "AWS::KMS::Key": _kms_key,
}


def inventory(client: Client) -> dict[str, set[str]]:
    """What exists in moto now, by type (physical ids, as `Ref` gives them): for comparing with the template."""
    sqs, events, sns, cloudwatch = client("sqs"), client("events"), client("sns"), client("cloudwatch")
    buses = {bus["Name"] for bus in events.list_event_buses()["EventBuses"]} - {"default"}
    rules = {rule["Name"] for bus in {*buses, "default"} for rule in events.list_rules(EventBusName=bus)["Rules"]}
    return {
        "AWS::DynamoDB::Table": set(client("dynamodb").list_tables()["TableNames"]),
        "AWS::SQS::Queue": set(sqs.list_queues().get("QueueUrls", [])),
        "AWS::Events::EventBus": buses,
        "AWS::Events::Rule": rules,
        "AWS::S3::Bucket": {bucket["Name"] for bucket in client("s3").list_buckets()["Buckets"]},
        "AWS::SNS::Topic": {topic["TopicArn"] for topic in sns.list_topics()["Topics"]},
        "AWS::SNS::Subscription": {sub["SubscriptionArn"] for sub in sns.list_subscriptions()["Subscriptions"]},
        "AWS::Logs::LogGroup": {group["logGroupName"] for group in client("logs").describe_log_groups()["logGroups"]},
        "AWS::CloudWatch::Alarm": {alarm["AlarmName"] for alarm in cloudwatch.describe_alarms()["MetricAlarms"]},
        "AWS::CloudWatch::Dashboard": {
            entry["DashboardName"] for entry in cloudwatch.list_dashboards()["DashboardEntries"]
        },
        "AWS::KMS::Key": {key["KeyId"] for key in client("kms").list_keys()["Keys"]},
    }
