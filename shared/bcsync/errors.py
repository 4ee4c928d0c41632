"""Every error bcsync's core raises, under one base, each saying what a person needs to act.

The message of each is one line for the operator: the store, what is wrong, and what to do. Errors of the
BigCommerce client (`bigcommerce_client.errors`) are the client's own hierarchy; these are bcsync's.
"""

from __future__ import annotations


class BcsyncError(Exception):
    """The base of every error bcsync raises on purpose."""


class ConfigurationError(BcsyncError):
    """The function's environment is missing or has an invalid value; the message names the variable."""


class StoreNotConnectedError(BcsyncError):
    """No store with this hash is registered (not BigCommerce's 404: the store may exist but was never
    connected with `bcsync stores connect`)."""


class InvalidSettingsError(BcsyncError):
    """Stored settings that no longer validate; the message names the store and the field."""


class CredentialsError(BcsyncError):
    """The store's secret is missing or malformed; the message names the store and the field."""


class AwsUnavailableError(BcsyncError):
    """AWS answered a read with a fault a retry may not meet (throttling, a 5xx, a timeout): the message
    that needed it is retried, never dead-lettered as never-valid."""


class ConnectError(BcsyncError):
    """Connecting a store failed: what is wrong with its token or scopes."""


class PublishError(BcsyncError):
    """Entries EventBridge kept refusing; they stay pending in the outbox and are retried by the job."""

    def __init__(self, message: str, *, failed_keys: list[str]) -> None:
        super().__init__(message)
        self.failed_keys = failed_keys


class NeverValid(BcsyncError):  # noqa: N818 - a verdict on the message, not a fault of ours
    """This message cannot succeed however often it is retried: it goes to its DLQ with this reason."""


class CliError(BcsyncError):
    """What the `bcsync` command prints, on one line, before it exits 1."""
