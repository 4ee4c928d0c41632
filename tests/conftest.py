"""Test tiers, network rules, and the sandbox fixture that holds every kind of exchange to the specs."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
from pytest_socket import disable_socket, enable_socket, socket_allow_hosts

from bigcommerce_client import BigCommerceClient, VirtualClock
from bigcommerce_sandbox import Exchange, Fault, Sandbox, SandboxStore
from bigcommerce_sandbox.contract import ContractValidator
from local_runtime import LocalDeployment, expanded_template, iam
from local_runtime.moto_server import AwsRequest
from local_runtime.template import REPO

TIERS = ("unit", "integration", "contract", "e2e", "fault")
# Tokens the suite uses; none may ever appear in a log line (checked after every test).
KNOWN_TOKENS: set[str] = set()
# A fault's own response is wrong on purpose; its request still has to be right.
_FAULTS_WITH_BROKEN_RESPONSES = {Fault.NOT_JSON, Fault.TRUNCATED, Fault.DROP_AFTER, Fault.DROP_BEFORE}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = Path(str(item.path)).parent.name
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))


# The longest tests, longest first (node id prefixes; a test renamed away from its entry just runs in its
# place). `make test` runs `pytest -n 2 --dist worksteal`: each worker starts on one contiguous share of the
# collection and an idle one steals from the end of the other's, so a long test that starts late sets when the
# run ends. These are dealt out to the front of the shares in turn, and the short ones fill in behind them.
LONGEST_FIRST = (
    "tests/e2e/test_demo.py::",
    "tests/fault/test_chaos.py::test_under_faults_and_duplicates_every_order_and_shipment_arrives_exactly_once",
    "tests/e2e/test_order_import.py::test_orders_edited_during_a_scan_are_neither_skipped_nor_duplicated",
    "tests/e2e/test_order_import.py::test_the_open_backlog_imports_at_the_call_floor_and_a_rerun_publishes_nothing",
    "tests/fault/test_paging_under_faults.py::",
    "tests/e2e/test_product_sync.py::test_a_full_sync_sends_every_visible_variant_once_in_the_fewest_calls",
    "tests/fault/test_fuzz_responses.py::",
    "tests/fault/test_lifecycle.py::",
    "tests/e2e/test_readback.py::test_a_source_stores_stock_is_published_on_change_only",
    "tests/e2e/test_webhooks.py::test_two_hundred_and_fifty_order_events_twice_and_shuffled",
    "tests/e2e/test_product_sync.py::test_one_changed_price_is_exactly_one_upsert",
    "tests/e2e/test_product_sync.py::test_a_sync_continued_over_many_invocations",
    "tests/e2e/test_product_sync.py::test_a_run_cut_mid_way_resumes",
    "tests/e2e/test_tracking_writeback.py::test_every_message_delivered_twice_still_makes_exactly_two_shipments",
    "tests/e2e/test_returns.py::test_each_return_is_noted_once_and_refunded_once",
    "tests/e2e/test_inventory_push.py::test_five_hundred_changed_among",
    "tests/e2e/test_readback.py::test_a_shipment_made_by_hand_is_published_once",
    "tests/e2e/test_returns.py::test_refunds_are_off_by_default",
    "tests/e2e/test_product_sync.py::test_a_second_run_with_nothing_changed_publishes_nothing",
    "tests/fault/test_fuzz_inbound.py::",
    "tests/e2e/test_order_import.py::test_orders_of_thousands_of_lines",
    "tests/e2e/test_aws_limits.py::test_a_throttled_secret_read_is_retried",
    "tests/integration/test_sandbox_command.py::",
)


class _LongestFirst:
    """Reorders the collection after every other plugin has selected from it (-k, -m, the tier markers), so
    the shares computed here are the ones the workers get."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        def rank(item: pytest.Item) -> int | None:
            return next((n for n, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)), None)

        ranks = {item.nodeid: n for item in items if (n := rank(item)) is not None}
        longest = sorted((item for item in items if item.nodeid in ranks), key=lambda i: ranks[i.nodeid])
        rest = [item for item in items if item.nodeid not in ranks]
        workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
        ordered: list[pytest.Item] = []
        for worker in range(workers):  # worksteal's first split: each share is what is left over the workers left
            size = (len(items) - len(ordered)) // (workers - worker)
            share = longest[worker::workers]
            fill = max(0, size - len(share))
            ordered += share + rest[:fill]
            del rest[:fill]
        items[:] = ordered + rest


# What each function was seen to call, by every test of this process (`_observe_calls`); each process
# writes its own here and the controller holds the union to the template's grants (`pytest_sessionfinish`).
OBSERVED_DIR = REPO / "build" / "observed-aws-calls"
_OBSERVED: set[iam.Grant] = set()
_FINDINGS = pytest.StashKey[iam.Findings]()
# Grants no test uses that stay, each with its reason (keep this short: a test is the better proof).
ALLOWED_UNUSED: dict[iam.Grant, str] = {
    ("ProductSyncFunction", "PayloadBucket/*", "s3:PutObject"): (
        "a product event over the claim-check size goes to S3 (warehouse/events.py): the publisher's S3 path is"
        " order import's, exercised there; no test builds a product that large"
    ),
    ("WebhookReceiverFunction", "IdempotencyTable", "dynamodb:GetItem"): (
        "Powertools idempotency reads the record when a duplicate's conditional put returns no old item;"
        " DynamoDB (and moto) always return it, so only a degraded answer needs this read"
    ),
    ("TrackingWritebackFunction", "IdempotencyTable", "dynamodb:GetItem"): (
        "Powertools idempotency's same fallback read, as for the webhook receiver"
    ),
    ("ReturnsFunction", "IdempotencyTable", "dynamodb:GetItem"): (
        "Powertools idempotency's same fallback read, as for the webhook receiver"
    ),
    ("FulfilmentFunction", "IdempotencyTable", "dynamodb:GetItem"): (
        "Powertools idempotency's same fallback read, as for the webhook receiver"
    ),
    ("ReadbackFunction", "PayloadBucket/*", "s3:PutObject"): (
        "a shipment read back of more than about a thousand lines would go to S3 (warehouse/events.py), the"
        " publisher's path order import exercises; no test builds one that large"
    ),
}


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (`make test` runs `-n 2`) each worker is its own process with its own moto
    server, sandbox, cut-point hook and PROCESS_CLOCK; the one thing they share is the expanded template
    that `expanded_template()` caches in build/, written in place by a subprocess when it is missing or
    older than template.yaml. Two workers could both find it stale, and one read it half-written by the
    other (or by the demo's subprocess), so the controller writes it once before any worker starts."""
    config.pluginmanager.register(_LongestFirst(), "bcsync-longest-first")
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        expanded_template()
    if not hasattr(config, "workerinput"):  # before any worker starts: no past run's calls count
        shutil.rmtree(OBSERVED_DIR, ignore_errors=True)


def _whole_suite(config: pytest.Config) -> bool:
    """Whether every test was selected: only then can a grant no test used be called unused."""
    option = config.option
    if option.keyword or option.markexpr or getattr(option, "lf", False) or getattr(option, "deselect", None):
        return False
    tests = (config.rootpath / "tests").resolve()
    paths = [Path(arg.split("::", 1)[0]).resolve() for arg in config.args]
    return all("::" not in arg for arg in config.args) and any(path == tests or path in tests.parents for path in paths)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Each process writes what its functions were seen to call; the controller (or the one process,
    without xdist) fails the session on a call no grant allows and, after the whole suite passed, on a
    grant no call used, once every test ran (docs/architecture.md, "Access matrix")."""
    config = session.config
    worker = getattr(config, "workerinput", {}).get("workerid", "controller")
    OBSERVED_DIR.mkdir(parents=True, exist_ok=True)
    (OBSERVED_DIR / f"{worker}.json").write_text(json.dumps(sorted(_OBSERVED)), encoding="utf-8")
    if hasattr(config, "workerinput"):
        return
    observed = {tuple(grant) for path in OBSERVED_DIR.glob("*.json") for grant in json.loads(path.read_text())}
    template = expanded_template()
    findings = iam.compare(
        iam.granted(template),
        observed,
        lambda_uses=iam.used_by_lambda(template),
        allowed_unused=ALLOWED_UNUSED,
        # A run stopped early (-x, Ctrl-C) did not run every test; one whose tests failed did.
        whole_suite=_whole_suite(config)
        and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
        and not session.shouldstop,
    )
    if findings.ungranted or findings.unused:
        config.stash[_FINDINGS] = findings
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _network_rules(request: pytest.FixtureRequest) -> Iterator[None]:
    """Unit tests get no network at all; every other tier reaches 127.0.0.1 only."""
    if request.node.get_closest_marker("unit"):
        disable_socket(allow_unix_socket=True)
    else:
        socket_allow_hosts(["127.0.0.1", "localhost", "::1"], allow_unix_socket=True)
    yield
    enable_socket()


# Requests that carried a known token to AWS outside Secrets Manager (filled by the local stack's tap).
_TOKENS_SENT_TO_AWS: list[str] = []


def _watch_aws(request: AwsRequest) -> None:
    if request.service != "secretsmanager" and any(token.encode() in request.body for token in KNOWN_TOKENS):
        _TOKENS_SENT_TO_AWS.append(f"{request.service} {request.operation}")


@pytest.fixture(autouse=True)
def _no_token_leaked(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """After every test: no known token in a log line, nor in anything sent to AWS but Secrets Manager
    (events, queued messages, DynamoDB items, metrics). The handlers' own log lines, which Powertools
    writes to stdout, are checked with the test's report (`pytest_runtest_makereport`)."""
    caplog.set_level(logging.INFO)  # third-party libraries at the level Lambda runs them
    for ours in ("bigcommerce_client", "bcsync", "bigcommerce_sandbox", "local_runtime"):
        caplog.set_level(logging.DEBUG, logger=ours)
    _TOKENS_SENT_TO_AWS.clear()
    yield
    leaked = [token for token in KNOWN_TOKENS if token in caplog.text]
    assert not leaked, "an access token appeared in a log line"
    assert not _TOKENS_SENT_TO_AWS, f"an access token was sent to AWS outside Secrets Manager: {_TOKENS_SENT_TO_AWS}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Fails a test whose captured stdout, stderr or log shows a known token: Powertools' log lines, a
    printed exception, a CLI's output."""
    report = yield
    this_phase = [(title, content) for title, content in report.sections if title.endswith(f" {report.when}")]
    where = sorted({title for title, content in this_phase for token in KNOWN_TOKENS if token in content})
    if where and not report.failed:
        report.outcome = "failed"
        report.longrepr = f"an access token appeared in: {', '.join(where)}"
    return report


@pytest.fixture(scope="session")
def contract_validator() -> ContractValidator:
    return ContractValidator()


class ContractRecorder:
    """Records each exchange as the sandbox serves it (cheaply: it is on the response path) and
    checks each kind against the specs when the test ends."""

    def __init__(self, validator: ContractValidator) -> None:
        self.validator = validator
        self.exchanges: list[Exchange] = []

    def __call__(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)

    def violations(self) -> list[str]:
        found: list[str] = []
        for exchange in self._to_check():
            if exchange.fault in _FAULTS_WITH_BROKEN_RESPONSES or exchange.rewritten:
                found += self.validator.check_request(exchange)
            else:
                found += self.validator.check(exchange)
        return found

    def _to_check(self) -> list[Exchange]:
        """Every kind of exchange a test met (method, route, status, fault), its first `PER_KIND` ones: checking
        one large page against the spec takes tens of milliseconds, and a test of 200 catalog pages spent 10 s
        checking the same route's same answer 200 times. What the later pages carry is the test's own to assert."""
        counts: dict[tuple[object, ...], int] = {}
        chosen: list[Exchange] = []
        for exchange in list(self.exchanges):
            kind = (exchange.method, _ROUTE_IDS.sub("/{id}", exchange.api_path), exchange.status, exchange.fault,
                    exchange.rewritten)  # fmt: skip
            counts[kind] = counts.get(kind, 0) + 1
            if counts[kind] <= PER_KIND:
                chosen.append(exchange)
        return chosen


_ROUTE_IDS = re.compile(r"/\d+")
PER_KIND = 25


def _tokens_of_other_stores(sandbox: Sandbox, exchanges: list[Exchange]) -> list[str]:
    """A request for store A must never carry store B's token (it would act on A with B's grants)."""
    owner = {token: store_hash for store_hash, store in sandbox.stores.items() for token in store.tokens}
    return [
        f"{exchange.method} {exchange.api_path} for store {exchange.store_hash} carried store {owner[token]}'s token"
        for exchange in exchanges
        if exchange.store_hash in sandbox.stores  # a store that does not exist is only ever told so
        and (token := exchange.request_headers.get("X-Auth-Token")) in owner
        and owner[token] != exchange.store_hash
    ]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def sandbox(clock: VirtualClock, contract_validator: ContractValidator) -> Iterator[Sandbox]:
    """A running sandbox on a free port; the test fails if any request or response broke the spec."""
    recorder = ContractRecorder(contract_validator)
    with Sandbox(clock=clock, specs_dir=contract_validator.root) as server:
        server.observers.append(recorder)
        server.recorder = recorder  # type: ignore[attr-defined]
        yield server
    violations = recorder.violations() + _tokens_of_other_stores(server, recorder.exchanges)
    assert not violations, "\n".join(violations[:20])


StoreFactory = Callable[..., tuple[SandboxStore, BigCommerceClient]]


@pytest.fixture
def make_store(sandbox: Sandbox, clock: VirtualClock) -> Iterator[StoreFactory]:
    """A sandbox store and a client for it; tokens are registered as known secrets."""
    clients: list[BigCommerceClient] = []

    def factory(
        store_hash: str = "abc123",
        *,
        token: str | None = None,
        quota: int = 150,
        other_apps: int = 0,
        **client_options: object,
    ) -> tuple[SandboxStore, BigCommerceClient]:
        token = token or f"token-{store_hash}-5ecret"
        KNOWN_TOKENS.add(token)
        store = sandbox.add_store(store_hash, token=token, quota=quota, other_apps=other_apps)
        options: dict[str, object] = {"max_wait_seconds": 30.0, "backoff_initial": 0.05, "backoff_max": 1.0}
        options.update(client_options)
        client = BigCommerceClient(
            store_hash=store_hash,
            access_token=token,
            api_url=sandbox.url,
            clock=clock,
            **options,  # type: ignore[arg-type]
        )
        clients.append(client)
        return store, client

    yield factory
    for client in clients:
        client.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    findings = config.stash.get(_FINDINGS, None)
    if findings is not None:
        terminalreporter.write_sep(
            "=", "least privilege: what the functions called vs. what their roles grant", red=True
        )
        terminalreporter.write_line(findings.report())


def _observe_calls(stack: LocalDeployment) -> Callable[[AwsRequest], None]:
    """Records each request one of `stack`'s functions made as the grant it needs; the operator's and the
    test's own requests (the deployment's credentials) are no function's."""
    names: dict[str, str] = {}

    def observe(request: AwsRequest) -> None:
        caller = iam.caller_of(request.caller)
        if caller is None or caller[0] != stack.stack_name:
            return
        used = iam.grants_used(caller[1], request, names)
        if any(resource not in names.values() for _, resource, _ in used):  # a name not seen yet: look again
            names.clear()
            names.update(iam.logical_names(stack.physical, str(stack.outputs()["SecretPrefix"])))
            used = iam.grants_used(caller[1], request, names)
        _OBSERVED.update(used)

    return observe


@pytest.fixture(scope="session")
def _local_stack_server() -> Iterator[LocalDeployment]:
    with LocalDeployment(clock=VirtualClock()) as stack:
        stack.observe_aws(_watch_aws)
        stack.observe_aws(_observe_calls(stack))
        yield stack


@pytest.fixture
def local_stack(_local_stack_server: LocalDeployment, clock: VirtualClock) -> Iterator[LocalDeployment]:
    """A freshly created stack (moto on 127.0.0.1, from the expanded template) on the test's clock."""
    _local_stack_server.clock = clock
    _local_stack_server.redeploy({})
    with _local_stack_server.environ():
        yield _local_stack_server


@pytest.fixture
def local_world(local_stack: LocalDeployment, sandbox: Sandbox) -> Iterator[tuple[LocalDeployment, Sandbox]]:
    """A whole local stack with the BigCommerce sandbox, handlers pointed at it."""
    previous = os.environ.get("BIGCOMMERCE_API_URL")
    os.environ["BIGCOMMERCE_API_URL"] = sandbox.url
    try:
        yield local_stack, sandbox
    finally:
        if previous is None:
            os.environ.pop("BIGCOMMERCE_API_URL", None)
        else:
            os.environ["BIGCOMMERCE_API_URL"] = previous
