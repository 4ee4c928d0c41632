"""What bcsync knows of each order it has seen: version, content hash, lines; and the scan cursor.

One item per order (`STORE#h#ORDER#id`), so load spreads over partitions, with a TTL: the
record holds what the warehouse and the tracking writeback need, and nothing is kept longer
than the store's retention (90 days by default: orders carry personal data).
A new version is written with a condition on the version it replaces, so two runs that read
the same order never both publish the same version.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from .state import now_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

BATCH_GET_KEYS = 100


@dataclass(frozen=True)
class OrderRecord:
    order_id: int
    version: int  # 0: seen and recorded (skipped), never sent
    content_hash: str = ""
    detail_type: str = ""
    state: str = "released"  # released | cancelled | skipped
    reason: str = ""
    # order_product_id → {sku, quantity, order_address_id}: what the tracking writeback resolves against
    lines: list[dict[str, Any]] = field(default_factory=list)


def _is_conditional_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class OrderState:
    def __init__(self, table: Table, store_hash: str, *, retention_days: int = 90) -> None:
        self._table = table
        self._store_hash = store_hash
        self._retention_seconds = retention_days * 86_400

    def _key(self, order_id: int) -> dict[str, str]:
        return {"pk": f"STORE#{self._store_hash}#ORDER#{order_id}", "sk": "ORDER"}

    def get_many(self, order_ids: list[int]) -> dict[int, OrderRecord]:
        """One BatchGetItem per 100 orders, unprocessed keys retried."""
        found: dict[int, OrderRecord] = {}
        client = self._table.meta.client
        unique = sorted(set(order_ids))
        for start in range(0, len(unique), BATCH_GET_KEYS):
            # The table's client serializes and deserializes attribute values itself (boto3's resource layer).
            keys: list[dict[str, Any]] = [self._key(order_id) for order_id in unique[start : start + BATCH_GET_KEYS]]
            request: dict[str, Any] = {self._table.name: {"Keys": keys, "ConsistentRead": True}}
            while request:
                response = client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self._table.name, []):
                    record = self._record(item)
                    found[record.order_id] = record
                request = response.get("UnprocessedKeys") or {}
        return found

    def get(self, order_id: int) -> OrderRecord | None:
        item = self._table.get_item(Key=self._key(order_id), ConsistentRead=True).get("Item")
        return self._record(item) if item else None

    def put(self, record: OrderRecord, *, replaces_version: int | None) -> bool:
        """Write `record` if the stored one still has `replaces_version` (None: no record yet, or a
        skipped one). False when another run got there first."""
        if replaces_version is None or replaces_version == 0:
            condition = "attribute_not_exists(pk) OR version = :zero"
            values: dict[str, Any] = {":zero": 0}
        else:
            condition, values = "version = :expected", {":expected": replaces_version}
        try:
            self._table.put_item(
                Item={
                    **self._key(record.order_id),
                    "order_id": record.order_id,
                    "version": record.version,
                    "content_hash": record.content_hash,
                    "detail_type": record.detail_type,
                    "state": record.state,
                    "reason": record.reason,
                    "lines": json.dumps(record.lines, separators=(",", ":")),
                    "updated_at": now_iso(),
                    "expires_at": int(time.time()) + self._retention_seconds,
                },
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    @staticmethod
    def _record(item: dict[str, Any]) -> OrderRecord:
        return OrderRecord(
            order_id=int(item["order_id"]),
            version=int(item["version"]),
            content_hash=str(item.get("content_hash", "")),
            detail_type=str(item.get("detail_type", "")),
            state=str(item.get("state", "released")),
            reason=str(item.get("reason", "")),
            lines=json.loads(str(item.get("lines") or "[]")),
        )

    # --- the scan cursor ------------------------------------------------------------------------

    def _cursor_key(self) -> dict[str, str]:
        return {"pk": f"STORE#{self._store_hash}#ORDERS", "sk": "CURSOR"}

    def cursor(self) -> datetime | None:
        """Every order modified before this has been released, held, skipped or judged not ours."""
        item = self._table.get_item(Key=self._cursor_key(), ConsistentRead=True).get("Item")
        return datetime.fromisoformat(str(item["modified_until"])) if item else None

    def set_cursor(self, modified_until: datetime) -> None:
        self._table.put_item(
            Item={**self._cursor_key(), "modified_until": modified_until.isoformat(), "updated_at": now_iso()}
        )
