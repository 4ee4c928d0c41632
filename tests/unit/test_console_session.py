"""The console's session cookie and CSRF token, and the settings form's reading: no AWS, no network."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import pytest

from bcsync.console.forms import form_values, settings_changes
from bcsync.console.session import OPERATOR, SessionRefused, SessionSigner, derive_key
from bcsync.store.settings import StoreSettings

KEY = derive_key("the-app-client-secret")
NOW = 1_800_000_000.0


def _merchant() -> SessionSigner:
    return SessionSigner(KEY, mode="merchant")


def test_a_session_decodes_to_the_store_it_was_issued_for_until_it_expires() -> None:
    signer = _merchant()
    session = signer.issue("abc123", "ana@example.com", now=NOW)

    assert signer.decode(signer.encode(session), now=NOW + 3599) == session
    with pytest.raises(SessionRefused, match="expired: open the app again"):
        signer.decode(signer.encode(session), now=NOW + 3600)


def test_a_cookie_edited_to_name_another_store_or_signed_with_another_key_is_refused() -> None:
    signer = _merchant()
    value = signer.encode(signer.issue("abc123", "ana@example.com", now=NOW))
    body, signature = value.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    edited = base64.urlsafe_b64encode(json.dumps(claims | {"s": "zzz999"}).encode()).decode().rstrip("=")
    elsewhere = SessionSigner(derive_key("another-apps-secret"), mode="merchant")

    for forged in (f"{edited}.{signature}", elsewhere.encode(elsewhere.issue("abc123", "x", now=NOW)), "", "a.b.c"):
        with pytest.raises(SessionRefused, match="not valid"):
            signer.decode(forged, now=NOW)


def test_an_operator_session_opens_no_merchant_console_and_a_merchant_session_no_operator_console() -> None:
    merchant, operator = _merchant(), SessionSigner(KEY, mode="operator")

    with pytest.raises(SessionRefused, match="the other console"):
        merchant.decode(merchant.encode(merchant.issue(OPERATOR, "operator", now=NOW)), now=NOW)
    with pytest.raises(SessionRefused, match="the other console"):
        operator.decode(operator.encode(operator.issue("abc123", "ana", now=NOW)), now=NOW)
    assert operator.issue(OPERATOR, "operator", now=NOW).may_see("any111")
    assert not merchant.issue("abc123", "ana", now=NOW).may_see("abc1234")


def test_a_csrf_token_is_the_sessions_own() -> None:
    signer = _merchant()
    first, second = signer.issue("abc123", "ana", now=NOW), signer.issue("abc123", "ana", now=NOW)

    assert signer.check_csrf(first, signer.csrf_token(first))
    assert not signer.check_csrf(first, signer.csrf_token(second))
    assert not signer.check_csrf(first, "") and not signer.check_csrf(first, None)


def test_the_merchants_cookie_is_framed_safely_and_the_operators_is_strict() -> None:
    merchant, operator = _merchant(), SessionSigner(KEY, mode="operator")

    framed = merchant.cookie_header(merchant.issue("abc123", "ana", now=NOW))
    local = operator.cookie_header(operator.issue(OPERATOR, "operator", now=NOW))

    assert all(part in framed for part in ("HttpOnly", "Secure", "SameSite=None", "Max-Age=3600"))
    assert "SameSite=Strict" in local and "HttpOnly" in local and "Secure" not in local


def test_the_settings_form_becomes_what_the_settings_model_validates() -> None:
    form = {
        "release_statuses": ["11, 9"],
        "ship_option_map": ["UPS Ground = GROUND\n\nNext Day Air = EXPRESS"],
        "hold_minutes": ["30"],
        "complete_orders": ["on"],
        "business_hours_on": ["on"],
        "business_hours_timezone": ["Europe/Lisbon"],
        "business_hours_opens": ["08:00"],
        "business_hours_closes": ["18:00"],
        "business_hours_weekdays": ["0", "2"],
        "location_map": ["Main hall 3"],
    }

    changes, errors = settings_changes(form | {"default_ship_option": ["STANDARD"], "safety_stock": ["0"],
                                               "default_location_id": ["1"]})  # fmt: skip
    settings = StoreSettings(store_hash="abc123").with_changes(changes)

    assert errors == {"location_map": "line 1: write one `name = value` a line, not 'Main hall 3'"}
    assert settings.release_statuses == (11, 9) and settings.hold_minutes == 30 and settings.complete_orders
    assert settings.ship_option_map == {"UPS Ground": "GROUND", "Next Day Air": "EXPRESS"}
    assert settings.business_hours is not None and settings.business_hours.weekdays == (0, 2)
    assert form_values(settings)["ship_option_map"] == "UPS Ground = GROUND\nNext Day Air = EXPRESS"


def test_the_problems_page_turns_the_last_runs_figures_into_what_to_do() -> None:
    from unittest.mock import MagicMock

    from bcsync.console.data import ConsoleData
    from bcsync.store.jobs import JobRun
    from bcsync.store.status import Returns, StoreStatus

    settings = StoreSettings(store_hash="abc123")
    runs = {
        "tracking_writeback": JobRun(store_hash="abc123", job="tracking_writeback", started_at="t",
                                     figures={"carriers_unmapped": 3, "shipments_written": 9}),
        "product_sync": JobRun(store_hash="abc123", job="product_sync", started_at="t",
                               problems=["SKU p7-v0: product 7 variant 70 has no SKU in BigCommerce"]),
    }  # fmt: skip
    data = ConsoleData(table=MagicMock(), sqs=MagicMock(), credentials=MagicMock(), order_import_queue_url="")
    status = StoreStatus(
        settings=settings,
        runs=runs,  # type: ignore[arg-type]
        totals={},
        cursor=None,
        returns=Returns(0, 0, Decimal(0)),
        problems=[],
    )
    data.status = lambda store_hash: status  # type: ignore[method-assign]
    data.held = lambda store_hash: []  # type: ignore[method-assign]

    problems = data.problems("abc123")

    assert [(p["job"], p["text"]) for p in problems.runs] == [
        ("product_sync", "SKU p7-v0: product 7 variant 70 has no SKU in BigCommerce"),
        ("tracking_writeback", "3 shipments whose warehouse carrier has no BigCommerce tracking carrier"),
    ]
    assert problems.runs[0]["hint"].startswith("Give the variant a SKU in BigCommerce")
    assert "carrier map in Settings" in problems.runs[1]["hint"]
