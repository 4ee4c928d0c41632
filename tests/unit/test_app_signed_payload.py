"""BigCommerce's signed payloads: the one BigCommerce signed for this app is read once; every other is
refused, saying why."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from botocore.exceptions import ClientError

from bcsync.app.signed_payload import (
    LEEWAY_SECONDS,
    AppCredentials,
    DynamoJtiLedger,
    MemoryJtiLedger,
    SignedPayload,
    SignedPayloadRefused,
    verify_signed_payload,
)
from bcsync.errors import AwsUnavailableError, BcsyncError, ConfigurationError

CLIENT_ID = "app-client-id"
SECRET = "app-client-secret-" + "0123456789abcdef" * 4  # HS512 wants 64 bytes: no warning
OTHER_SECRET = "another-apps-secret-" + "0123456789abcdef" * 4
NOW = 1_800_000_000


def claims(**changes: Any) -> dict[str, Any]:
    """The claims BigCommerce's load callback carries (its documented shape)."""
    body: dict[str, Any] = {
        "aud": CLIENT_ID,
        "iss": "bc",
        "iat": NOW - 5,
        "nbf": NOW - 10,
        "exp": NOW + 86_400,
        "jti": "4e1d1f9a-1c3e-4b7a-9d4e-6f0a2c5b8e71",
        "operation": "load",
        "store_hash": "abc123",
        "sub": "stores/abc123",
        "user": {"id": 9876543, "email": "merchant@example.com", "locale": "en-US"},
        "owner": {"id": 9876543, "email": "merchant@example.com"},
        "url": "/",
        "channel_id": None,
    }
    body.update(changes)
    return {name: value for name, value in body.items() if value is not ...}


def token(key: str = SECRET, algorithm: str = "HS256", **changes: Any) -> str:
    return jwt.encode(claims(**changes), key, algorithm=algorithm)


def verify(raw: str, ledger: MemoryJtiLedger | None = None, now: float = NOW) -> SignedPayload:
    return verify_signed_payload(
        raw, client_id=CLIENT_ID, client_secret=SECRET, ledger=ledger or MemoryJtiLedger(), now=now
    )


def test_a_payload_bigcommerce_signed_for_this_app_names_its_store_and_who_opened_it() -> None:
    payload = verify(token(channel_id=1))
    assert payload == SignedPayload(
        store_hash="abc123",
        operation="load",
        user_id=9876543,
        user_email="merchant@example.com",
        owner_id=9876543,
        owner_email="merchant@example.com",
        channel_id=1,
        jti="4e1d1f9a-1c3e-4b7a-9d4e-6f0a2c5b8e71",
        expires_at=NOW + 86_400,
        url="/",
    )
    with pytest.raises(ValueError, match="frozen"):
        payload.store_hash = "other1"  # type: ignore[misc]


def _refused(raw: str, ledger: MemoryJtiLedger | None = None, now: float = NOW) -> str:
    with pytest.raises(SignedPayloadRefused) as refused:
        verify(raw, ledger, now)
    assert isinstance(refused.value, BcsyncError) and str(refused.value) == refused.value.reason
    return refused.value.reason


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        pytest.param(token(key=OTHER_SECRET), "signature does not match", id="bad-signature"),
        pytest.param(token(key=SECRET, algorithm="HS512"), "HS256", id="another-algorithm"),
        pytest.param(jwt.encode(claims(), "", algorithm="none"), "HS256", id="unsigned"),
        pytest.param(token(aud="another-app"), "for another app", id="wrong-audience"),
        pytest.param(token(iss="someone"), "not issued by BigCommerce", id="wrong-issuer"),
        pytest.param(token(exp=NOW - LEEWAY_SECONDS - 1), "expired", id="expired"),
        pytest.param(token(nbf=NOW + LEEWAY_SECONDS + 60), "not valid yet", id="not-before-in-the-future"),
        pytest.param(token(iat=NOW + LEEWAY_SECONDS + 60), "not valid yet", id="issued-in-the-future"),
        pytest.param(token(sub="stores/ABC-123"), "names no store", id="sub-not-a-store-hash"),
        pytest.param(token(sub="users/abc123"), "names no store", id="sub-not-a-store"),
        pytest.param(token(sub="stores/"), "names no store", id="sub-empty-store"),
        pytest.param(token(jti=...), "no 'jti' claim", id="no-jti"),
        pytest.param(token(exp=...), "no 'exp' claim", id="no-exp"),
        pytest.param(token(sub=...), "no 'sub' claim", id="no-sub"),
        pytest.param(token(user={"email": "x@example.com"}), "user.id is missing or invalid", id="no-user-id"),
        pytest.param(token(exp="tomorrow"), "exp is missing or invalid", id="exp-not-a-time"),
        pytest.param("not.a.jwt", "not a readable JWT", id="garbage"),
        pytest.param("", "no signed_payload_jwt", id="empty"),
    ],
)
def test_a_payload_not_signed_by_bigcommerce_for_this_app_now_is_refused_saying_why(raw: str, said: str) -> None:
    assert said in _refused(raw)


def test_times_within_the_leeway_of_our_clock_are_accepted() -> None:
    verify(token(exp=NOW - LEEWAY_SECONDS + 1, nbf=NOW + LEEWAY_SECONDS - 1, iat=NOW + LEEWAY_SECONDS - 1))


def test_a_payload_is_accepted_once_and_its_jti_is_not_spent_by_a_refused_one() -> None:
    ledger = MemoryJtiLedger()
    _refused(token(key=OTHER_SECRET), ledger)  # a forgery carrying the same jti
    _refused(token(exp=NOW - 3_600), ledger)
    raw = token()
    assert verify(raw, ledger).store_hash == "abc123"
    assert "already used" in _refused(raw, ledger)
    assert "already used" in _refused(token(operation="uninstall"), ledger)  # same jti, another token


class FakeTable:
    """A table's put_item, as DynamoDB answers it (the conditional refusal, or another fault)."""

    def __init__(self, fault: str | None = None) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.fault = fault

    def put_item(self, *, Item: dict[str, Any], ConditionExpression: str) -> None:  # noqa: N803 - boto3's
        assert ConditionExpression == "attribute_not_exists(pk)"
        if self.fault:
            raise ClientError({"Error": {"Code": self.fault, "Message": "x"}}, "PutItem")
        key = (Item["pk"], Item["sk"])
        if key in self.items:
            raise ClientError({"Error": {"Code": "ConditionalCheckFailedException", "Message": "x"}}, "PutItem")
        self.items[key] = Item


def test_the_dynamodb_ledger_claims_each_jti_once_and_keeps_it_until_its_payload_expired() -> None:
    table = FakeTable()
    ledger = DynamoJtiLedger(table)  # type: ignore[arg-type]
    assert ledger.claim("j-1", expires_at=NOW)
    assert not ledger.claim("j-1", expires_at=NOW)
    assert ledger.claim("j-2", expires_at=NOW)
    item = table.items[("APP#JTI#j-1", "JTI")]
    assert item["expires_at"] == NOW + LEEWAY_SECONDS  # accepted up to the leeway past exp: kept that long


def test_the_dynamodb_ledger_says_retry_when_dynamodb_is_unavailable() -> None:
    with pytest.raises(AwsUnavailableError, match="retry"):
        DynamoJtiLedger(FakeTable("ProvisionedThroughputExceededException")).claim("j", expires_at=NOW)  # type: ignore[arg-type]


class FakeSecrets:
    def __init__(self, answer: str | None) -> None:
        self.answer = answer

    def get_secret_value(self, *, SecretId: str) -> dict[str, str]:  # noqa: N803 - boto3's
        if self.answer is None:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "x"}}, "GetSecretValue")
        return {"SecretString": self.answer}


def test_the_apps_credentials_come_from_the_secret_the_environment_names() -> None:
    secrets = FakeSecrets(json.dumps({"client_id": CLIENT_ID, "client_secret": SECRET}))
    credentials = AppCredentials.from_env(secrets, {"BCSYNC_APP_SECRET": "arn:app"})
    assert credentials.client_id == CLIENT_ID and credentials.client_secret.get_secret_value() == SECRET
    assert SECRET not in repr(credentials)


@pytest.mark.parametrize(
    ("answer", "environ", "said"),
    [
        (None, {}, "missing or invalid BCSYNC_APP_SECRET"),
        (None, {"BCSYNC_APP_SECRET": "arn:app"}, "could not be read (ResourceNotFoundException)"),
        ("not json", {"BCSYNC_APP_SECRET": "arn:app"}, "client_id and client_secret"),
        (json.dumps({"client_id": CLIENT_ID}), {"BCSYNC_APP_SECRET": "arn:app"}, "client_id and client_secret"),
    ],
)
def test_an_app_secret_missing_or_malformed_says_what_to_fix(
    answer: str | None, environ: dict[str, str], said: str
) -> None:
    with pytest.raises(ConfigurationError, match=said.replace("(", r"\(").replace(")", r"\)")):
        AppCredentials.from_env(FakeSecrets(answer), environ)


def test_a_payload_without_an_operation_or_url_is_read_all_the_same() -> None:
    payload = verify(token(operation=..., url=...))
    assert (payload.operation, payload.url, payload.store_hash) == ("", "", "abc123")
