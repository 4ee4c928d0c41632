"""What an operator must see for a store (`bcsync status`): one item per problem."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from bcsync.store import keys
from bcsync.store.dynamo import conditional, now_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class ProblemLog:
    """What an operator must see for a store (`bcsync status`): one item per problem, newest text wins,
    kept 30 days. One partition per store, read with one query."""

    RETENTION_SECONDS = 30 * 86_400

    def __init__(self, table: Table, store_hash: str) -> None:
        self._table = table
        self._store_hash = store_hash

    def add(self, kind: str, subject: str, text: str, *, once: bool = False) -> bool:
        """True when the problem is new. `once`: one already logged stays as it is (its first time), so a
        message delivered twice is one problem, seen when it first came."""
        item: dict[str, Any] = {
            **keys.problem(self._store_hash, kind, subject),
            "kind": kind,
            "subject": subject,
            "text": text[:1000],
            "at": now_iso(),
            "expires_at": int(time.time()) + self.RETENTION_SECONDS,
        }
        if once:
            return conditional(self._table.put_item, Item=item, ConditionExpression="attribute_not_exists(pk)")
        return "Attributes" not in self._table.put_item(Item=item, ReturnValues="ALL_OLD")

    def clear(self, kind: str, subject: str) -> None:
        self._table.delete_item(Key=keys.problem(self._store_hash, kind, subject))

    def list(self) -> list[dict[str, str]]:
        items = self._table.query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": keys.problems(self._store_hash)},
            ConsistentRead=True,
        ).get("Items", [])
        return [{name: str(item[name]) for name in ("kind", "subject", "text", "at")} for item in items]
