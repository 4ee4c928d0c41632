"""`bcsync console`: the operator's console on 127.0.0.1, with the operator's own credentials - every store,
the dead-letter queues with their reasons and a redrive, enable and disable."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest
import requests

from bcsync.cli.console import console_data
from bcsync.console.local import OperatorConsole
from bigcommerce_sandbox import Sandbox
from local_runtime import LocalDeployment
from tests.console import ConsoleWorld, connect, console_world, csrf_of


@pytest.fixture
def operator(local_world: tuple[LocalDeployment, Sandbox]) -> Iterator[tuple[ConsoleWorld, OperatorConsole]]:
    world = console_world(*local_world)
    connect(world, "opa111", name="North shop")
    connect(world, "opb222", name="South shop")
    with OperatorConsole(console_data(argparse.Namespace(stack=None, state_table=None))) as console:
        yield world, console


def _logged_in(console: OperatorConsole) -> requests.Session:
    browser = requests.Session()
    browser.trust_env = False
    opened = browser.get(console.login_url, allow_redirects=False)
    assert opened.status_code == 303
    cookie = opened.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie  # plain http, loopback
    return browser


def test_the_operators_console_answers_on_loopback_to_its_own_link_alone_and_disables_and_enables_a_store(
    operator: tuple[ConsoleWorld, OperatorConsole],
) -> None:
    world, console = operator
    stranger = requests.Session()
    stranger.trust_env = False

    assert console.url.startswith("http://127.0.0.1:")
    assert stranger.get(f"{console.url}/console/").status_code == 401
    assert stranger.get(f"{console.url}/console/login?token=guess", allow_redirects=False).status_code == 401
    # A page elsewhere reaching it through a name that resolves to 127.0.0.1 (DNS rebinding).
    assert stranger.get(console.login_url, headers={"Host": "evil.example:80"}).status_code == 421
    browser = _logged_in(console)
    stores = browser.get(f"{console.url}/console/")
    assert stores.status_code == 200
    assert "North shop" in stores.text and "South shop" in stores.text and "never ran" in stores.text
    assert browser.get(f"{console.url}/console/stores/opb222/orders").status_code == 200  # every store's pages

    # Disable, then enable, one store.
    csrf = csrf_of(stores.text)
    disabled = browser.post(f"{console.url}/console/stores/opa111/enabled", data={"csrf": csrf, "store_hash": "opa111"})
    assert disabled.status_code == 200 and "Store disabled" in disabled.text
    assert not world.registry().get("opa111").enabled and world.registry().get("opb222").enabled
    form = {"csrf": csrf, "store_hash": "opa111", "enabled": "on"}
    assert browser.post(f"{console.url}/console/stores/opa111/enabled", data=form).status_code == 200
    assert world.registry().get("opa111").enabled


def test_the_operator_sees_each_dead_letter_with_its_reason_and_redrives_it(
    operator: tuple[ConsoleWorld, OperatorConsole],
) -> None:
    world, console = operator
    stack = world.stack
    stack.client("sqs").send_message(QueueUrl=stack.physical["StockInbound"]["Ref"], MessageBody="{not json")
    stack.deliver_sqs("StockInbound", stack.load_handler("InventoryPushFunction"))
    browser = _logged_in(console)

    page = browser.get(f"{console.url}/console/dlq").text

    assert "not a stock message: the body is not JSON" in page and "{not json" in page
    assert browser.post(f"{console.url}/console/dlq/StockInbound/redrive", data={"csrf": "x"}).status_code == 403
    moved = browser.post(f"{console.url}/console/dlq/StockInbound/redrive", data={"csrf": csrf_of(page)})
    assert moved.status_code == 200 and "Messages sent back to their queue." in moved.text
    assert [m["Body"] for m in stack.take_messages("StockInbound")] == ["{not json"]
    assert stack.take_messages("StockInboundDLQ") == []
