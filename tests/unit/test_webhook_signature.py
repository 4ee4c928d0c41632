"""Signed deliveries (Standard Webhooks, keyed with the app's client secret): one BigCommerce signed lately
is taken; a tampered, unsigned, replayed or future one is refused, saying which."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr
from standardwebhooks import Webhook

from bcsync.app.signed_payload import AppCredentials
from bcsync.errors import ConfigurationError
from bcsync.webhooks.signature import RETRY_UNREADABLE_SECONDS, TOLERANCE_SECONDS, AppSigning, SignedDeliveries

CLIENT_SECRET = "app-client-secret-" + "0123456789abcdef" * 2
SIGNING = SignedDeliveries(client_id="app-client-id", client_secret=SecretStr(CLIENT_SECRET))
NOW = 1_800_000_000
BODY = '{"scope":"store/order/created","store_id":"1","data":{"type":"order","id":5},"hash":"h","created_at":1,"producer":"stores/abc123"}'


def signed(
    body: str = BODY, *, at: int = NOW, message_id: str = "msg_1", secret: str = CLIENT_SECRET
) -> dict[str, str]:
    """The headers BigCommerce sends: HMAC-SHA256 of "id.timestamp.body", keyed with the client secret."""
    digest = hmac.new(secret.encode(), f"{message_id}.{at}.{body}".encode(), hashlib.sha256).digest()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(at),
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


def test_the_library_signs_as_the_standard_webhooks_specification_says() -> None:
    # The specification's own example (secret, id, timestamp, payload → signature).
    webhook = Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    moment = datetime.fromtimestamp(1614265330, tz=UTC)
    assert webhook.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", moment, '{"test": 2432232314}') == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_a_delivery_bigcommerce_signed_lately_is_taken() -> None:
    assert SIGNING.check(signed(), BODY, now=NOW) is None
    assert SIGNING.check(signed(at=NOW - TOLERANCE_SECONDS), BODY, now=NOW) is None
    headers = {name.title(): value for name, value in signed().items()}  # header names in any case
    assert SIGNING.check(headers, BODY, now=NOW) is None


def test_while_a_secret_rotates_one_matching_signature_of_several_is_enough() -> None:
    good = signed()["webhook-signature"]
    old = signed(secret="the-previous-secret")["webhook-signature"]
    assert SIGNING.check({**signed(), "webhook-signature": f"{old} {good}"}, BODY, now=NOW) is None


@pytest.mark.parametrize(
    ("headers", "body", "refused"),
    [
        pytest.param({}, BODY, "missing_signature", id="unsigned"),
        pytest.param({k: v for k, v in signed().items() if k != "webhook-id"}, BODY, "missing_signature", id="no-id"),
        pytest.param(signed(), BODY.replace('"id":5', '"id":6'), "wrong_signature", id="body-tampered"),
        pytest.param({**signed(), "webhook-id": "msg_2"}, BODY, "wrong_signature", id="id-swapped"),
        pytest.param(signed(secret="another-apps-secret"), BODY, "wrong_signature", id="another-key"),
        pytest.param({**signed(), "webhook-signature": "v1"}, BODY, "wrong_signature", id="signature-garbled"),
        pytest.param({**signed(), "webhook-signature": "v1,@@@"}, BODY, "wrong_signature", id="not-base64"),
        pytest.param({**signed(), "webhook-timestamp": "yesterday"}, BODY, "wrong_signature", id="timestamp-garbled"),
        pytest.param(signed(at=NOW - TOLERANCE_SECONDS - 1), BODY, "stale_signature", id="replayed-later"),
        pytest.param(signed(at=NOW + TOLERANCE_SECONDS + 1), BODY, "stale_signature", id="from-the-future"),
    ],
)
def test_a_delivery_not_signed_lately_by_bigcommerce_is_refused_saying_why(
    headers: dict[str, str], body: str, refused: str
) -> None:
    assert SIGNING.check(headers, body, now=NOW) == refused


def test_a_replay_is_refused_even_with_a_timestamp_moved_into_the_window() -> None:
    old = signed(at=NOW - 3_600)
    assert SIGNING.check({**old, "webhook-timestamp": str(NOW)}, BODY, now=NOW) == "wrong_signature"


class Clock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


def test_the_apps_secret_is_read_once_and_an_unreadable_one_again_later() -> None:
    clock, reads = Clock(), []

    def read() -> AppCredentials:
        reads.append(clock.now)
        if len(reads) == 1:
            raise ConfigurationError("the app's secret bcsync/s/app could not be read (ResourceNotFoundException)")
        return AppCredentials.model_validate({"client_id": "app-client-id", "client_secret": CLIENT_SECRET})

    signing = AppSigning(read, clock=clock)
    assert signing() is None
    clock.now += RETRY_UNREADABLE_SECONDS - 1
    assert signing() is None and len(reads) == 1
    clock.now += 1
    assert signing() == SIGNING
    assert signing() == SIGNING and len(reads) == 2
    assert AppSigning(None, clock=clock)() is None  # a stack that names no app secret
