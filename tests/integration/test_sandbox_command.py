"""The sandbox as a person starts it: a command on 127.0.0.1, https with a local CA when asked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bigcommerce_client import BigCommerceClient, NetworkError
from tests.conftest import KNOWN_TOKENS


def test_the_command_serves_seeded_stores_over_https_with_a_local_ca(tmp_path: Path) -> None:
    KNOWN_TOKENS.add("cli-token-123")
    process = subprocess.Popen(
        [sys.executable, "-m", "bigcommerce_sandbox", "--store", "clistore:cli-token-123", "--products", "5",
         "--orders", "3", "--tls-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        started = json.loads(process.stdout.readline())
        assert started["url"].startswith("https://127.0.0.1:")
        client = BigCommerceClient(
            store_hash="clistore", access_token="cli-token-123", api_url=started["url"], verify=str(tmp_path / "ca.pem")
        )
        assert client.get_store_info()["id"] == "clistore"
        assert len(list(client.iter_products())) == 6  # 5 + the seeded bundle
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_a_bad_store_argument_is_one_clear_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bigcommerce_sandbox", "--store", "nocolon"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "STORE_HASH:TOKEN" in result.stderr


def test_an_untrusted_certificate_is_named_and_not_retried(tmp_path: Path) -> None:
    KNOWN_TOKENS.add("cli-token-456")
    process = subprocess.Popen(
        [sys.executable, "-m", "bigcommerce_sandbox", "--store", "clistore:cli-token-456", "--products", "1",
         "--orders", "1", "--tls-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = json.loads(process.stdout.readline())["url"]
        client = BigCommerceClient(store_hash="clistore", access_token="cli-token-456", api_url=url)
        with pytest.raises(NetworkError, match="not trusted"):
            client.get_store_info()
        assert client.counter.total() == 1
    finally:
        process.terminate()
        process.wait(timeout=10)
