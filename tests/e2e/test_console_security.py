"""The merchant's console as deployed (the load callback and the pages behind the local HTTP API): a session
bound to the store BigCommerce signed for, which never shows or changes another store's data."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from bcsync.console.session import COOKIE_NAME
from bcsync.orders.state import HeldOrders
from bcsync.store.problems import ProblemLog
from bigcommerce_sandbox import Sandbox
from local_runtime import LocalDeployment
from tests.console import ConsoleWorld, configure, connect, console_world, csrf_of, held_order

A, B = "cona111", "conb222"
SCRIPT = "<script>alert('pwned')</script>"


@pytest.fixture
def world(local_world: tuple[LocalDeployment, Sandbox]) -> ConsoleWorld:
    world = console_world(*local_world)
    connect(world, A, name="Store A")
    connect(world, B, name=f"Store B {SCRIPT}")
    return world


def test_the_load_callback_opens_a_session_for_the_signed_store_and_refuses_a_forged_or_reused_payload(
    world: ConsoleWorld,
) -> None:
    token = world.app.signed_payload(A, "load", email="ana@example.com")
    browser = world.browser()

    opened = browser.get(f"{world.url}/app/load", params={"signed_payload_jwt": token}, allow_redirects=False)

    assert opened.status_code == 303 and opened.headers["Location"] == f"/console/stores/{A}"
    cookie = opened.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=None" in cookie
    page = browser.get(f"{world.url}/console/stores/{A}", cookies={COOKIE_NAME: opened.cookies[COOKIE_NAME]})
    assert page.status_code == 200 and "Store A" in page.text and "ana@example.com" in page.text
    # BigCommerce's payload, replayed; one signed with another secret; one for another app; one expired.
    replayed = world.browser().get(f"{world.url}/app/load", params={"signed_payload_jwt": token}, allow_redirects=False)
    assert replayed.status_code == 401 and "Set-Cookie" not in replayed.headers
    for forged in (
        {"_key": "not-the-app-secret-not-the-app-secret"},
        {"aud": "another-app"},
        {"exp": int(world.sandbox.clock.now()) - 3600},
    ):
        _, refused = world.open_console(A, **forged)
        assert refused.status_code == 401 and "Set-Cookie" not in refused.headers, forged
        assert "open the app again" in refused.text


def test_store_a_never_sees_nor_changes_store_b_whatever_the_path_the_cookie_or_the_form_say_and_markup_is_text(
    world: ConsoleWorld,
) -> None:
    """B's name and its held order's shipping method (BigCommerce's) and a refused stock item's SKU (the
    warehouse's) carry markup: A sees none of B's data, and B's own console shows them as text."""
    configure(B, "hold_minutes=30")
    held = held_order(world, world.sandbox.stores[B], method=f'<img src=x onerror="alert(1)">{SCRIPT}')
    browser, _ = world.open_console(A)
    csrf = csrf_of(browser.get(f"{world.url}/console/stores/{A}/settings").text)
    b_before = world.registry().get(B)

    # The path names B.
    for page in ("", "/problems", "/orders", "/settings"):
        answer = browser.get(f"{world.url}/console/stores/{B}{page}")
        assert answer.status_code == 403 and "Store B" not in answer.text and str(held) not in answer.text, page
    for action in ("settings", f"orders/{held}/release", f"orders/{held}/resend", "ship-options"):
        form = {"csrf": csrf, "store_hash": B, "hold_minutes": "0", "method": "Flat Rate", "option": "X"}
        assert browser.post(f"{world.url}/console/stores/{B}/{action}", data=form).status_code == 403, action
    # The form names B on A's path.
    assert (
        browser.post(f"{world.url}/console/stores/{A}/settings", data={"csrf": csrf, "store_hash": B}).status_code
        == 403
    )
    # The cookie is edited to name B (its signature kept), or comes from nowhere.
    value = browser.cookies[COOKIE_NAME]
    body, signature = value.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    edited = base64.urlsafe_b64encode(json.dumps(claims | {"s": B}).encode()).decode().rstrip("=")
    for cookie in (f"{edited}.{signature}", f"{edited}.", "garbage"):
        forged = world.browser()
        forged.cookies.set(COOKIE_NAME, cookie)
        answer = forged.get(f"{world.url}/console/stores/{B}/orders")
        assert answer.status_code == 401 and str(held) not in answer.text
    # A change without the session's CSRF token, or with another session's.
    other, _ = world.open_console(A)
    other_csrf = csrf_of(other.get(f"{world.url}/console/stores/{A}/settings").text)
    for token in ("", other_csrf):
        answer = browser.post(f"{world.url}/console/stores/{A}/settings", data={"csrf": token, "store_hash": A})
        assert answer.status_code == 403

    assert world.registry().get(B) == b_before
    assert [h.order_id for h in HeldOrders(_table(world), B).all()] == [held]  # still held
    assert world.stack.take_messages("OrderImportJobs") == []  # nothing queued for B (nor A)

    ProblemLog(_table(world), B).add("stock_item", f"SKU-{SCRIPT}", f"SKU-{SCRIPT}: not in the store")
    own, _ = world.open_console(B)
    for page in ("", "/problems", "/orders", "/settings"):
        text = own.get(f"{world.url}/console/stores/{B}{page}").text
        assert "<script>" not in text and "<img src=x" not in text, page
    problems = own.get(f"{world.url}/console/stores/{B}/problems").text
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in problems  # the shipping method, as text
    assert "Store B &lt;script&gt;" in problems
    assert "SKU-&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;: not in the store" in problems


def test_settings_errors_show_in_place_then_a_held_order_mapped_and_released_reaches_the_warehouse_with_its_option(
    world: ConsoleWorld,
) -> None:
    browser, _ = world.open_console(A)
    page = browser.get(f"{world.url}/console/stores/{A}/settings").text
    form = {"csrf": csrf_of(page), "store_hash": A, "release_statuses": "11, 9", "hold_minutes": "-5",
            "carrier_map": "Royal Mail = carrier-pigeon", "ship_option_map": "Flat Rate GROUND",
            "default_ship_option": "STANDARD", "safety_stock": "2", "default_location_id": "1"}  # fmt: skip
    before = world.registry().get(A)

    refused = browser.post(f"{world.url}/console/stores/{A}/settings", data=form)

    assert refused.status_code == 422
    assert 'id="error-hold_minutes">Input should be greater than or equal to 0' in refused.text
    assert 'id="error-ship_option_map">line 1: write one `name = value` a line' in refused.text
    assert "Royal Mail = carrier-pigeon" in refused.text  # what was typed stays in the form
    assert world.registry().get(A) == before  # nothing saved
    form |= {"hold_minutes": "30", "ship_option_map": "Flat Rate = GROUND", "carrier_map": "Royal Mail = ups"}
    saved = browser.post(f"{world.url}/console/stores/{A}/settings", data=form)
    assert saved.status_code == 200 and "Settings saved." in saved.text
    after = world.registry().get(A)
    assert (after.hold_minutes, after.release_statuses, after.ship_option_map) == (30, (11, 9), {"Flat Rate": "GROUND"})

    # Then, with the hold window just saved: a held order whose shipping method has no ship option.
    held = held_order(world, world.sandbox.stores[A], method="Next Day Air")
    problems = browser.get(f"{world.url}/console/stores/{A}/problems").text
    assert "Next Day Air" in problems and str(held) in problems
    csrf = csrf_of(problems)

    mapped = browser.post(f"{world.url}/console/stores/{A}/ship-options",
                          data={"csrf": csrf, "store_hash": A, "method": "Next Day Air", "option": "EXPRESS"})  # fmt: skip
    released = browser.post(
        f"{world.url}/console/stores/{A}/orders/{held}/release", data={"csrf": csrf, "store_hash": A}
    )

    assert mapped.status_code == 200 and "Next Day Air" not in mapped.text.split("Held orders")[0]
    assert released.status_code == 200 and "Released" in released.text
    (event,) = world.run_queued_import()
    assert (event["detail-type"], event["detail"]["data"]["order_id"]) == ("Order Ready", held)
    assert [s["ship_option"] for s in event["detail"]["data"]["shipments"]] == ["EXPRESS"]
    orders = browser.get(f"{world.url}/console/stores/{A}/orders").text
    assert "Release now" not in orders and "Resend" in orders
    # The warehouse lost it: *resend* sends the same version again, under the same key.
    resent = browser.post(f"{world.url}/console/stores/{A}/orders/{held}/resend", data={"csrf": csrf, "store_hash": A})
    assert resent.status_code == 200 and "Resend queued" in resent.text
    (again,) = world.run_queued_import()
    assert again["detail"]["idempotency_key"] == event["detail"]["idempotency_key"]


def _table(world: ConsoleWorld) -> Any:
    return world.stack.resource("dynamodb").Table(str(world.stack.outputs()["StateTableName"]))
