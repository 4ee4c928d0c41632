"""The sandbox as a person starts it: a command on 127.0.0.1, https with a local CA when asked."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bigcommerce_client import BigCommerceClient, NetworkError
from tests.conftest import KNOWN_TOKENS


@contextmanager
def sandbox_process(token: str, tls_dir: Path, products: int) -> Iterator[str]:
    """The command as a person runs it; yields the URL it prints, and checks it stops cleanly."""
    KNOWN_TOKENS.add(token)
    process = subprocess.Popen(
        [sys.executable, "-m", "bigcommerce_sandbox", "--store", f"clistore:{token}", "--products", str(products),
         "--orders", "3", "--tls-dir", str(tls_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())["url"]
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_the_command_serves_seeded_stores_over_https_with_a_local_ca(tmp_path: Path) -> None:
    with sandbox_process("cli-token-123", tmp_path, products=5) as url:
        assert url.startswith("https://127.0.0.1:")
        client = BigCommerceClient(
            store_hash="clistore", access_token="cli-token-123", api_url=url, verify=str(tmp_path / "ca.pem")
        )
        assert client.get_store_info()["id"] == "clistore"
        assert len(list(client.iter_products())) == 6  # 5 + the seeded bundle


def test_a_bad_store_argument_is_one_clear_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bigcommerce_sandbox", "--store", "nocolon"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "STORE_HASH:TOKEN" in result.stderr


def test_an_untrusted_certificate_is_named_and_not_retried(tmp_path: Path) -> None:
    with sandbox_process("cli-token-456", tmp_path, products=1) as url:
        client = BigCommerceClient(store_hash="clistore", access_token="cli-token-456", api_url=url)
        with pytest.raises(NetworkError, match="not trusted"):
            client.get_store_info()
        assert client.counter.total() == 1
