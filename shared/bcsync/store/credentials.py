"""Store credentials: the secret `{prefix}{store_hash}`, read through Powertools parameters.

The prefix is the stack's (`bcsync/<stack name>/stores/`, `BCSYNC_SECRET_PREFIX`): two stacks in one
account never read or overwrite each other's secrets, and each role's grant covers its own prefix alone.

Reads are cached for `max_age` seconds, so a rotated token is picked up without a redeploy.
The token is a `SecretStr` from the moment it is parsed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from bcsync.errors import AwsUnavailableError, CredentialsError
from bcsync.store.settings import StoreHash

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


# Where every stack kept its secrets before each had its own prefix. Nothing reads it any more; the CLI
# names a secret still there so an operator can move or delete it (docs/operations.md).
LEGACY_SECRET_PREFIX = "bcsync/stores/"  # noqa: S105 - a name, not a secret
DEFAULT_MAX_AGE_SECONDS = 300


# Secrets Manager's answers that no retry changes: no such secret, one scheduled for deletion, a key or a
# grant that does not let this role read it. Anything else (throttling, InternalServiceError, a timeout)
# passes.
SECRET_NEVER_READABLE = frozenset(
    {"ResourceNotFoundException", "InvalidRequestException", "DecryptionFailure", "AccessDeniedException"}
)


def _error_code(error: BaseException | None) -> str:
    return str(error.response.get("Error", {}).get("Code", "")) if isinstance(error, ClientError) else ""


def stack_secret_prefix(stack_name: str) -> str:
    """The prefix template.yaml gives a stack's functions (`BCSYNC_SECRET_PREFIX`) and grants its roles."""
    return f"bcsync/{stack_name}/stores/"


def secret_name(prefix: str, store_hash: str) -> str:
    return f"{prefix}{store_hash}"


class StoreCredentials(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    store_hash: StoreHash
    client_id: str
    access_token: SecretStr
    webhook_secret: SecretStr

    def to_secret_string(self) -> str:
        return json.dumps(
            {
                "store_hash": self.store_hash,
                "client_id": self.client_id,
                "access_token": self.access_token.get_secret_value(),
                "webhook_secret": self.webhook_secret.get_secret_value(),
            }
        )


class CredentialStore:
    def __init__(
        self, *, client: SecretsManagerClient | Any, prefix: str, max_age: int = DEFAULT_MAX_AGE_SECONDS
    ) -> None:
        if not prefix.endswith("/"):
            raise ValueError(f"a secret prefix ends with '/', not {prefix!r}")
        self._client = client
        self.prefix = prefix
        self._provider = SecretsProvider(boto3_client=client)
        self._max_age = max_age

    def name(self, store_hash: str) -> str:
        return secret_name(self.prefix, store_hash)

    def get(self, store_hash: str, *, force_fetch: bool = False) -> StoreCredentials:
        name = self.name(store_hash)
        try:
            raw = self._provider.get(name, max_age=self._max_age, transform="json", force_fetch=force_fetch)
        except TransformParameterError:
            raise CredentialsError(f"store {store_hash}: secret {name} is not JSON") from None
        except GetParameterError as error:
            # Powertools wraps every SDK error in one type; what Secrets Manager said is the one it wraps.
            code = _error_code(error.__context__)
            if code in SECRET_NEVER_READABLE:
                raise CredentialsError(f"store {store_hash}: secret {name} could not be read ({code})") from None
            raise AwsUnavailableError(
                f"store {store_hash}: secret {name} not read now ({code or type(error.__context__).__name__}); retried"
            ) from None
        if not isinstance(raw, dict):
            raise CredentialsError(f"store {store_hash}: secret {name} is not a JSON object")
        try:
            credentials = StoreCredentials.model_validate(raw)
        except ValidationError as error:
            fields = ", ".join(sorted({str(issue["loc"][0]) for issue in error.errors()}))
            raise CredentialsError(f"store {store_hash}: secret {name} lacks or has an invalid {fields}") from None
        if credentials.store_hash != store_hash:
            # A message for store A must never run with store B's token.
            raise CredentialsError(f"store {store_hash}: secret {name} belongs to store {credentials.store_hash}")
        return credentials

    def put(self, credentials: StoreCredentials) -> None:
        name = self.name(credentials.store_hash)
        body = credentials.to_secret_string()
        try:
            self._client.put_secret_value(SecretId=name, SecretString=body)
        except self._client.exceptions.ResourceNotFoundException:
            self._client.create_secret(
                Name=name,
                SecretString=body,
                Description=f"bcsync: BigCommerce credentials of store {credentials.store_hash}",
            )

    def delete(self, store_hash: str) -> None:
        self._client.delete_secret(SecretId=self.name(store_hash), RecoveryWindowInDays=7)

    def legacy_secret(self, store_hash: str) -> str | None:
        """The store's secret under the prefix every stack shared before, if one is still there."""
        name = secret_name(LEGACY_SECRET_PREFIX, store_hash)
        if name == self.name(store_hash):
            return None
        try:
            found = self._client.describe_secret(SecretId=name)
        except ClientError as error:
            if _error_code(error) in SECRET_NEVER_READABLE:
                return None
            raise
        return None if found.get("DeletedDate") else name
