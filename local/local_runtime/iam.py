"""Least privilege by observation: which IAM action an AWS request needs, on which of the template's
resources, and how what the functions were seen to call compares with what their roles grant.

The template's grants are named as docs/architecture.md's access matrix names them: (function, resource,
action), the resource a logical id (`StateTable`), a bucket's objects (`PayloadBucket/*`) or a secret
pattern (`secret:bcsync/${AWS::StackName}/stores/*`). An observed request is named the same way, so the
two compare as sets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote

Grant = tuple[str, str, str]  # (function, resource, action)

XRAY = "arn:${AWS::Partition}:iam::aws:policy/AWSXrayWriteOnlyAccess"
STORE_SECRETS = "secret:bcsync/${AWS::StackName}/stores/*"
# The app's client id and secret (`bcsync/<stack>/app`; Secrets Manager adds "-" and six characters).
APP_SECRET = "secret:bcsync/${AWS::StackName}/app-*"  # noqa: S105 - a name, not a secret

# What each function's requests are signed with locally: `local.<stack>.<function>` (a stack name has no
# dot, a logical id neither). Anything else - the operator's or a test's own credentials - is no function's.
_FUNCTION_KEY = re.compile(r"local\.(?P<stack>[A-Za-z0-9-]+)\.(?P<function>[A-Za-z0-9]+)")

# The batch forms IAM authorises as their single form.
_IAM_ACTION_OF = {
    "sqs": {
        "SendMessageBatch": "SendMessage",
        "DeleteMessageBatch": "DeleteMessage",
        "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    },
}


def function_access_key(stack_name: str, function: str) -> str:
    """The access key id a function's requests are signed with: it names the caller to the local AWS."""
    return f"local.{stack_name}.{function}"


def caller_of(access_key: str) -> tuple[str, str] | None:
    """(stack, function) of a function's access key; None for anyone else's."""
    match = _FUNCTION_KEY.fullmatch(access_key)
    return (match.group("stack"), match.group("function")) if match else None


class Request(Protocol):
    """What the mapping reads of one AWS request (local_runtime.moto_server.AwsRequest is one)."""

    @property
    def service(self) -> str: ...  # as signed: "dynamodb", "sqs", "s3", ...
    @property
    def operation(self) -> str: ...  # the X-Amz-Target or the query Action; "" for S3's REST
    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def query(self) -> str: ...
    @property
    def body(self) -> bytes: ...


def _json(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _s3_action(request: Request) -> tuple[str, str, str]:
    """(action, bucket, key) of an S3 REST request, path style (`/bucket/key`), as the local endpoint is
    addressed."""
    bucket, _, key = unquote(request.path).lstrip("/").partition("/")
    subresources = {part.split("=", 1)[0] for part in request.query.split("&") if part}
    method = request.method.upper()
    if key:
        if "tagging" in subresources:
            action = {"GET": "GetObjectTagging", "PUT": "PutObjectTagging"}.get(method, "DeleteObjectTagging")
        else:
            # HEAD needs GetObject; a multipart upload (POST ?uploads, PUT ?partNumber) needs PutObject.
            action = {"GET": "GetObject", "HEAD": "GetObject", "PUT": "PutObject", "POST": "PutObject"}.get(
                method, "DeleteObject"
            )
    else:
        action = {"GET": "ListBucket", "HEAD": "ListBucket", "PUT": "CreateBucket"}.get(method, "DeleteBucket")
    return f"s3:{action}", bucket, key


def action_of(request: Request) -> str:
    """The IAM action a request needs: `dynamodb:GetItem` for `DynamoDB_20120810.GetItem`,
    `sqs:SendMessage` for `AmazonSQS.SendMessageBatch`, `s3:GetObject` for `GET /bucket/key`."""
    if request.service == "s3":
        return _s3_action(request)[0]
    operation = request.operation.rsplit(".", 1)[-1]
    operation = _IAM_ACTION_OF.get(request.service, {}).get(operation, operation)
    return f"{request.service}:{operation}"


def named_resources(request: Request) -> list[str]:
    """The physical names a request acts on: table names, queue URLs, secret ids, event bus names or ARNs,
    and for S3 `bucket` (the bucket) or `bucket/*` (an object in it)."""
    if request.service == "s3":
        _, bucket, key = _s3_action(request)
        return [f"{bucket}/*" if key else bucket]
    body = _json(request.body)
    if request.service == "dynamodb":
        if "RequestItems" in body:
            return sorted(body["RequestItems"])
        return [body["TableName"]] if "TableName" in body else []
    if request.service == "sqs":
        if "QueueUrl" in body:
            return [body["QueueUrl"]]
        return [body["QueueName"]] if "QueueName" in body else []
    if request.service == "secretsmanager":
        if "SecretId" in body:
            return [body["SecretId"]]
        return [body["Name"]] if "Name" in body else []  # CreateSecret names the secret it makes
    if request.service == "events":
        if "Entries" in body:
            return sorted({entry.get("EventBusName", "default") for entry in body["Entries"]})
        return [body["EventBusName"]] if "EventBusName" in body else []
    return []


def grants_used(function: str, request: Request, names: Mapping[str, str]) -> list[Grant]:
    """The (function, resource, action) a function's request needs its role to grant; a request that
    names no resource needs its action on `*`."""
    action = action_of(request)
    return [(function, resource_of(name, names), action) for name in named_resources(request) or ["*"]]


def logical_names(physical: Mapping[str, Mapping[str, str]], secret_prefix: str) -> dict[str, str]:
    """Each physical name or ARN of the stack → how the access matrix names its resource."""
    names: dict[str, str] = {}
    for logical, attributes in physical.items():
        for value in attributes.values():
            names[str(value)] = logical
            names[f"{value}/*"] = f"{logical}/*"
    # A store's secret id (`<prefix><store hash>`) is one of the stores' secrets the grant's pattern names.
    names[secret_prefix] = STORE_SECRETS
    names[secret_prefix.removesuffix("stores/") + "app"] = APP_SECRET
    return names


def resource_of(name: str, names: Mapping[str, str]) -> str:
    """The access matrix's name of a physical one; a name the stack does not hold is kept as it is (and so
    matches no grant)."""
    if name in names:
        return names[name]
    for prefix, resource in names.items():
        if resource == STORE_SECRETS and name.startswith(prefix):
            return resource
    if name.startswith("arn:") and ":secret:" in name:  # a secret addressed by its ARN
        return resource_of(name.split(":secret:", 1)[1].rsplit("-", 1)[0], names)
    if name.startswith("arn:") and ":event-bus/" in name:
        return resource_of(name.rsplit("/", 1)[1], names)
    return name


# --- the template's grants ---------------------------------------------------------------------------


def _matrix_resource(value: Any) -> str:
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
    """Every (function, resource, action) the expanded template's roles grant."""
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
                grants |= {(function, _matrix_resource(target), action) for target in targets for action in actions}
    return grants


def used_by_lambda(template: dict[str, Any]) -> set[Grant]:
    """What Lambda itself does with a function's role, which no handler's request shows: its runtime
    writes the function's log group, and its event source mappings poll and delete from their queues."""
    resources = template["Resources"]
    used: set[Grant] = set()
    for function, spec in resources.items():
        if spec["Type"] != "AWS::Lambda::Function":
            continue
        log_group = spec["Properties"].get("LoggingConfig", {}).get("LogGroup")
        if isinstance(log_group, dict) and "Ref" in log_group:
            used |= {(function, log_group["Ref"], f"logs:{a}") for a in ("CreateLogStream", "PutLogEvents")}
    for spec in resources.values():
        if spec["Type"] != "AWS::Lambda::EventSourceMapping":
            continue
        function, source = spec["Properties"]["FunctionName"], spec["Properties"]["EventSourceArn"]
        if isinstance(function, dict) and "Ref" in function and isinstance(source, dict) and "Fn::GetAtt" in source:
            queue = source["Fn::GetAtt"][0]
            used |= {
                (function["Ref"], queue, f"sqs:{a}") for a in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")
            }
    return used


@dataclass(frozen=True)
class Findings:
    ungranted: list[Grant]  # called, and the function's role does not grant it
    unused: list[Grant]  # granted, and nothing the suite ran used it

    def report(self) -> str:
        lines: list[str] = []
        if self.ungranted:
            lines.append("AWS calls a function made that its role does not grant (add the grant, or stop the call):")
            lines += [f"  {function}: {action} on {resource}" for function, resource, action in self.ungranted]
        if self.unused:
            lines.append("grants no test used (remove them from template.yaml and the access matrix, or add the test):")
            lines += [f"  {function}: {action} on {resource}" for function, resource, action in self.unused]
        return "\n".join(lines)


def compare(
    grants: set[Grant],
    observed: Iterable[Grant],
    *,
    lambda_uses: AbstractSet[Grant] = frozenset(),
    allowed_unused: Mapping[Grant, str] | None = None,
    whole_suite: bool,
) -> Findings:
    """Calls made without a grant (always), and grants never used (only when `whole_suite` ran: a subset
    of the tests cannot prove a grant unused); `allowed_unused` are grants kept without a test, each with
    its reason."""
    seen = set(observed)
    ungranted = sorted(seen - grants)
    unused = sorted(grants - seen - lambda_uses - set(allowed_unused or {})) if whole_suite else []
    return Findings(ungranted=ungranted, unused=unused)
