"""The local stack: the expanded template's resources in moto, and AWS's delivery semantics.

- Resources: every resource of the expanded template is created in a moto server on
  127.0.0.1, or listed in `not_emulated` with the reason (`LocalDeployment.created`).
- SQS → Lambda: batches of up to BatchSize, the queue's visibility timeout, `batchItemFailures`
  (failed records stay; the rest are deleted), maxReceiveCount → DLQ (moto's redrive), and on
  demand duplicated or reordered deliveries.
- EventBridge rules route bus events (moto delivers to the SQS targets).
- Schedules fire from the injectable clock; each invocation gets a Lambda context whose
  deadline runs on that clock; `cut_at` ends an invocation at a named point of bcsync's code.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from bcsync.backbone import cutpoints
from bcsync.store.settings import JobName
from bigcommerce_client import PROCESS_CLOCK, SYSTEM_CLOCK, Clock

from .gateway import LocalHttpApi, routes_of

if TYPE_CHECKING:
    from .moto_server import AwsObserver, TappedMotoServer
    from .xray import LocalXRayDaemon

logger = logging.getLogger("local_runtime")
REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
EXPANDED = REPO / "build" / "expanded-template.json"
SAM_PYTHON = REPO / ".venv-sam" / "bin" / "python"
LOCAL_ARTIFACTS_BUCKET = "bcsync-local-artifacts"
# Each job's queue in template.yaml (its DLQ is the same name + "DLQ").
JOB_QUEUES: dict[JobName, str] = {
    "order_import": "OrderImportJobs",
    "product_sync": "ProductSyncJobs",
    "inventory_push": "InventoryPushJobs",
    "tracking_writeback": "TrackingWritebackJobs",
}  # expand_template.py points CodeUri here
REGION = "us-east-1"
DUPLICATE_ATTRIBUTE = "local-runtime-duplicate"
ACCOUNT = "123456789012"
STACK = "bcsync-local"
MOTO_CREDENTIAL = "local"
PSEUDO = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::StackName": STACK, "AWS::Partition": "aws",
          "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": None}  # fmt: skip

# Resource types with no behaviour to emulate here, and why.
NOT_EMULATED = {
    "AWS::Lambda::LayerVersion": "the layers' packages are imported from the repository",
    "AWS::S3::BucketPolicy": "moto does not enforce bucket policies",
    "AWS::SQS::QueuePolicy": "moto does not enforce queue policies",
    "AWS::IAM::Role": "moto does not enforce IAM; grants are checked against the expanded template instead",
    "AWS::Lambda::Function": "handlers run in-process, imported from their CodeUri",
    "AWS::Lambda::Permission": "in-process invocations need no permission",
    "AWS::Lambda::EventSourceMapping": "deliver_sqs plays the event source mapping",
    "AWS::ApiGatewayV2::Stage": "the local HTTP API serves every API's $default stage",
}


class InvocationCut(BaseException):
    """Raised inside an invocation at a named cut point: the process 'died' there.

    A BaseException, like SystemExit: no `except Exception` in the code under test (Powertools'
    BatchProcessor included) may catch a crash and carry on.
    """


def _forget_powertools_loggers() -> None:
    """Powertools configures a `logging` logger once per process (it marks it `init`) and writes to the
    stdout of that moment; each local import of a handler stands for a new process."""
    for logger_name in list(logging.root.manager.loggerDict):
        configured = logging.getLogger(logger_name)
        if getattr(configured, "init", False):
            for handler in list(configured.handlers):
                configured.removeHandler(handler)
            for mark in ("init", "powertools_handler"):
                if hasattr(configured, mark):
                    delattr(configured, mark)


def expanded_template(*, template: Path = TEMPLATE, target: Path = EXPANDED) -> dict[str, Any]:
    """template.yaml through the SAM translator (run by the aws-sam-cli venv), cached in build/."""
    if not target.exists() or target.stat().st_mtime < template.stat().st_mtime:
        if not SAM_PYTHON.exists():
            raise RuntimeError(
                "the SAM translator is not installed: run `make .venv-sam/.installed` (part of make test)"
            )
        subprocess.run(  # noqa: S603 - our own script, fixed arguments
            [str(SAM_PYTHON), str(Path(__file__).with_name("expand_template.py")), str(template), str(target)],
            check=True,
        )
    loaded = json.loads(target.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@dataclass
class LambdaContext:
    """What Powertools and our job framework read from a Lambda context; the deadline runs on the clock."""

    function_name: str
    timeout_seconds: float
    clock: Clock
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started_at: float = 0.0

    def __post_init__(self) -> None:
        self.started_at = self.clock.now()
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"
        self.function_version = "$LATEST"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = self.aws_request_id

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self.started_at + self.timeout_seconds - self.clock.now()) * 1000), 0)


@dataclass
class DeliveryReport:
    invocations: int = 0
    delivered: int = 0
    failed: int = 0
    cut: int = 0
    errors: int = 0
    duplicates_sent: int = 0


@dataclass(frozen=True)
class Invocation:
    """One handler invocation, as Lambda would bill it: the function's memory and how long it ran.

    `clock_seconds` is the time that passed on the runtime's clock; on a compressed clock that is the
    time the handler spent waiting (BigCommerce's latency, a rate-limit wait) without the wall clock
    moving, so what AWS would bill is the wall time plus that."""

    function: str
    memory_mb: int
    wall_seconds: float
    clock_seconds: float


SqsHandler = Callable[[dict[str, Any], LambdaContext], Any]


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalDeployment:
    """One moto server on 127.0.0.1 holding the stack; `reset()` gives a test a fresh one."""

    def __init__(
        self,
        *,
        clock: Clock = SYSTEM_CLOCK,
        parameters: dict[str, str] | None = None,
        moto_endpoint: str | None = None,
    ) -> None:
        """`moto_endpoint`: a moto server already running (in another process, e.g. for benchmarks that
        measure the handlers' memory alone); by default one is started in this process."""
        self.clock = clock
        self.template = expanded_template()
        self._deployed_template = self.template
        self.defaults = {
            name: str(spec.get("Default", "")) for name, spec in self.template.get("Parameters", {}).items()
        }
        self.parameters = self.defaults | (parameters or {})
        self.port = _free_port()
        self.endpoint = moto_endpoint or f"http://127.0.0.1:{self.port}"
        self._server: TappedMotoServer | None = None
        if moto_endpoint is None:
            from .moto_server import TappedMotoServer  # moto is heavy: only a process that serves it imports it

            self._server = TappedMotoServer(port=self.port, now=lambda: self.clock.now())

        self.session = boto3.session.Session(
            aws_access_key_id=MOTO_CREDENTIAL,
            aws_secret_access_key=MOTO_CREDENTIAL,
            region_name=REGION,
        )
        self.physical: dict[str, dict[str, str]] = {}  # logical id → {"Ref": ..., attribute: ...}
        self.created: dict[str, str] = {}  # logical id → type
        self.not_emulated: dict[str, str] = {}  # logical id → reason
        self.skipped_by_condition: set[str] = set()
        self._handlers: dict[str, Callable[[dict[str, Any], Any], Any]] = {}
        self.invocations: list[Invocation] = []  # every handler invocation, in order (see Invocation)
        self.xray: LocalXRayDaemon | None = None  # set: handlers loaded from then on run traced
        self._modules: dict[str, Any] = {}
        self._tls_dir = Path(tempfile.mkdtemp(prefix="bcsync-local-tls-"))
        self.http_api = LocalHttpApi(routes_of(self.template), self._invoke_for_api, tls_dir=self._tls_dir)

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> LocalDeployment:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per AWS call drowns everything
        if self._server is not None:
            self._server.start()
        self.create_resources()
        self.http_api.start()
        return self

    def stop(self) -> None:
        self.http_api.stop()
        if self._server is not None:
            self._server.stop()
        shutil.rmtree(self._tls_dir, ignore_errors=True)

    def __enter__(self) -> LocalDeployment:
        return self.start()

    def observe_aws(self, observer: AwsObserver) -> None:
        """Show `observer` every request sent to this process's moto server (none when moto runs elsewhere)."""
        if self._server is not None:
            self._server.observers.append(observer)

    def unobserve_aws(self, observer: AwsObserver) -> None:
        if self._server is not None and observer in self._server.observers:
            self._server.observers.remove(observer)

    def __exit__(self, *_: object) -> None:
        self.stop()

    def trace_with(self, daemon: LocalXRayDaemon | None) -> None:
        """Handlers loaded from now on run with active tracing, sending to `daemon`; None ends it."""
        if daemon is None and self.xray is not None:
            self.xray.untraced()
        self.xray = daemon
        self._handlers.clear()  # loaded again, traced or not

    def redeploy(self, parameters: dict[str, str]) -> None:
        """A fresh deployment with these parameter values (moto's state is per process: one stack at a time)."""
        self.parameters = self.defaults | parameters
        self.template = self._deployed_template  # undo any test's edits
        self._handlers.clear()
        self.reset()

    def reset(self) -> None:
        """Empty moto and create the stack again: each test starts from a fresh deployment."""
        import requests

        requests.post(f"{self.endpoint}/moto-api/reset", timeout=10)
        self.physical.clear()
        self.created.clear()
        self.not_emulated.clear()
        self.skipped_by_condition.clear()
        self.invocations.clear()
        self.create_resources()

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint)  # type: ignore[call-overload]

    def resource(self, service: str) -> Any:
        return self.session.resource(service, endpoint_url=self.endpoint)  # type: ignore[call-overload]

    def environment(self) -> dict[str, str]:
        """What a handler or the CLI needs to find this stack (the Globals' variables, resolved)."""
        env = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": MOTO_CREDENTIAL,
            "AWS_SECRET_ACCESS_KEY": MOTO_CREDENTIAL,
            "AWS_DEFAULT_REGION": REGION,
            # Unless a test asks for traces (`trace_with`), no X-Ray daemon stand-in listens.
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
        if self.xray is not None:
            env |= self.xray.environment(str(REPO))
        for output, variable in (
            ("StateTableName", "BCSYNC_STATE_TABLE"),
            ("IdempotencyTableName", "BCSYNC_IDEMPOTENCY_TABLE"),
            ("EventBusName", "BCSYNC_EVENT_BUS"),
            ("PayloadBucketName", "BCSYNC_PAYLOAD_BUCKET"),
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
        the stack's endpoint and credentials. A variable the caller's process already sets wins, as
        `sam local invoke --env-vars` would: that is how a test points handlers at its sandbox."""
        variables = self.template["Resources"][function]["Properties"].get("Environment", {}).get("Variables", {})
        resolved = {name: str(self.resolve(value)) for name, value in variables.items()}
        overrides = {name: os.environ[name] for name in resolved if name in os.environ}
        return resolved | self.environment() | overrides

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

    def outputs(self) -> dict[str, Any]:
        return {name: self.resolve(spec["Value"]) for name, spec in self.template.get("Outputs", {}).items()}

    # --- intrinsic functions ----------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()  # fmt: skip
            if key == "Ref":
                if argument in PSEUDO:
                    return PSEUDO[argument]
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
        if kind in NOT_EMULATED:
            self.resolve(spec.get("Properties", {}))  # still proves its references resolve
            self.not_emulated[logical] = NOT_EMULATED[kind]
            self.physical[logical] = {"Ref": f"{logical}-not-emulated", "Arn": f"arn:aws:local:::{logical}"}
            return
        properties = self.resolve(spec.get("Properties", {}))
        creator = getattr(self, "_create_" + kind.replace("AWS::", "").replace("::", "_").lower(), None)
        if creator is None:
            raise RuntimeError(f"{logical}: the local runtime cannot create {kind}; add it or list it in NOT_EMULATED")
        self.physical[logical] = creator(logical, properties)
        self.created[logical] = kind

    def _create_dynamodb_table(self, logical: str, p: dict[str, Any]) -> dict[str, str]:
        name = p.get("TableName", f"{STACK}-{logical}")
        client = self.client("dynamodb")
        client.create_table(
            TableName=name,
            AttributeDefinitions=p["AttributeDefinitions"],
            KeySchema=p["KeySchema"],
            BillingMode=p.get("BillingMode", "PAY_PER_REQUEST"),
        )
        ttl = p.get("TimeToLiveSpecification")
        if ttl:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        arn = client.describe_table(TableName=name)["Table"]["TableArn"]
        return {"Ref": name, "Arn": arn}

    def _create_sqs_queue(self, logical: str, p: dict[str, Any]) -> dict[str, str]:
        name = p.get("QueueName", f"{STACK}-{logical}")
        attributes = {
            key: (json.dumps(value) if isinstance(value, dict) else str(value))
            for key, value in p.items()
            if key in {"VisibilityTimeout", "MessageRetentionPeriod", "RedrivePolicy", "DelaySeconds"}
        }
        client = self.client("sqs")
        url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return {"Ref": url, "Arn": arn, "QueueName": name, "QueueUrl": url}

    def _create_s3_bucket(self, logical: str, p: dict[str, Any]) -> dict[str, str]:
        name = p.get("BucketName", f"{STACK}-{logical}".lower())
        self.client("s3").create_bucket(Bucket=name)
        return {"Ref": name, "Arn": f"arn:aws:s3:::{name}"}

    def _create_events_eventbus(self, logical: str, p: dict[str, Any]) -> dict[str, str]:
        arn = self.client("events").create_event_bus(Name=p["Name"])["EventBusArn"]
        return {"Ref": p["Name"], "Arn": arn, "Name": p["Name"]}

    def _create_events_rule(self, logical: str, p: dict[str, Any]) -> dict[str, str]:
        name = p.get("Name", f"{STACK}-{logical}")
        events = self.client("events")
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

    def _create_apigatewayv2_api(self, logical: str, p: dict[str, Any]) -> dict[str, str]:
        return {"Ref": f"local{logical.lower()}", "ApiEndpoint": self.http_api.url}

    def _create_sns_topic(self, logical: str, p: dict[str, Any]) -> dict[str, str]:
        arn = self.client("sns").create_topic(Name=p.get("TopicName", f"{STACK}-{logical}"))["TopicArn"]
        return {"Ref": arn, "TopicName": arn.rsplit(":", 1)[-1]}

    def _create_sns_subscription(self, logical: str, p: dict[str, Any]) -> dict[str, str]:
        arn = self.client("sns").subscribe(TopicArn=p["TopicArn"], Protocol=p["Protocol"], Endpoint=p["Endpoint"])
        return {"Ref": arn["SubscriptionArn"]}

    def _create_logs_loggroup(self, logical: str, p: dict[str, Any]) -> dict[str, str]:
        name = p.get("LogGroupName", f"/aws/local/{logical}")
        self.client("logs").create_log_group(logGroupName=name)
        return {"Ref": name, "Arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"}

    def _create_cloudwatch_alarm(self, logical: str, p: dict[str, Any]) -> dict[str, str]:
        name = p.get("AlarmName", f"{STACK}-{logical}")
        alarm = {key: value for key, value in p.items() if key != "AlarmName"}
        if isinstance(alarm.get("Threshold"), str):  # a parameter's value: CloudFormation makes it a number
            alarm["Threshold"] = float(alarm["Threshold"])
        self.client("cloudwatch").put_metric_alarm(AlarmName=name, **alarm)
        return {"Ref": name, "Arn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"}

    def _create_cloudwatch_dashboard(self, logical: str, p: dict[str, Any]) -> dict[str, str]:
        name = p.get("DashboardName", f"{STACK}-{logical}")
        json.loads(p["DashboardBody"])  # what CloudFormation would refuse: a body that is not JSON once substituted
        self.client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=p["DashboardBody"])
        return {"Ref": name}

    def inventory(self) -> dict[str, set[str]]:
        """What exists in moto now, by type: for comparing with the template."""
        sqs, events = self.client("sqs"), self.client("events")
        buses = {bus["Name"] for bus in events.list_event_buses()["EventBuses"]} - {"default"}
        rules = {rule["Name"] for bus in {*buses, "default"} for rule in events.list_rules(EventBusName=bus)["Rules"]}
        return {
            "AWS::DynamoDB::Table": set(self.client("dynamodb").list_tables()["TableNames"]),
            "AWS::SQS::Queue": set(sqs.list_queues().get("QueueUrls", [])),
            "AWS::Events::EventBus": buses,
            "AWS::Events::Rule": rules,
            "AWS::S3::Bucket": {bucket["Name"] for bucket in self.client("s3").list_buckets()["Buckets"]},
            "AWS::SNS::Topic": {topic["TopicArn"] for topic in self.client("sns").list_topics()["Topics"]},
            "AWS::SNS::Subscription": {
                sub["SubscriptionArn"] for sub in self.client("sns").list_subscriptions()["Subscriptions"]
            },
            "AWS::Logs::LogGroup": {
                group["logGroupName"] for group in self.client("logs").describe_log_groups()["logGroups"]
            },
            # Served by the local HTTP API rather than moto: an API counts once it has a route there.
            "AWS::ApiGatewayV2::Api": {
                self.physical[route.api]["Ref"] for route in self.http_api.routes if route.api in self.physical
            },
            "AWS::CloudWatch::Alarm": {
                alarm["AlarmName"]
                for page in ("MetricAlarms",)
                for alarm in self.client("cloudwatch").describe_alarms()[page]
            },
            "AWS::CloudWatch::Dashboard": {
                entry["DashboardName"] for entry in self.client("cloudwatch").list_dashboards()["DashboardEntries"]
            },
        }

    # --- invocations ------------------------------------------------------------------------------

    def load_handler(self, function: str, *, container: int = 0) -> Callable[[dict[str, Any], Any], Any]:
        """The real handler of a function of the template, imported from its CodeUri and Handler.

        Each function's module is imported once per stack under its own name, as each Lambda
        function has its own process: module-level clients and configuration (cold start) are
        built then, inside `environ()`.
        """
        # `container`: another warm Lambda container of the same function (its own module-level clients
        # and state), for invocations that really run at the same time.
        loaded = function if container == 0 else f"{function}#{container}"
        if loaded in self._handlers:
            return self._handlers[loaded]
        properties = self.template["Resources"][function]["Properties"]
        key = properties["Code"]["S3Key"] if "S3Key" in properties.get("Code", {}) else None
        bucket = properties.get("Code", {}).get("S3Bucket")
        if bucket != LOCAL_ARTIFACTS_BUCKET or key is None:
            raise RuntimeError(f"{function}: its code is not a local path of this repository")
        module_name, _, attribute = properties["Handler"].rpartition(".")
        source = REPO / key / (module_name.replace(".", "/") + ".py")
        spec = importlib.util.spec_from_file_location(f"bcsync_local_{function}_{container}", source)
        if spec is None or spec.loader is None:
            raise RuntimeError(f"{function}: cannot import {source}")
        module = importlib.util.module_from_spec(spec)
        PROCESS_CLOCK.use(self.clock)  # the handlers' time is the runtime's
        _forget_powertools_loggers()  # a new process: Logger binds to today's stdout, not a past import's
        with self.environ(function):
            if self.xray is not None:
                self.xray.prepare_process()
            spec.loader.exec_module(module)
        handler = getattr(module, attribute)
        if self.xray is not None:
            handler = self.xray.traced(handler)
        handler = self._recorded(function, int(properties.get("MemorySize", 128)), handler)
        self._handlers[loaded] = handler
        self._modules[loaded] = module
        return handler

    def _recorded(
        self, function: str, memory_mb: int, handler: Callable[[dict[str, Any], Any], Any]
    ) -> Callable[[dict[str, Any], Any], Any]:
        def invoke(event: dict[str, Any], context: Any) -> Any:
            wall, clock = time.perf_counter(), self.clock.now()
            try:
                return handler(event, context)
            finally:
                self.invocations.append(
                    Invocation(function, memory_mb, time.perf_counter() - wall, self.clock.now() - clock)
                )

        return invoke

    def function_module(self, function: str) -> Any:
        """The module of a function's loaded handler (its module-level objects: clients, counters)."""
        self.load_handler(function)
        return self._modules[function]

    def function_timeout(self, function: str) -> float:
        properties = self.template["Resources"][function]["Properties"]
        return float(properties.get("Timeout", 3))

    def _invoke_for_api(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        result = self.load_handler(function)(event, self.context(function, self.function_timeout(function)))
        assert isinstance(result, dict)
        return result

    def context(self, function_name: str, timeout_seconds: float = 120.0) -> LambdaContext:
        return LambdaContext(function_name=function_name, timeout_seconds=timeout_seconds, clock=self.clock)

    @contextlib.contextmanager
    def cut_at(self, point: str, *, times: int = 1) -> Iterator[list[str]]:
        """Invocations die at `point` (bcsync.cutpoints) the next `times` times it is reached."""
        hits: list[str] = []

        def hook(name: str) -> None:
            if name == point and len(hits) < times:
                hits.append(name)
                raise InvocationCut(name)

        cutpoints.install(hook)
        try:
            yield hits
        finally:
            cutpoints.install(None)

    def take_messages(self, queue: str) -> list[dict[str, Any]]:
        """Every message waiting on `queue` (a logical id), attributes included, deleted as it is read:
        what a consumer outside the stack (the warehouse, an operator) takes."""
        sqs, url = self.client("sqs"), self.physical[queue]["Ref"]
        taken: list[dict[str, Any]] = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
            "Messages", []
        ):
            taken += batch
            sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)]
            )
        return taken

    def deliver_sqs(
        self,
        queue: str,
        handler: SqsHandler,
        *,
        batch_size: int = 10,
        timeout_seconds: float = 120.0,
        duplicate_rate: float = 0.0,  # the share of messages delivered a second time (a copy is not copied)
        reorder: bool = False,
        seed: int = 0,
        max_invocations: int = 1000,
    ) -> DeliveryReport:
        """Poll `queue` (a logical id) like Lambda's event source mapping until it is empty.

        Failed records (in `batchItemFailures`, or the whole batch when the handler raises or is
        cut) are left to SQS: they come back after their visibility timeout - made to elapse at
        once here - and SQS dead-letters them after maxReceiveCount.
        """
        sqs = self.client("sqs")
        url, arn = self.physical[queue]["Ref"], self.physical[queue]["Arn"]
        rng = random.Random(seed)
        report = DeliveryReport()
        while report.invocations < max_invocations:
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=batch_size, AttributeNames=["All"], MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                return report
            records = [self._sqs_record(message, arn) for message in messages]
            if reorder:
                rng.shuffle(records)
            for record in list(records):
                if record["messageAttributes"].get(DUPLICATE_ATTRIBUTE):
                    continue  # a copy is not copied again: each message is delivered at most twice
                if duplicate_rate and rng.random() < duplicate_rate:
                    sqs.send_message(  # delivered again, later
                        QueueUrl=url,
                        MessageBody=record["body"],
                        MessageAttributes={DUPLICATE_ATTRIBUTE: {"DataType": "String", "StringValue": "1"}},
                    )
                    report.duplicates_sent += 1
            report.invocations += 1
            failed_ids: set[str]
            try:
                response = handler({"Records": records}, self.context(queue, timeout_seconds))
                failed_ids = {item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])}
            except InvocationCut:
                report.cut += 1
                failed_ids = {record["messageId"] for record in records}
                self.expire_in_progress_leases()
            except Exception:  # Lambda's answer to a handler that raises: the whole batch comes back
                logger.warning("handler raised; the batch returns to the queue", exc_info=True)
                report.errors += 1
                failed_ids = {record["messageId"] for record in records}
            for record in records:
                if record["messageId"] in failed_ids:
                    report.failed += 1
                    sqs.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
                    )
                else:
                    report.delivered += 1
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])
        return report

    def expire_in_progress_leases(self) -> None:
        """A cut invocation's deadline passes before its batch comes back, as it does in AWS (the
        visibility timeout is 6 x the function's): Powertools idempotency's in-progress records,
        whose lease is that deadline on the wall clock, expire with it."""
        table = self.resource("dynamodb").Table(str(self.outputs()["IdempotencyTableName"]))
        scan: dict[str, Any] = {"FilterExpression": "#status = :in_progress",
                                "ExpressionAttributeNames": {"#status": "status"},
                                "ExpressionAttributeValues": {":in_progress": "INPROGRESS"}}  # fmt: skip
        for item in table.scan(**scan).get("Items", []):
            table.update_item(
                Key={"id": item["id"]},
                UpdateExpression="SET in_progress_expiration = :past",
                ExpressionAttributeValues={":past": 0},
            )

    @staticmethod
    def _sqs_record(message: dict[str, Any], arn: str) -> dict[str, Any]:
        attributes = message.get("MessageAttributes", {})
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: {"stringValue": value.get("StringValue"), "dataType": value["DataType"]}
                for name, value in attributes.items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": arn,
            "awsRegion": REGION,
        }

    # --- schedules ---------------------------------------------------------------------------------

    def schedules(self) -> dict[str, float]:
        """Every schedule rule of the template and its period in seconds (rate expressions)."""
        periods: dict[str, float] = {}
        for logical, spec in self.template["Resources"].items():
            expression = (
                spec.get("Properties", {}).get("ScheduleExpression") if spec["Type"] == "AWS::Events::Rule" else None
            )
            if expression:
                periods[logical] = rate_seconds(expression)
        return periods

    def due_schedules(self, since: float, until: float) -> list[tuple[str, float]]:
        """(rule, fire time) for every schedule tick in (since, until], in time order."""
        due = []
        for logical, period in self.schedules().items():
            tick = (since // period + 1) * period
            while tick <= until:
                due.append((logical, tick))
                tick += period
        return sorted(due, key=lambda item: item[1])


ScheduleHandler = Callable[[str, dict[str, Any], LambdaContext], Any]


def _scheduled_event(stack: LocalDeployment, rule: str, fired_at: float) -> dict[str, Any]:
    from datetime import UTC, datetime

    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": datetime.fromtimestamp(fired_at, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "region": REGION,
        "resources": [stack.physical.get(rule, {}).get("Arn", f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}")],
        "detail": {},
    }


def fire_schedules(
    stack: LocalDeployment, since: float, until: float, invoke: ScheduleHandler
) -> list[tuple[str, float]]:
    """Invoke each schedule target due in (since, until] with what EventBridge would send it:
    the target's `Input` when it has one, else the scheduled event. Returns what fired."""
    fired = stack.due_schedules(since, until)
    for rule, at in fired:
        targets = stack.template["Resources"][rule].get("Properties", {}).get("Targets", [{"Id": rule}])
        for target in targets:
            event = json.loads(target["Input"]) if "Input" in target else _scheduled_event(stack, rule, at)
            arn = target.get("Arn")
            # A function target is `!GetAtt <Function>.Arn`: invoke that function by its logical id.
            function = arn["Fn::GetAtt"][0] if isinstance(arn, dict) and "Fn::GetAtt" in arn else target.get("Id", rule)
            invoke(function, event, stack.context(function))
    return fired


_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_DAILY_CRON = re.compile(r"^cron\(\d{1,2} \d{1,2} \* \* \? \*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> float:
    if _DAILY_CRON.match(expression.strip()):
        return 86_400  # a daily cron fires once per simulated day (its hour is not kept)
    match = _RATE.match(expression.strip())
    if match is None:
        raise ValueError(f"only rate(...) and daily cron(...) schedules run locally, not {expression!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def main() -> int:
    """`python -m local_runtime`: start the stack, print its environment, serve until stdin closes."""
    with LocalDeployment() as stack:
        print(json.dumps(stack.environment()), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            sys.stdin.read()
    return 0
