"""The app callbacks' own rules: where the login service may be, and pages that show store data as text."""

from __future__ import annotations

import pytest

from bcsync.app.callbacks import DEFAULT_LOGIN_URL, login_url, page
from bcsync.errors import ConfigurationError


@pytest.mark.parametrize(
    ("given", "used"),
    [
        (None, DEFAULT_LOGIN_URL),
        ("https://login.bigcommerce.com/", "https://login.bigcommerce.com"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("http://localhost:9", "http://localhost:9"),
    ],
)
def test_the_login_service_is_https_or_this_machines_loopback(given: str | None, used: str) -> None:
    assert login_url({} if given is None else {"BIGCOMMERCE_LOGIN_URL": given}) == used


@pytest.mark.parametrize("given", ["http://login.bigcommerce.com", "ftp://127.0.0.1", "login.bigcommerce.com"])
def test_a_login_service_the_client_secret_could_leak_to_is_refused(given: str) -> None:
    with pytest.raises(ConfigurationError, match="BIGCOMMERCE_LOGIN_URL must be an https URL"):
        login_url({"BIGCOMMERCE_LOGIN_URL": given})


def test_a_store_named_with_markup_is_shown_as_text() -> None:
    shown = page(200, "bcsync is installed", "Store <script>alert(1)</script> is connected.")
    assert "<script>" not in str(shown.body) and "&lt;script&gt;alert(1)&lt;/script&gt;" in str(shown.body)
    assert shown.headers["Cache-Control"] == "no-store" and str(shown.content_type).startswith("text/html")
