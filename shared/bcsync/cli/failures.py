"""What `bcsync` says, in one line and with its own exit code, when AWS cannot be reached as asked.

A traceback tells an operator nothing they can act on; each of these says what to do. The codes are
documented in `bcsync --help` and docs/operations.md ("Exit codes"), so scripts can tell them apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from bcsync.cli.common import StackNotFoundError

OK = 0
FAILED = 1  # the command could not do its work: the line says why (a store, a setting, BigCommerce, AWS)
USAGE = 2  # argparse's own: a bad option or argument
NO_REGION = 3
NO_CREDENTIALS = 4
STACK_NOT_FOUND = 5
ACCESS_DENIED = 6

EXIT_CODES = {
    OK: "done",
    FAILED: "the command failed; the line on stderr says why",
    USAGE: "a bad option or argument",
    NO_REGION: "no AWS region: give --region or set one in the profile",
    NO_CREDENTIALS: "no usable AWS credentials (none, unknown profile, expired or invalid)",
    STACK_NOT_FOUND: "the stack is not deployed in that account and region",
    ACCESS_DENIED: "AWS refused the call: the identity lacks a permission",
}

# AWS's codes for a token it does not accept (as opposed to a permission the identity lacks).
BAD_CREDENTIAL_CODES = {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException"}


@dataclass(frozen=True)
class Failure:
    code: int
    line: str


def explain(error: BaseException) -> Failure | None:
    """The exit code and the one line for an AWS error; None for an error that is not AWS's."""
    if isinstance(error, StackNotFoundError):
        return Failure(STACK_NOT_FOUND, str(error))
    if isinstance(error, NoRegionError):
        return Failure(NO_REGION, "no AWS region: give --region REGION, or set `region` in your AWS profile")
    if isinstance(error, ProfileNotFound):
        profile = error.kwargs.get("profile", "")
        return Failure(NO_CREDENTIALS, f"no AWS profile {profile}: name one of ~/.aws/config's profiles with --profile")
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return Failure(
            NO_CREDENTIALS,
            "no AWS credentials found: give --profile NAME (after `aws configure` or `aws sso login`), "
            "or run where AWS credentials are set",
        )
    if isinstance(error, EndpointConnectionError):
        return Failure(FAILED, f"cannot reach AWS ({error}): check the network and --region")
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code, message = str(details.get("Code", "")), str(details.get("Message", ""))
        operation = error.operation_name
        if code in BAD_CREDENTIAL_CODES:
            return Failure(
                NO_CREDENTIALS, f"AWS did not accept the credentials ({code}): log in again or give --profile"
            )
        if code.startswith("AccessDenied") or code in {"UnauthorizedOperation", "AuthorizationError"}:
            return Failure(
                ACCESS_DENIED,
                f"access denied to {operation}: the AWS identity in use lacks that permission ({message}); "
                "use a profile allowed to operate this stack (--profile)",
            )
        return Failure(FAILED, f"AWS refused {operation}: {code}: {message}")
    if isinstance(error, BotoCoreError):
        return Failure(FAILED, f"AWS: {error}")
    return None
