"""The expanded template as one stack in moto: its resources, physical ids, intrinsic functions, outputs
and the environment Lambda gives each function.

`Stack` is the first part of `LocalDeployment` (deployment.py), which sets the attributes declared here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bcsync.store.credentials import CredentialStore
from bcsync.store.settings import JobName

from . import iam, resources
from .template import REGION, REPO

if TYPE_CHECKING:
    import boto3

    from .gateway import LocalHttpApi
    from .xray import LocalXRayDaemon

MOTO_CREDENTIAL = "local"
# Each job's queue in template.yaml (its DLQ is the same name + "DLQ").
JOB_QUEUES: dict[JobName, str] = {
    "order_import": "OrderImportJobs",
    "product_sync": "ProductSyncJobs",
    "inventory_push": "InventoryPushJobs",
}  # the tracking writeback is no job: it reads the warehouse's ShipmentsInbound


class Stack:
    """Every resource of the template created in moto, or named as not emulated (`created`, `not_emulated`,
    `skipped_by_condition`), and what the template's intrinsic functions resolve to in it."""

    stack_name: str  # AWS::StackName: what names its resources, its metrics namespace and its secret prefix
    pseudo: dict[str, str | None]  # AWS's pseudo parameters for it
    template: dict[str, Any]  # the expanded template (a test may edit it; `redeploy` restores it)
    defaults: dict[str, str]  # each parameter's default
    parameters: dict[str, str]  # the values deployed
    endpoint: str  # the moto server's URL
    session: boto3.session.Session
    http_api: LocalHttpApi  # the template's HTTP APIs, served on 127.0.0.1
    xray: LocalXRayDaemon | None  # set: handlers run traced, sending to it
    physical: dict[str, resources.Physical]  # logical id → {"Ref": ..., attribute: ...}
    created: dict[str, str]  # logical id → type
    not_emulated: dict[str, str]  # logical id → reason
    skipped_by_condition: set[str]

    def client(self, service: str) -> Any:
        """One client per service for the deployment's life (a redeploy made a dozen, each loading its model)."""
        clients: dict[str, Any] = self.__dict__.setdefault("_boto3_clients", {})
        if service not in clients:
            clients[service] = self.session.client(service, endpoint_url=self.endpoint)  # type: ignore[call-overload]
        return clients[service]

    def resource(self, service: str) -> Any:
        return self.session.resource(service, endpoint_url=self.endpoint)  # type: ignore[call-overload]

    # --- creating the stack ----------------------------------------------------------------------

    def create_resources(self) -> None:
        pending = dict(self.template["Resources"])
        while pending:
            progressed = False
            for logical, spec in list(pending.items()):
                if "Condition" in spec and not self.condition(spec["Condition"]):
                    self.skipped_by_condition.add(logical)
                    del pending[logical]
                    progressed = True
                    continue
                try:
                    self._create(logical, spec)
                except KeyError:
                    continue  # refers to a resource not created yet: next pass
                del pending[logical]
                progressed = True
            if not progressed:
                raise RuntimeError(f"cannot create {sorted(pending)}: unresolvable references")

    def _create(self, logical: str, spec: dict[str, Any]) -> None:
        kind = spec["Type"]
        if kind in resources.NOT_EMULATED:
            self.resolve(spec.get("Properties", {}))  # still proves its references resolve
            self.not_emulated[logical] = resources.NOT_EMULATED[kind]
            self.physical[logical] = {"Ref": f"{logical}-not-emulated", "Arn": f"arn:aws:local:::{logical}"}
            return
        properties = self.resolve(spec.get("Properties", {}))
        self.physical[logical] = resources.create(
            kind, logical, properties, self.client, api_url=self.http_api.url, stack_name=self.stack_name
        )
        self.created[logical] = kind

    def inventory(self) -> dict[str, set[str]]:
        """What exists in moto now, by type: for comparing with the template."""
        return resources.inventory(self.client) | {
            # Served by the local HTTP API rather than moto: an API counts once it has a route there.
            resources.HTTP_API: {
                self.physical[route.api]["Ref"] for route in self.http_api.routes if route.api in self.physical
            },
        }

    # --- intrinsic functions ----------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()  # fmt: skip
            if key == "Ref":
                if argument in self.pseudo:
                    return self.pseudo[argument]
                if argument in self.parameters:
                    return self.parameters[argument]
                return self.physical[argument]["Ref"]
            if key == "Fn::GetAtt":
                logical, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.physical[logical][attribute]
            if key == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument

                def substitute(match: re.Match[str]) -> str:
                    name = match.group(1)
                    if name in variables:
                        return str(self.resolve(variables[name]))
                    if "." in name:
                        logical, attribute = name.split(".", 1)
                        return str(self.physical[logical][attribute])
                    return str(self.resolve({"Ref": name}))

                return re.sub(r"\$\{([^}!]+)\}", substitute, text)
            if key == "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items))
            if key == "Fn::If":
                condition, when_true, when_false = argument
                return self.resolve(when_true if self.condition(condition) else when_false)
            if key == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(index)]
        return {key: self.resolve(item) for key, item in value.items()}

    def condition(self, name_or_expression: Any) -> bool:
        expression = name_or_expression
        if isinstance(name_or_expression, str):
            expression = self.template.get("Conditions", {})[name_or_expression]
        (key, argument), = expression.items()  # fmt: skip
        if key == "Fn::Not":
            return not self.condition(argument[0])
        if key == "Fn::Equals":
            left, right = self.resolve(argument)
            return bool(left == right)
        if key == "Fn::And":
            return all(self.condition(item) for item in argument)
        if key == "Fn::Or":
            return any(self.condition(item) for item in argument)
        if key == "Condition":
            return self.condition(argument)
        raise ValueError(f"unsupported condition {key}")

    def outputs(self) -> dict[str, Any]:
        return {name: self.resolve(spec["Value"]) for name, spec in self.template.get("Outputs", {}).items()}

    def credentials(self) -> CredentialStore:
        """This stack's store secrets, under its own prefix (the `SecretPrefix` output), as an operator reads them."""
        return CredentialStore(client=self.client("secretsmanager"), prefix=str(self.outputs()["SecretPrefix"]))

    # --- the environment --------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        """What a handler or the CLI needs to find this stack (the Globals' variables, resolved)."""
        env = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": MOTO_CREDENTIAL,
            "AWS_SECRET_ACCESS_KEY": MOTO_CREDENTIAL,
            "AWS_DEFAULT_REGION": REGION,
            # Unless a test asks for traces (`trace_with`), no X-Ray daemon stand-in listens.
            "POWERTOOLS_TRACE_DISABLED": "true",
            # Which stack these variables describe: the CLI uses them only for this one (`--stack`).
            "BCSYNC_STACK_NAME": self.stack_name,
        }
        if self.xray is not None:
            env |= self.xray.environment(str(REPO))
        for output, variable in (
            ("StateTableName", "BCSYNC_STATE_TABLE"),
            ("IdempotencyTableName", "BCSYNC_IDEMPOTENCY_TABLE"),
            ("EventBusName", "BCSYNC_EVENT_BUS"),
            ("PayloadBucketName", "BCSYNC_PAYLOAD_BUCKET"),
            ("SecretPrefix", "BCSYNC_SECRET_PREFIX"),
        ):
            env[variable] = str(self.outputs()[output])
        # Where the local HTTP API takes webhook deliveries (WebhookBaseUrl in AWS), and the CA it uses.
        env["BCSYNC_WEBHOOK_URL"] = f"{self.http_api.url}/webhooks"
        env["BCSYNC_LOCAL_CA_BUNDLE"] = str(self.http_api.ca_path)
        env["BCSYNC_SHIPMENTS_DLQ_URL"] = self.physical["ShipmentsInboundDLQ"]["Ref"]
        env["BCSYNC_STOCK_DLQ_URL"] = self.physical["StockInboundDLQ"]["Ref"]
        # Every queue by its logical name, as the stack's `<Name>QueueUrl` outputs give them (`bcsync dlq`).
        env["BCSYNC_QUEUES"] = json.dumps(
            {logical: spec["QueueUrl"] for logical, spec in sorted(self.physical.items()) if "QueueUrl" in spec}
        )
        for job, logical in JOB_QUEUES.items():
            env[f"BCSYNC_{job.upper()}_QUEUE_URL"] = self.physical[logical]["Ref"]
            env[f"BCSYNC_{job.upper()}_DLQ_URL"] = self.physical[f"{logical}DLQ"]["Ref"]
        return env

    def function_environment(self, function: str) -> dict[str, str]:
        """What Lambda gives one function: the template's variables for it (Globals merged in by the
        translator, so `POWERTOOLS_SERVICE_NAME` is the function's own), resolved against this stack, with
        the stack's endpoint and credentials. A setting the caller's process already sets wins, as
        `sam local invoke --env-vars` would: that is how a test points handlers at its sandbox. A setting is
        a parameter's value or a literal; what names the stack's own resources, its metrics namespace or
        its secret prefix is never taken from the caller, whose environment may be another stack's.

        Each function signs its requests with an access key of its own (`iam.function_access_key`), as each
        has a role of its own in AWS: the local AWS tells which function made a request, and the suite holds
        what each called to what its role grants (tests/conftest.py)."""
        variables = self.template["Resources"][function]["Properties"].get("Environment", {}).get("Variables", {})
        resolved = {name: str(self.resolve(value)) for name, value in variables.items()}
        settings = {name for name, value in variables.items() if self._is_setting(value)}
        overrides = {name: os.environ[name] for name in settings if name in os.environ}
        own_key = {"AWS_ACCESS_KEY_ID": iam.function_access_key(self.stack_name, function)}
        return resolved | self.environment() | overrides | own_key

    def _is_setting(self, value: Any) -> bool:
        if isinstance(value, str | int | float):
            return True
        return isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in self.parameters

    @contextlib.contextmanager
    def environ(self, function: str | None = None) -> Iterator[dict[str, str]]:
        """The stack's environment - or one function's, as Lambda sets it - in os.environ for the duration
        (handlers read it at import)."""
        env = self.environment() if function is None else self.function_environment(function)
        saved = {key: os.environ.get(key) for key in env}
        os.environ.update(env)
        try:
            yield env
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
