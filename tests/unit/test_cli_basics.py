"""The `bcsync` command's shell: options anywhere, its version, the token's way in, and one line per AWS error."""

from __future__ import annotations

import argparse
import io
import re
import tomllib
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber

from bcsync import __version__
from bcsync.cli import failures, main, parse
from bcsync.cli.common import read_token
from bcsync.store.outbox import Outbox
from bcsync.warehouse.events import EventPublisher, OutboundEvent

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "argv",
    [
        ["--stack", "prod", "--profile", "ops", "--region", "eu-west-1", "status", "abc123", "--json"],
        ["status", "abc123", "--json", "--stack", "prod", "--profile", "ops", "--region", "eu-west-1"],
        ["--profile", "ops", "status", "--region", "eu-west-1", "abc123", "--stack", "prod", "--json"],
    ],
)
def test_profile_region_and_stack_are_taken_before_or_after_the_command(argv: list[str]) -> None:
    args = parse(argv)
    assert (args.stack, args.profile, args.region, args.store_hash, args.json) == (
        "prod", "ops", "eu-west-1", "abc123", True,
    )  # fmt: skip


def test_a_group_s_commands_take_them_after_the_command_too() -> None:
    args = parse(["stores", "show", "abc123", "--stack", "prod", "--json"])
    assert args.stack == "prod" and args.json is True
    assert parse(["stores", "list"]).stack is None


def test_version_is_the_package_s_and_pyproject_reads_it_from_there(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"bcsync {__version__}"
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert pyproject["project"]["dynamic"] == ["version"] and "version" not in pyproject["project"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "bcsync.__version__"}
    assert re.search(rf"^## {re.escape(__version__)}\b", (REPO / "CHANGELOG.md").read_text(), re.MULTILINE)


def test_every_event_carries_the_version_that_published_it() -> None:
    class _Outbox(Outbox):
        def __init__(self) -> None: ...

    publisher = EventPublisher(events=None, s3=None, outbox=_Outbox(), bus_name="bus", bucket="bucket")
    event = OutboundEvent(detail_type="Order Ready", store_hash="abc123", idempotency_key="k", data={"order_id": 1})
    entry, _ = publisher._entry(event)
    assert '"bcsync_version":"' + __version__ + '"' in entry["Detail"]


def _pins(path: Path) -> dict[str, str]:
    """`name==version` of a requirements file, plain or hashed (`name==version \\` then `--hash=` lines)."""
    pins = {}
    for line in path.read_text().splitlines():
        requirement = line.split("#")[0].split(";")[0].strip().removesuffix("\\").strip()  # no marker, no hash
        if "==" in requirement and not requirement.startswith("-"):
            name, version = requirement.split("==")
            pins[name.split("[")[0].strip().lower().replace("_", "-")] = version.strip()
    return pins


def _top_level(layer: Path) -> dict[str, str]:
    """A layer's own pins: its `requirements.in` where a lock resolves it into `requirements.txt`."""
    source = layer / "requirements.in"
    return _pins(source if source.exists() else layer / "requirements.txt")


def test_the_cli_declares_the_layers_runtime_pins_exactly() -> None:
    declared: dict[str, str] = {}
    for requirement in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]:
        name, version = requirement.split("==")
        declared[name.lower()] = version
    layers = _top_level(REPO / "shared") | _top_level(REPO / "layers" / "bigcommerce")
    assert {name: declared.get(name) for name in layers} == layers  # every layer pin, at the same version
    assert declared["pyyaml"] == _pins(REPO / "requirements-dev.txt")["pyyaml"]  # the CLI's own, as tested


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_token_comes_from_a_hidden_prompt_never_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BCSYNC_ACCESS_TOKEN", "from-the-environment")
    prompts: list[str] = []

    def hidden_prompt(prompt: str) -> str:
        prompts.append(prompt)
        return "typed-hidden"

    monkeypatch.setattr("getpass.getpass", hidden_prompt)
    args = argparse.Namespace(token_stdin=False, store_hash="abc123")

    assert read_token(args, _Terminal("")).get_secret_value() == "typed-hidden"
    assert prompts == ["BigCommerce access token for store abc123 (hidden): "]
    args.token_stdin = True
    assert read_token(args, _Terminal("piped-in\n")).get_secret_value() == "piped-in"


def _stubbed(service: str, code: str, message: str) -> Any:
    client = botocore.session.get_session().create_client(
        service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    stubber.add_client_error("describe_stacks", service_error_code=code, service_message=message, http_status_code=400)
    stubber.activate()
    return client


@pytest.fixture
def no_aws_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "BCSYNC_STATE_TABLE", "BCSYNC_STACK_NAME"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


@pytest.mark.parametrize(
    ("argv", "stub", "code", "line"),
    [
        (["status"], None, failures.NO_REGION, "no AWS region: give --region REGION"),
        (["status", "--region", "eu-west-1"], None, failures.NO_CREDENTIALS, "no AWS credentials found"),
        (["status", "--profile", "nobody"], None, failures.NO_CREDENTIALS, "no AWS profile nobody: name one of"),
        (["status", "--stack", "nope"], ("ValidationError", "Stack with id nope does not exist"),
         failures.STACK_NOT_FOUND, "stack nope does not exist in region us-east-1: name the deployed one with --stack"),
        (["status"], ("AccessDenied", "User: arn:aws:iam::1:user/x is not authorized to perform: "
                      "cloudformation:DescribeStacks"), failures.ACCESS_DENIED, "access denied to DescribeStacks"),
        (["status"], ("ExpiredToken", "The security token included in the request is expired"),
         failures.NO_CREDENTIALS, "AWS did not accept the credentials (ExpiredToken)"),
    ],
)  # fmt: skip
def test_each_aws_error_is_one_line_and_its_own_exit_code(
    no_aws_config: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stub: tuple[str, str] | None,
    code: int,
    line: str,
) -> None:
    if stub is not None:
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setattr("bcsync.cli.common.boto3.client", lambda service, **_: _stubbed(service, *stub))

    assert main(argv, out=io.StringIO()) == code

    err = capsys.readouterr().err
    assert err.startswith(f"bcsync: {line}") and err.count("\n") == 1 and "Traceback" not in err


def test_help_documents_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    shown = capsys.readouterr().out
    for code, meaning in failures.EXIT_CODES.items():
        assert f"  {code}  {meaning}" in shown
    operations = (REPO / "docs" / "operations.md").read_text()
    for code, meaning in failures.EXIT_CODES.items():
        assert f"| {code} | {meaning} |" in operations


def test_the_package_ships_every_bcsync_package() -> None:
    # A package the list misses is left out of the wheel: the CLI installed with pipx then fails with
    # ModuleNotFoundError on the first command that imports it.
    root = Path(__file__).resolve().parents[2]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(("bcsync", *init.parent.relative_to(root / "shared" / "bcsync").parts))
        for init in (root / "shared" / "bcsync").rglob("__init__.py")
    }
    assert on_disk - listed == set()
