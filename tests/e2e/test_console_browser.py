"""The consoles in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`) driven by
Selenium, against the local stack. One browser for the module.

The merchant's walk: the store is connected, BigCommerce opens the app (the load callback), the merchant
maps a shipping method the console names as unmapped, releases the held order now, and the warehouse
receives it with its ship option. The operator's: a dead letter's reason, and its redrive.

`BCSYNC_SCREENSHOTS=1` writes a screenshot of each page to docs/screenshots/. Without a browser the tests
say how to install one: they fail under CI (CI=true) and are skipped elsewhere.
"""

from __future__ import annotations

import argparse
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bcsync.cli.console import console_data
from bcsync.console.local import OperatorConsole
from bigcommerce_sandbox import Sandbox
from local_runtime import LocalDeployment
from tests.console import ConsoleWorld, configure, connect, console_world, held_order

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
INSTALL = "apt-get install -y chromium chromium-driver (Debian's), and pip install -r requirements-dev.txt (Selenium)"
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


def _no_browser(why: str) -> None:
    message = f"the browser tests need headless Chromium: {why}. Install: {INSTALL}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def driver() -> Iterator[WebDriver]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _no_browser("Selenium is not installed")
    binary = next((found for name in CHROMIUM if (found := shutil.which(name))), None)
    chromedriver = shutil.which("chromedriver")
    if binary is None or chromedriver is None:
        _no_browser("no chromium" if binary is None else "no chromedriver")
    assert binary is not None and chromedriver is not None
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--disable-gpu", "--no-first-run", "--disable-extensions"):  # fmt: skip
        options.add_argument(argument)
    options.accept_insecure_certs = True  # the local HTTP API's own CA
    browser = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    try:
        yield browser
    finally:
        browser.quit()


def _shot(driver: WebDriver, name: str) -> None:
    if os.environ.get("BCSYNC_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def _by_css(driver: WebDriver, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def test_the_merchant_maps_a_shipping_method_and_releases_a_held_order_which_the_warehouse_receives(
    local_world: tuple[LocalDeployment, Sandbox], driver: WebDriver
) -> None:
    world: ConsoleWorld = console_world(*local_world)
    store = connect(world, "brw111", name="Harbour Coffee")
    configure("brw111", "hold_minutes=120", "default_ship_option=STANDARD")
    held = held_order(world, store, method="Next Day Air")

    driver.get(f"{world.url}/app/load?signed_payload_jwt={world.app.signed_payload('brw111', 'load')}")

    assert driver.current_url.endswith("/console/stores/brw111")  # the payload is gone from the address
    assert "Harbour Coffee" in driver.page_source and "Order import" in driver.page_source
    _shot(driver, "merchant-status")
    driver.get(f"{world.url}/console/stores/brw111/problems")
    _shot(driver, "merchant-problems")
    _by_css(driver, 'input[aria-label="ship option for Next Day Air"]').send_keys("EXPRESS")
    _by_css(driver, 'input[aria-label="ship option for Next Day Air"]').submit()
    assert "Shipping method mapped." in _by_css(driver, ".note").text
    driver.get(f"{world.url}/console/stores/brw111/orders")
    _shot(driver, "merchant-orders")
    _by_css(driver, f"#order-{held} button").click()
    assert "Released" in _by_css(driver, ".note").text

    (event,) = world.run_queued_import()

    assert (event["detail-type"], event["detail"]["data"]["order_id"]) == ("Order Ready", held)
    assert [s["ship_option"] for s in event["detail"]["data"]["shipments"]] == ["EXPRESS"]
    driver.get(f"{world.url}/console/stores/brw111/orders")
    assert "Resend" in _by_css(driver, f"#order-{held}").text
    driver.get(f"{world.url}/console/stores/brw111/settings")
    hold = _by_css(driver, "#hold_minutes")
    hold.clear()
    hold.send_keys("-5")
    hold.submit()
    assert "greater than or equal to 0" in _by_css(driver, "#error-hold_minutes").text
    _shot(driver, "merchant-settings-error")


def test_the_operator_sees_a_dead_letters_reason_and_redrives_it(
    local_world: tuple[LocalDeployment, Sandbox], driver: WebDriver
) -> None:
    stack, sandbox = local_world
    world = console_world(stack, sandbox)
    connect(world, "brw222", name="Harbour Coffee")
    connect(world, "brw333", name="Quayside Books")
    stack.client("sqs").send_message(QueueUrl=stack.physical["StockInbound"]["Ref"], MessageBody="{not json")
    stack.deliver_sqs("StockInbound", stack.load_handler("InventoryPushFunction"))

    with OperatorConsole(console_data(argparse.Namespace(stack=None, state_table=None))) as console:
        driver.get(console.login_url)
        assert "Quayside Books" in driver.page_source
        _shot(driver, "operator-stores")
        driver.get(f"{console.url}/console/dlq")
        card = _by_css(driver, "#dlq-StockInboundDLQ")
        assert "not a stock message: the body is not JSON" in card.text
        _shot(driver, "operator-dead-letters")
        _by_css(driver, "#dlq-StockInboundDLQ button").click()
        assert "Messages sent back to their queue." in _by_css(driver, ".note").text

    assert [m["Body"] for m in stack.take_messages("StockInbound")] == ["{not json"]
