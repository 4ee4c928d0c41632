"""Two stacks in one account (a production and a staging stack of the same template, one moto account): the
same store connected to both with different tokens, and neither reads, writes nor alarms on the other's data."""

from __future__ import annotations

import fnmatch
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from bcsync.cli import main as bcsync_cli
from bcsync.cli.failures import STACK_NOT_FOUND
from bcsync.store.registry import StoreRegistry
from bigcommerce_client import VirtualClock
from bigcommerce_sandbox import Sandbox, SandboxStore, add_order, seed_catalog
from local_runtime import LocalDeployment
from tests.aws import drain
from tests.conftest import KNOWN_TOKENS
from tests.stores import mark

STORE = "twin11"
TOKENS = {"bcsync-local": "tok-twin11-production", "bcsync-staging": "tok-twin11-staging"}
ORDER_IMPORT_ALARMS = ("UnmappedShipOptionAlarm", "ImportLagAlarm", "RateLimitedAlarm")

Stacks = tuple[LocalDeployment, LocalDeployment, Sandbox]


@pytest.fixture
def two_stacks(local_world: tuple[LocalDeployment, Sandbox], clock: VirtualClock) -> Iterator[Stacks]:
    """The test's stack (`bcsync-local`, production here) and a staging stack beside it in the same moto
    server: one account, each stack's resources named for it, as CloudFormation names them."""
    production, sandbox = local_world
    staging = LocalDeployment(clock=clock, moto_endpoint=production.endpoint, stack_name="bcsync-staging")
    staging.start()
    try:
        yield production, staging, sandbox
    finally:
        staging.stop()  # its resources go with the next test's fresh deployment (moto is reset)


def _connect(stack: LocalDeployment, store: SandboxStore) -> None:
    """`bcsync --stack NAME stores connect` in a shell set up for that stack (its BCSYNC_* variables)."""
    token = TOKENS[stack.stack_name]
    KNOWN_TOKENS.add(token)
    store.add_token(token)
    with stack.environ():
        argv = ["--stack", stack.stack_name, "stores", "connect", STORE, "--no-webhooks"]
        assert bcsync_cli(argv, stdin=io.StringIO(token), out=io.StringIO()) == 0


def _import_orders(stack: LocalDeployment, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """One order import tick and its jobs, as that stack's Lambda runs them; what its functions wrote to
    stdout (log lines, EMF metrics) as JSON documents."""
    capsys.readouterr()
    handler = stack.load_handler("OrderImportFunction")
    handler({"action": "tick"}, stack.context("OrderImportFunction"))
    report = stack.deliver_sqs("OrderImportJobs", handler)
    assert report.delivered == 1 and report.failed == 0 and report.errors == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def _emf_namespaces(documents: list[dict[str, Any]]) -> set[str]:
    return {
        directive["Namespace"]
        for document in documents
        for directive in document.get("_aws", {}).get("CloudWatchMetrics", [])
    }


def _alarm_namespaces(stack: LocalDeployment, logical: str) -> set[str]:
    """The namespaces a stack's alarm reads, as CloudWatch holds it (our metrics only, not AWS/...)."""
    [alarm] = stack.client("cloudwatch").describe_alarms(AlarmNames=[stack.physical[logical]["Ref"]])["MetricAlarms"]
    metrics = [alarm] + [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m]
    return {m["Namespace"] for m in metrics if "Namespace" in m and not m["Namespace"].startswith("AWS/")}


def _secret_grant(stack: LocalDeployment, role: str) -> str:
    [policy] = stack.resolve(stack.template["Resources"][role]["Properties"]["Policies"])
    [grant] = [  # the store secrets' grant (the webhook receiver reads the app's secret by another)
        s["Resource"]
        for s in policy["PolicyDocument"]["Statement"]
        if s["Action"] == "secretsmanager:GetSecretValue" and "/stores/" in s["Resource"]
    ]
    return str(grant)


def test_one_store_in_two_stacks_runs_with_each_stacks_own_token_metrics_and_secret(
    two_stacks: Stacks, capsys: pytest.CaptureFixture[str]
) -> None:
    production, staging, sandbox = two_stacks
    store = sandbox.add_store(STORE, token="tok-twin11-unused")
    seed_catalog(store, products=2, variants_per_product=1)
    _connect(production, store)
    _connect(staging, store)  # the same store hash, another token: production's secret stays as it was
    product = next(p for p in store.products.values() if p["is_visible"])
    order_id = add_order(store, lines=[(product, product["variants"][0], 1)])

    runs: dict[str, tuple[list[dict[str, Any]], set[str | None]]] = {}
    for stack in (production, staging):
        since = mark(sandbox)
        documents = _import_orders(stack, capsys)
        exchanges = sandbox.recorder.exchanges[since:]  # type: ignore[attr-defined]
        runs[stack.stack_name] = documents, {e.request_headers.get("X-Auth-Token") for e in exchanges}

    # Each stack's order import called BigCommerce with its own stack's token, never the other's.
    assert runs["bcsync-local"][1] == {TOKENS["bcsync-local"]}
    assert runs["bcsync-staging"][1] == {TOKENS["bcsync-staging"]}
    # Each stack's secret holds its own token, under its own name.
    assert production.credentials().get(STORE).access_token.get_secret_value() == TOKENS["bcsync-local"]
    assert staging.credentials().get(STORE).access_token.get_secret_value() == TOKENS["bcsync-staging"]
    # Each stack wrote its own state and sent the order to its own warehouse queue, once.
    for stack in (production, staging):
        assert [s.store_hash for s in StoreRegistry(stack.resource("dynamodb").Table(
            stack.outputs()["StateTableName"])).list()] == [STORE]  # fmt: skip
        published = [
            (e["detail"]["store_hash"], e["detail"]["data"]["order_id"]) for e in drain(stack, "WarehouseOutbound")
        ]
        assert published == [(STORE, order_id)], stack.stack_name
    # Metrics land in each stack's namespace only, and each stack's alarms read its own namespace alone.
    for stack, other in ((production, staging), (staging, production)):
        emitted, others = _emf_namespaces(runs[stack.stack_name][0]), _emf_namespaces(runs[other.stack_name][0])
        assert emitted == {f"bcsync/{stack.stack_name}"}
        for alarm in ORDER_IMPORT_ALARMS:
            assert _alarm_namespaces(stack, alarm) == emitted, f"{stack.stack_name} {alarm}"
            assert not _alarm_namespaces(stack, alarm) & others
    # Each stack's roles' secret grant covers its own secret and not the other stack's.
    secrets = production.client("secretsmanager")
    arns = {stack.stack_name: secrets.describe_secret(SecretId=stack.credentials().name(STORE))["ARN"]
            for stack in (production, staging)}  # fmt: skip
    assert arns["bcsync-local"] != arns["bcsync-staging"]
    for stack, other in ((production, staging), (staging, production)):
        for role in ("OrderImportRole", "ProductSyncRole", "InventoryPushRole", "TrackingWritebackRole",
                     "WebhookReceiverRole"):  # fmt: skip
            grant = _secret_grant(stack, role)
            assert fnmatch.fnmatchcase(arns[stack.stack_name], grant), f"{stack.stack_name} {role}: {grant}"
            assert not fnmatch.fnmatchcase(arns[other.stack_name], grant), f"{stack.stack_name} {role}: {grant}"


def _record_in_cloudformation(stack: LocalDeployment) -> None:
    """CloudFormation's record of a deployed stack - its outputs, which `--stack` reads - made for a local
    one (the local runtime creates resources in moto directly, with no CloudFormation stack)."""
    template = {
        "Resources": {"Nothing": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {name: {"Value": str(value)} for name, value in stack.outputs().items()},
    }
    with pytest.warns(UserWarning, match="WaitConditionHandle"):  # moto creates nothing for it: nothing is needed
        stack.client("cloudformation").create_stack(StackName=stack.stack_name, TemplateBody=json.dumps(template))


def test_a_shell_set_up_for_one_stack_acts_on_the_stack_named_with_stack_alone(two_stacks: Stacks) -> None:
    production, staging, sandbox = two_stacks
    store = sandbox.add_store(STORE, token="tok-twin11-unused")
    _connect(production, store)
    KNOWN_TOKENS.add(TOKENS["bcsync-staging"])
    store.add_token(TOKENS["bcsync-staging"])
    argv = ["--stack", "bcsync-staging", "stores", "connect", STORE, "--no-webhooks"]

    # Production's variables in the environment, staging named: only staging's outputs are used, and until
    # CloudFormation has them the command stops (stack not found) - never falling back on production's table
    # or secrets.
    with production.environ():
        assert bcsync_cli(argv, stdin=io.StringIO(TOKENS["bcsync-staging"]), out=io.StringIO()) == STACK_NOT_FOUND
    secrets = production.client("secretsmanager")
    assert {s["Name"] for s in secrets.list_secrets()["SecretList"]} == {production.credentials().name(STORE)}

    _record_in_cloudformation(staging)
    with production.environ():
        assert bcsync_cli(argv, stdin=io.StringIO(TOKENS["bcsync-staging"]), out=io.StringIO()) == 0

    assert staging.credentials().get(STORE).access_token.get_secret_value() == TOKENS["bcsync-staging"]
    assert production.credentials().get(STORE).access_token.get_secret_value() == TOKENS["bcsync-local"]
    for stack in (production, staging):
        table = stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])
        assert [s.store_hash for s in StoreRegistry(table).list()] == [STORE], stack.stack_name


def test_a_secret_left_under_the_old_shared_prefix_is_named_and_left_alone(two_stacks: Stacks) -> None:
    production, _, sandbox = two_stacks
    secrets = production.client("secretsmanager")
    old = f"bcsync/stores/{STORE}"  # where every stack of the account kept the store's secret before
    secrets.create_secret(Name=old, SecretString=json.dumps({"store_hash": STORE, "note": "from before"}))
    store = sandbox.add_store(STORE, token="tok-twin11-unused")
    KNOWN_TOKENS.add(TOKENS["bcsync-local"])
    store.add_token(TOKENS["bcsync-local"])

    out = io.StringIO()
    argv = ["stores", "connect", STORE, "--no-webhooks"]
    assert bcsync_cli(argv, stdin=io.StringIO(TOKENS["bcsync-local"]), out=out) == 0

    assert f"secret {old} from before each stack had its own secrets is still there" in out.getvalue()
    assert f"aws secretsmanager delete-secret --secret-id {old}" in out.getvalue()
    assert json.loads(secrets.get_secret_value(SecretId=old)["SecretString"])["note"] == "from before"  # untouched
    assert production.credentials().get(STORE).access_token.get_secret_value() == TOKENS["bcsync-local"]
