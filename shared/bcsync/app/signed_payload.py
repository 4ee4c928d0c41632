"""BigCommerce's `signed_payload_jwt`: verified, or refused with a reason a person can act on.

BigCommerce calls the app's load, uninstall and remove-user callbacks with a JWT signed (HS256) with the
app's client secret. Its claims: `aud` the app's client id, `iss` "bc", `iat`, `nbf`, `exp`, `jti`,
`sub` "stores/{store_hash}", `user` {id, email, locale}, `owner` {id, email}, `url` and `channel_id`
(null outside a channel); an `operation`, when there is one, is passed on, but which callback was called
is the route's to say, not the token's. PyJWT checks the signature, the algorithm, the audience, the issuer
and that every claim is there; the times are checked here against `now`, because the local runtime and
the tests run on a virtual clock and PyJWT reads the wall clock. The `jti` is claimed last, so a token
refused for any other reason never uses up its id.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import jwt
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from bcsync.errors import AwsUnavailableError, BcsyncError, ConfigurationError
from bcsync.store import keys
from bcsync.store.dynamo import conditional
from bigcommerce_client import validate_store_hash

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_secretsmanager import SecretsManagerClient


ISSUER = "bc"
ALGORITHMS = ["HS256"]  # never "none", never an algorithm the token itself names
# Seconds of clock difference between BigCommerce and us that exp, nbf and iat tolerate.
LEEWAY_SECONDS = 30
REQUIRED_CLAIMS = ["aud", "iss", "iat", "nbf", "exp", "jti", "sub", "user", "owner"]
# The app's secret, by name or ARN (the template's `bcsync/<stack>/app`).
APP_SECRET_ENV = "BCSYNC_APP_SECRET"  # noqa: S105 - the name of a variable, not a secret


def app_secret_name(stack_name: str) -> str:
    """Where a stack keeps its app's client id and secret: beside its store secrets, never under their
    prefix, so no role that reads a store's token can read the app's secret."""
    return f"bcsync/{stack_name}/app"


class SignedPayloadRefused(BcsyncError):  # noqa: N818 - a verdict on the request, not a fault of ours
    """A signed payload that is not BigCommerce's, not for this app, not for now, or already used."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignedPayload(BaseModel):
    """What a verified signed payload says: which store, which operation, who opened it."""

    model_config = ConfigDict(frozen=True)

    store_hash: str
    operation: str  # "" when the token names none
    user_id: int
    user_email: str
    owner_id: int
    owner_email: str
    channel_id: int | None
    jti: str
    expires_at: int
    url: str = ""  # the app path BigCommerce was asked to open (load), "" when it names none


class JtiLedger(Protocol):
    def claim(self, jti: str, *, expires_at: int) -> bool:
        """True the first time `jti` is claimed, False every time after."""
        ...


class MemoryJtiLedger:
    """A ledger in this process's memory: for tests and the operator's own console."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def claim(self, jti: str, *, expires_at: int) -> bool:
        if jti in self._seen:
            return False
        self._seen[jti] = expires_at
        return True


class DynamoJtiLedger:
    """Each jti a conditional put into the state table; the item expires (TTL) once its payload has.

    The item outlives the payload by the leeway, because a payload is accepted for that long past its
    `exp`; DynamoDB removes expired items late, never early, but a claim must not depend on that."""

    def __init__(self, table: Table, *, leeway_seconds: int = LEEWAY_SECONDS) -> None:
        self._table = table
        self._leeway = leeway_seconds

    def claim(self, jti: str, *, expires_at: int) -> bool:
        try:
            return conditional(
                self._table.put_item,
                Item={**keys.app_jti(jti), "expires_at": expires_at + self._leeway},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            raise AwsUnavailableError(
                f"the app's signed payload {jti} could not be recorded now ({code}); retry"
            ) from None


class AppCredentials(BaseModel):
    """The app's client id and secret, from BigCommerce's Developer Portal, kept in Secrets Manager."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    client_id: str = Field(min_length=1)
    client_secret: SecretStr = Field(min_length=1)

    @classmethod
    def from_secret(cls, client: SecretsManagerClient | Any, secret_id: str) -> AppCredentials:
        """The secret's JSON `{"client_id": ..., "client_secret": ...}`; ConfigurationError naming what
        is missing otherwise."""
        try:
            raw = client.get_secret_value(SecretId=secret_id)["SecretString"]
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            raise ConfigurationError(f"the app's secret {secret_id} could not be read ({code})") from None
        try:
            return cls.model_validate(json.loads(raw))
        except (ValueError, ValidationError):
            raise ConfigurationError(
                f"the app's secret {secret_id} is not JSON with the app's client_id and client_secret"
                " (BigCommerce's Developer Portal, the app's credentials)"
            ) from None

    @classmethod
    def from_env(cls, client: SecretsManagerClient | Any, environ: Mapping[str, str] | None = None) -> AppCredentials:
        env = os.environ if environ is None else environ
        secret_id = env.get(APP_SECRET_ENV, "")
        if not secret_id:
            raise ConfigurationError(f"bcsync is not configured: missing or invalid {APP_SECRET_ENV}")
        return cls.from_secret(client, secret_id)


class _User(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int
    email: str = ""


class _Claims(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sub: str
    operation: str = ""
    jti: str = Field(min_length=1)
    iat: int
    nbf: int
    exp: int
    user: _User
    owner: _User
    channel_id: int | None = None
    url: str = ""


_REOPEN = "open the app again from the store's control panel"


def verify_signed_payload(
    token: str, *, client_id: str, client_secret: str, ledger: JtiLedger, now: float | None = None
) -> SignedPayload:
    """The payload BigCommerce signed for this app, once; SignedPayloadRefused saying why otherwise."""
    if not token:
        raise SignedPayloadRefused(f"no signed_payload_jwt in the request: {_REOPEN}")
    try:
        decoded: dict[str, Any] = jwt.decode(
            token,
            key=client_secret,
            algorithms=ALGORITHMS,
            audience=client_id,
            issuer=ISSUER,
            options={"require": REQUIRED_CLAIMS, "verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )
    except jwt.InvalidSignatureError:
        raise SignedPayloadRefused(
            "the signed payload's signature does not match the app's client secret: it was not signed by"
            " BigCommerce for this app, or the app's secret holds another app's client secret"
        ) from None
    except jwt.InvalidAlgorithmError:
        raise SignedPayloadRefused("the signed payload is not signed with HS256, as BigCommerce signs it") from None
    except jwt.InvalidAudienceError:
        raise SignedPayloadRefused(
            f"the signed payload is for another app (its audience is not this app's client id {client_id}):"
            " check the client id in the app's secret"
        ) from None
    except jwt.InvalidIssuerError:
        raise SignedPayloadRefused(
            f"the signed payload was not issued by BigCommerce (iss is not {ISSUER!r})"
        ) from None
    except jwt.MissingRequiredClaimError as error:
        raise SignedPayloadRefused(f"the signed payload has no {error.claim!r} claim: {_REOPEN}") from None
    except jwt.InvalidTokenError:
        raise SignedPayloadRefused(f"the signed payload is not a readable JWT: {_REOPEN}") from None
    try:
        claims = _Claims.model_validate(decoded)
    except ValidationError as error:
        fields = ", ".join(sorted({".".join(str(part) for part in issue["loc"]) for issue in error.errors()}))
        raise SignedPayloadRefused(f"the signed payload's {fields} is missing or invalid: {_REOPEN}") from None
    moment = time.time() if now is None else now
    if claims.exp <= moment - LEEWAY_SECONDS:
        raise SignedPayloadRefused(f"the signed payload expired {int(moment - claims.exp)} s ago: {_REOPEN}")
    if claims.nbf > moment + LEEWAY_SECONDS or claims.iat > moment + LEEWAY_SECONDS:
        raise SignedPayloadRefused(
            "the signed payload is not valid yet (its nbf or iat is in the future): check this system's clock"
        )
    store_hash = claims.sub.removeprefix("stores/")
    try:
        if not claims.sub.startswith("stores/"):
            raise ValueError(claims.sub)
        validate_store_hash(store_hash)
    except ValueError:
        raise SignedPayloadRefused(f"the signed payload's sub {claims.sub!r} names no store (stores/<hash>)") from None
    if not ledger.claim(claims.jti, expires_at=claims.exp):
        raise SignedPayloadRefused(f"the signed payload was already used (jti {claims.jti}): {_REOPEN}")
    return SignedPayload(
        store_hash=store_hash,
        operation=claims.operation,
        user_id=claims.user.id,
        user_email=claims.user.email,
        owner_id=claims.owner.id,
        owner_email=claims.owner.email,
        channel_id=claims.channel_id,
        jti=claims.jti,
        expires_at=claims.exp,
        url=claims.url,
    )
