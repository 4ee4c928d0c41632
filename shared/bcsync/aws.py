"""The AWS clients of one function's process, made once at cold start and shared by everything in it.

One boto3 session loads each service's model and the endpoint data once; a client or resource per
caller, each from a session of its own, cost a cold start about half a second more (docs/performance.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_dynamodb.service_resource import Table


# What X-Ray traces: the AWS calls (botocore) and BigCommerce's (requests). Patching every library
# X-Ray supports imports some no function uses, at every cold start.
TRACED_MODULES = ("botocore", "requests")


class _MadeWhenUsed:
    """A client made on its first use: for one most invocations never need."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            self._client = self._make()
        return getattr(self._client, name)


class AwsClients:
    """One session; each client, and the DynamoDB resource, made on first request and kept."""

    def __init__(self, session: boto3.session.Session | None = None) -> None:
        self.session = session or boto3.session.Session()
        self._clients: dict[str, Any] = {}
        self._dynamodb: Any = None

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)  # type: ignore[call-overload]
        return self._clients[service]

    def client_when_used(self, service: str) -> Any:
        """The client, made on its first call rather than at cold start (S3 holds only the events too
        large for EventBridge: most invocations never call it)."""
        return _MadeWhenUsed(lambda: self.client(service))

    def table(self, name: str) -> Table:
        if self._dynamodb is None:
            self._dynamodb = self.session.resource("dynamodb")
        return self._dynamodb.Table(name)  # type: ignore[no-any-return]
