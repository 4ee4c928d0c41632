"""Rules the template must keep that no emulator checks: what a deploy to a real account would accept."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from local_runtime import expanded_template
from local_runtime.template import ACCOUNT, REGION
from tests.unit.test_inbound_and_settings import API_URLS

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags read as plain values."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


@pytest.mark.parametrize(("url", "allowed"), API_URLS)
def test_the_api_url_parameter_takes_what_the_functions_take(url: str, allowed: bool) -> None:
    parameter = yaml.load(TEMPLATE.read_text(), Loader=_Loader)["Parameters"]["BigCommerceApiUrl"]  # noqa: S506
    assert bool(re.fullmatch(parameter["AllowedPattern"], url)) is allowed


OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_what_sam_delete_leaves_is_what_the_operations_guide_lists() -> None:
    resources = yaml.load(TEMPLATE.read_text(), Loader=_Loader)["Resources"]  # noqa: S506
    retained = {name for name, spec in resources.items() if spec.get("DeletionPolicy") == "Retain"}
    table = OPERATIONS.read_text().split("<!-- retained -->")[1].split("<!-- /retained -->")[0]
    listed = {row.split("|")[1].strip() for row in table.strip().splitlines()[2:]}
    assert retained == listed
    # Kept on replacement as well, or an update that replaces one deletes the data it holds.
    assert all(resources[name].get("UpdateReplacePolicy") == "Retain" for name in retained)


def test_what_the_bus_cannot_deliver_is_retried_then_kept_and_alarmed() -> None:
    resources = yaml.load(TEMPLATE.read_text(), Loader=_Loader)["Resources"]  # noqa: S506
    bus_rules = {name: spec for name, spec in resources.items()
                 if spec["Type"] == "AWS::Events::Rule" and "EventBusName" in spec["Properties"]}  # fmt: skip
    assert bus_rules, "the event bus has no rule"
    for name, rule in bus_rules.items():
        for target in rule["Properties"]["Targets"]:
            assert target.get("RetryPolicy", {}).get("MaximumEventAgeInSeconds"), f"{name}: no retry policy"
            assert "DeadLetterConfig" in target, f"{name}: an undeliverable event would be dropped"
    alarmed = {
        spec["Properties"].get("MetricName") for spec in resources.values() if spec["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert "ApproximateAgeOfOldestMessage" in alarmed  # a warehouse that stopped reading is noticed


CLOUDWATCH_NEEDS = {"kms:Decrypt", "kms:GenerateDataKey*"}


def _cloudwatch_may_use(key: dict[str, Any]) -> bool:
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        principal = statement.get("Principal", {}).get("Service", [])
        actions = statement.get("Action", [])
        services = {principal} if isinstance(principal, str) else set(principal)
        granted = {actions} if isinstance(actions, str) else set(actions)
        if statement["Effect"] == "Allow" and "cloudwatch.amazonaws.com" in services and granted >= CLOUDWATCH_NEEDS:
            return True
    return False


def test_every_alarm_can_publish_to_its_topic() -> None:
    """CloudWatch publishes to an encrypted topic only with a key whose policy lets it use the key: the
    AWS-managed `alias/aws/sns` has a policy nobody can change, so alarms sent there reach nobody."""
    resources = expanded_template()["Resources"]
    topics = {
        action["Ref"]
        for spec in resources.values()
        if spec["Type"] == "AWS::CloudWatch::Alarm"
        for action in spec["Properties"].get("AlarmActions", [])
    }
    assert topics
    for topic in topics:
        key = resources[topic]["Properties"].get("KmsMasterKeyId")
        if key is None:
            continue  # unencrypted: CloudWatch can publish
        assert isinstance(key, dict) and "Ref" in key, f"{topic}: {key} is a key CloudWatch cannot be let use"
        assert _cloudwatch_may_use(resources[key["Ref"]]), f"{topic}: its key's policy does not let CloudWatch use it"


def test_every_http_api_logs_each_request_without_its_headers() -> None:
    resources = expanded_template()["Resources"]
    stages = [spec for spec in resources.values() if spec["Type"] == "AWS::ApiGatewayV2::Stage"]
    assert stages
    for stage in stages:
        settings = stage["Properties"].get("AccessLogSettings")
        assert settings is not None, f"{stage['Properties'].get('ApiId')}: no access logs"
        assert "$context.status" in settings["Format"] and "header" not in settings["Format"].lower()


def test_every_http_api_function_ends_before_its_integration_times_out() -> None:
    """API Gateway gives up on an HTTP API's integration after TimeoutInMillis (30 s at most) and answers
    503 while the function runs on; a function whose own Timeout is shorter ends first, with its own error
    in its own log. The integration's timeout is set, not left to a default."""
    resources = expanded_template()["Resources"]
    integrations = [
        (operation["x-amazon-apigateway-integration"], re.search(r"\$\{(\w+)\.Arn\}", uri["Fn::Sub"]))
        for spec in resources.values()
        if spec["Type"] == "AWS::ApiGatewayV2::Api"
        for methods in spec["Properties"].get("Body", {}).get("paths", {}).values()
        for operation in methods.values()
        if isinstance(uri := operation.get("x-amazon-apigateway-integration", {}).get("uri"), dict)
    ]
    assert integrations
    for integration, function in integrations:
        assert function is not None
        timeout_ms = integration.get("timeoutInMillis")
        assert timeout_ms is not None, f"{function.group(1)}: no TimeoutInMillis on its integration"
        assert 50 <= int(timeout_ms) <= 30_000, f"{function.group(1)}: {timeout_ms} ms is not an HTTP API's"
        function_timeout = float(resources[function.group(1)]["Properties"].get("Timeout", 3))
        assert function_timeout * 1000 < int(timeout_ms), f"{function.group(1)} may outlive its integration"


# --- two stacks in one account ------------------------------------------------------------------------

STAGING, PRODUCTION = "bcsync-staging", "bcsync-prod"  # two stacks deployed into the same account


def _as_deployed(value: Any, stack: str) -> str:
    """A string of the template as CloudFormation makes it for a stack named `stack` (pseudo parameters
    only; another reference becomes `?`, which matches no name the test compares it with)."""
    text = value["Fn::Sub"] if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str) else value
    if not isinstance(text, str):
        return f"? {value!r}"
    pseudo = {"AWS::StackName": stack, "AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
    return re.sub(r"\$\{([^}]+)\}", lambda match: pseudo.get(match.group(1), "?"), text)


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in template["Resources"].items() if spec["Type"] == "AWS::Lambda::Function"}


def secret_overreach(template: dict[str, Any], stack: str) -> list[str]:
    """Each way a function of `stack` could reach a store secret that is not its own stack's: no prefix of
    its own, or a Secrets Manager grant on anything but `secret:<its prefix>*`."""
    problems: list[str] = []
    resources = template["Resources"]
    for function, spec in _functions(template).items():
        variables = spec["Properties"].get("Environment", {}).get("Variables", {})
        if "BCSYNC_SECRET_PREFIX" not in variables:
            problems.append(f"{function}: no BCSYNC_SECRET_PREFIX")
            continue
        prefix = _as_deployed(variables["BCSYNC_SECRET_PREFIX"], stack)
        own = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{prefix}*"
        # The stack's app secret (`bcsync/<stack>/app`, beside its store secrets) is its own too.
        own_app = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{prefix.removesuffix('stores/')}app-*"
        role = resources[spec["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
        for policy in role.get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                if not any(action.startswith("secretsmanager:") for action in actions):
                    continue
                targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                problems += [
                    f"{function}: {granted} is not {own}"
                    for granted in (_as_deployed(target, stack) for target in targets)
                    if granted not in (own, own_app)
                ]
    return problems


def test_each_roles_secret_grant_is_its_own_stacks_prefix_and_misses_the_other_stacks_secrets() -> None:
    template = expanded_template()

    assert secret_overreach(template, STAGING) == []
    for function, spec in _functions(template).items():
        staging = _as_deployed(spec["Properties"]["Environment"]["Variables"]["BCSYNC_SECRET_PREFIX"], STAGING)
        production = _as_deployed(spec["Properties"]["Environment"]["Variables"]["BCSYNC_SECRET_PREFIX"], PRODUCTION)
        # Secrets Manager appends six random characters to a secret's ARN.
        production_secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{production}abc123-Xy12Zw"
        staging_grant = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{staging}*"
        assert not fnmatch.fnmatchcase(production_secret, staging_grant), f"{function}: staging reads production's"


def test_a_secret_grant_wider_than_the_stacks_prefix_is_caught() -> None:
    template = expanded_template()
    role = template["Resources"]["WebhookReceiverRole"]["Properties"]
    statement = next(
        s for s in role["Policies"][0]["PolicyDocument"]["Statement"] if s["Action"] == "secretsmanager:GetSecretValue"
    )
    statement["Resource"] = {
        "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:bcsync/*"
    }

    assert secret_overreach(template, STAGING) == [
        f"WebhookReceiverFunction: arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:bcsync/* is not "
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:bcsync/{STAGING}/stores/*"
    ]


def _custom_namespaces(template: dict[str, Any], stack: str) -> dict[str, set[str]]:
    """The namespace of every metric of ours (not AWS/...) each alarm and the dashboard read."""
    read: dict[str, set[str]] = {}
    for name, spec in template["Resources"].items():
        properties = spec.get("Properties", {})
        if spec["Type"] == "AWS::CloudWatch::Alarm":
            metrics = [properties] + [
                m["MetricStat"]["Metric"] for m in properties.get("Metrics", []) if "MetricStat" in m
            ]
            read[name] = {_as_deployed(m["Namespace"], stack) for m in metrics if "Namespace" in m}
        elif spec["Type"] == "AWS::CloudWatch::Dashboard":
            body = json.loads(_as_deployed(properties["DashboardBody"], stack))
            read[name] = {
                metric[0]
                for widget in body["widgets"]
                for metric in widget.get("properties", {}).get("metrics", [])
                if isinstance(metric, list) and isinstance(metric[0], str) and metric[0] != "."
            }
    return {name: {n for n in namespaces if not n.startswith("AWS/")} for name, namespaces in read.items()}


def test_alarms_and_the_dashboard_read_the_metrics_of_their_own_stack_alone() -> None:
    template = expanded_template()
    written = {
        stack: {
            _as_deployed(spec["Properties"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"], stack)
            for spec in _functions(template).values()
        }
        for stack in (STAGING, PRODUCTION)
    }

    assert len(written[STAGING]) == 1 and written[STAGING] != written[PRODUCTION]
    for stack in (STAGING, PRODUCTION):
        read = _custom_namespaces(template, stack)
        assert {name for name, namespaces in read.items() if namespaces}, "no alarm reads a metric of ours"
        assert {name: namespaces for name, namespaces in read.items() if not namespaces <= written[stack]} == {}
