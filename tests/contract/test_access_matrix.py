"""Every grant of the deployed template is one docs/architecture.md's access matrix lists, and no more; and
the rule the suite holds them to (tests/conftest.py): every call a function makes is granted, every grant
is used by some call."""

from __future__ import annotations

from pathlib import Path

from local_runtime import expanded_template, iam
from tests.conftest import ALLOWED_UNUSED

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
Grant = iam.Grant  # (function, resource, action)


def documented() -> set[Grant]:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    table = text.split("<!-- access-matrix -->", 1)[1].split("<!-- /access-matrix -->", 1)[0]
    grants: set[Grant] = set()
    for row in table.strip().splitlines()[2:]:
        function, resource, actions = (cell.strip() for cell in row.strip("|").split("|"))
        grants |= {(function, resource.replace("\\*", "*"), action.strip()) for action in actions.split(",")}
    return grants


granted = iam.granted


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


def _statements(template: dict[str, object], role: str) -> list[dict[str, object]]:
    return template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]  # type: ignore[index, no-any-return]


def test_a_grant_no_call_uses_is_reported_after_the_whole_suite() -> None:
    template = expanded_template()
    observed = granted(template) - iam.used_by_lambda(template)  # as if every grant the code needs were used
    _statements(template, "WebhookReceiverRole").append(
        {"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": {"Fn::GetAtt": ["StateTable", "Arn"]}}
    )

    findings = iam.compare(granted(template), observed, lambda_uses=iam.used_by_lambda(template), whole_suite=True)

    assert findings.unused == [("WebhookReceiverFunction", "StateTable", "dynamodb:Scan")]
    assert findings.ungranted == []


def test_a_call_the_role_no_longer_grants_is_reported() -> None:
    template = expanded_template()
    observed = granted(template) - iam.used_by_lambda(template)
    for statement in _statements(template, "TrackingWritebackRole"):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if statement["Resource"] == {"Fn::GetAtt": ["StateTable", "Arn"]}:
            statement["Action"] = [action for action in actions if action != "dynamodb:PutItem"]

    findings = iam.compare(granted(template), observed, whole_suite=False)

    assert findings.ungranted == [("TrackingWritebackFunction", "StateTable", "dynamodb:PutItem")]


def test_what_lambda_does_with_a_role_is_granted() -> None:
    """Log writes and the event source mappings' polling are no handler's request: the template's own
    wiring (LoggingConfig, EventSourceMapping) stands for them, and each must be granted."""
    template = expanded_template()

    assert iam.used_by_lambda(template) - granted(template) == set()


def test_every_grant_kept_unused_is_still_granted() -> None:
    assert set(ALLOWED_UNUSED) - granted(expanded_template()) == set()
