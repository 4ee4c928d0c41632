"""Every grant of the deployed template is one docs/architecture.md's access matrix lists, and no more."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from local_runtime import expanded_template

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
XRAY = "arn:${AWS::Partition}:iam::aws:policy/AWSXrayWriteOnlyAccess"
Grant = tuple[str, str, str]  # (function, resource, action)


def documented() -> set[Grant]:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    table = text.split("<!-- access-matrix -->", 1)[1].split("<!-- /access-matrix -->", 1)[0]
    grants: set[Grant] = set()
    for row in table.strip().splitlines()[2:]:
        function, resource, actions = (cell.strip() for cell in row.strip("|").split("|"))
        grants |= {(function, resource.replace("\\*", "*"), action.strip()) for action in actions.split(",")}
    return grants


def _resource(value: Any) -> str:
    """The template's resource expressions, named as the matrix names them."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical, attribute = value["Fn::GetAtt"]
        assert attribute == "Arn", value
        return str(logical)
    if isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        text = value["Fn::Sub"]
        secret = re.fullmatch(
            r"arn:\$\{AWS::Partition\}:secretsmanager:\$\{AWS::Region\}:\$\{AWS::AccountId\}:(secret:.+)", text
        )
        if secret:
            return secret.group(1)
        attribute = re.fullmatch(r"\$\{(\w+)\.Arn\}(/.*)?", text)
        if attribute:
            return attribute.group(1) + (attribute.group(2) or "")
    raise AssertionError(f"a grant on a resource the matrix cannot name: {value!r}")


def granted(template: dict[str, Any]) -> set[Grant]:
    resources = template["Resources"]
    grants: set[Grant] = set()
    for function, spec in resources.items():
        if spec["Type"] != "AWS::Lambda::Function":
            continue
        role_ref = spec["Properties"]["Role"]
        assert isinstance(role_ref, dict) and "Fn::GetAtt" in role_ref, f"{function}: a role SAM made, not ours"
        role = resources[role_ref["Fn::GetAtt"][0]]["Properties"]
        managed = [arn["Fn::Sub"] if isinstance(arn, dict) else arn for arn in role.get("ManagedPolicyArns", [])]
        assert managed == [XRAY], f"{function}: managed policies beyond X-Ray's: {managed}"
        for policy in role.get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                assert (
                    statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
                )
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                assert not any("*" in action for action in actions), f"{function}: a wildcard action {actions}"
                grants |= {(function, _resource(target), action) for target in targets for action in actions}
    return grants


def test_the_template_grants_exactly_what_the_access_matrix_lists() -> None:
    template = expanded_template()

    actual, expected = granted(template), documented()

    assert actual - expected == set(), f"granted but not in docs/architecture.md: {sorted(actual - expected)}"
    assert expected - actual == set(), f"in the matrix but no longer granted: {sorted(expected - actual)}"


def test_a_grant_added_to_the_template_is_caught() -> None:
    template = expanded_template()
    role = template["Resources"]["WebhookReceiverRole"]["Properties"]
    role["Policies"][0]["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Action": "events:PutEvents", "Resource": {"Fn::GetAtt": ["EventBus", "Arn"]}}
    )

    assert ("WebhookReceiverFunction", "EventBus", "events:PutEvents") in granted(template) - documented()


def test_every_function_has_a_matrix_of_its_own() -> None:
    functions = {
        name for name, spec in expanded_template()["Resources"].items() if spec["Type"] == "AWS::Lambda::Function"
    }

    assert {function for function, _, _ in documented()} == functions
