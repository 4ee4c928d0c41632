"""The consoles in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`) driven by
Selenium, against the local stack. One browser for the module.

The merchant's walk: the store installs the app (its auth callback), BigCommerce opens it (the load
callback), the merchant sets a hold window, maps the shipping method of a held order the console names as
unmapped, releases the order now, and the warehouse receives it with its ship option. The operator's: a dead letter's reason, and its redrive.

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
from urllib.parse import quote

import pytest

from bcsync.cli.console import console_data
from bcsync.console.local import OperatorConsole
from bigcommerce_sandbox import Sandbox, seed_catalog
from local_runtime import LocalDeployment
from tests.conftest import KNOWN_TOKENS
from tests.console import ConsoleWorld, connect, console_world, held_order

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


def _wait_for(driver: WebDriver, selector: str, text: str) -> str:
    """The element's text once it shows `text`: a page that submits a form or is still loading is waited for
    (20 s at most), never slept on."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    WebDriverWait(driver, 20).until(
        expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, selector), text)
    )
    return str(_by_css(driver, selector).text)


def _type(driver: WebDriver, selector: str, text: str) -> None:
    """Types `text` into the field (what was there cleared) and submits its form."""
    field = _by_css(driver, selector)
    field.clear()
    field.send_keys(text)
    field.submit()


def test_the_merchant_installs_maps_a_shipping_method_and_releases_a_held_order_which_the_warehouse_receives(
    local_world: tuple[LocalDeployment, Sandbox], driver: WebDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    world: ConsoleWorld = console_world(*local_world)
    monkeypatch.setenv("BIGCOMMERCE_LOGIN_URL", world.sandbox.url)  # the app trades its code there
    store = world.sandbox.add_store("brw111", token="tok-brw111-unused")
    seed_catalog(store, products=3, variants_per_product=1)

    # Install: BigCommerce sends the merchant's browser to the app's auth callback with a code.
    query = "&".join(f"{name}={quote(value)}" for name, value in world.app.authorize("brw111").items())
    driver.get(f"{world.url}/app/auth?{query}")
    _wait_for(driver, "body", "bcsync is installed")
    KNOWN_TOKENS.add(world.app.installs["brw111"])
    _shot(driver, "merchant-install")
    # Load: the merchant opens the app.
    driver.get(f"{world.url}/app/load?signed_payload_jwt={world.app.signed_payload('brw111', 'load')}")
    _wait_for(driver, "h1", "Sandbox store brw111")
    assert driver.current_url.endswith("/console/stores/brw111")  # the payload is gone from the address
    assert "Order import" in driver.page_source
    _shot(driver, "merchant-status")
    # Settings: a hold window, refused first with its error beside the field.
    driver.get(f"{world.url}/console/stores/brw111/settings")
    _type(driver, "#hold_minutes", "-5")
    _wait_for(driver, "#error-hold_minutes", "greater than or equal to 0")
    _shot(driver, "merchant-settings-error")
    _type(driver, "#hold_minutes", "120")
    _wait_for(driver, ".note", "Settings saved.")
    held = held_order(world, store, method="Next Day Air")
    # Problems: the held order's shipping method has no ship option; map it.
    driver.get(f"{world.url}/console/stores/brw111/problems")
    _shot(driver, "merchant-problems")
    _type(driver, 'input[aria-label="ship option for Next Day Air"]', "EXPRESS")
    _wait_for(driver, ".note", "Shipping method mapped.")
    # Orders: release it now.
    driver.get(f"{world.url}/console/stores/brw111/orders")
    _shot(driver, "merchant-orders")
    _by_css(driver, f"#order-{held} button").click()
    _wait_for(driver, ".note", "Released")

    events = [e for e in world.run_queued_import() if e["detail-type"].startswith("Order")]

    assert [(e["detail-type"], e["detail"]["data"]["order_id"]) for e in events] == [("Order Ready", held)]
    assert [s["ship_option"] for s in events[0]["detail"]["data"]["shipments"]] == ["EXPRESS"]
    driver.get(f"{world.url}/console/stores/brw111/orders")
    assert "Resend" in _by_css(driver, f"#order-{held}").text


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
        _wait_for(driver, "#store-brw333", "Quayside Books")
        _shot(driver, "operator-stores")
        driver.get(f"{console.url}/console/dlq")
        card = _by_css(driver, "#dlq-StockInboundDLQ")
        assert "not a stock message: the body is not JSON" in card.text
        _shot(driver, "operator-dead-letters")
        _by_css(driver, "#dlq-StockInboundDLQ button").click()
        _wait_for(driver, ".note", "Messages sent back to their queue.")

    assert [m["Body"] for m in stack.take_messages("StockInbound")] == ["{not json"]
