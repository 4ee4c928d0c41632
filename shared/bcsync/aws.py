"""The AWS clients of one function's process, made once at cold start and shared by everything in it.

One boto3 session loads each service's model and the endpoint data once; a client or resource per
caller, each from a session of its own, cost a cold start about half a second more (docs/performance.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


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

    def table(self, name: str) -> Table:
        if self._dynamodb is None:
            self._dynamodb = self.session.resource("dynamodb")
        return self._dynamodb.Table(name)  # type: ignore[no-any-return]
