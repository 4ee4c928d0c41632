"""Read back's DynamoDB state: each order's shipments as last read, the news webhooks bring, the scan's
cursor, and the stock levels last published.

- `STORE#h#ORDER#id` / `READBACK`: the order's shipments as last read (id -> revision, content, ours, items)
  and BigCommerce's `items_shipped` then; beside the order record, with the same retention.
- `STORE#h#READBACK` / `NEWS#ORDER#id`, `NEWS#STOCK#v<id>|p<id>`: what a webhook said changed, until a run has
  read it (deleted only if no newer delivery touched it meanwhile); `CURSOR`: the scan's.
- `STORE#h#STOCKOUT` / `B#00`..`B#63`: the level last published per item and location, in compressed
  buckets as the push keeps its own (one query reads a store's whole stock; one writer: the job, under its
  lease).
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bcsync.readback.mapping import SeenShipment, StockSeen
from bcsync.store import keys
from bcsync.store.dynamo import batch_get, conditional, now_iso, partition

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

BUCKETS = 64


def _bucket(key: str) -> int:
    return zlib.crc32(key.encode()) % BUCKETS


class ReadbackState:
    def __init__(self, table: Table, store_hash: str, *, retention_days: int = 90) -> None:
        self._table = table
        self._store_hash = store_hash
        self._retention_seconds = retention_days * 86_400

    # --- per order ------------------------------------------------------------------------------------

    def orders(self, order_ids: Iterable[int]) -> dict[int, tuple[int, dict[int, SeenShipment]]]:
        """Per order read back before: BigCommerce's `items_shipped` then, and its shipments as read."""
        wanted = [keys.readback_of_order(self._store_hash, order_id) for order_id in sorted(set(order_ids))]
        found: dict[int, tuple[int, dict[int, SeenShipment]]] = {}
        for item in batch_get(self._table, wanted):
            shipments = json.loads(str(item.get("shipments") or "{}"))
            found[int(str(item["order_id"]))] = (
                int(str(item.get("items_shipped", 0))),
                {int(k): SeenShipment.from_json(v) for k, v in shipments.items()},
            )
        return found

    def save_order(self, order_id: int, items_shipped: int, shipments: dict[int, SeenShipment]) -> None:
        self._table.put_item(
            Item={
                **keys.readback_of_order(self._store_hash, order_id),
                "order_id": order_id,
                "items_shipped": items_shipped,
                "shipments": json.dumps({str(k): v.to_json() for k, v in sorted(shipments.items())}),
                "updated_at": now_iso(),
                "expires_at": int(time.time()) + self._retention_seconds,
            }
        )

    # --- news from webhooks ----------------------------------------------------------------------------

    def note(self, subject: str, at: float) -> None:
        """A webhook's news (`NEWS#ORDER#id`, `NEWS#STOCK#v12`): kept until a run has read it."""
        self._table.update_item(
            Key=keys.item(keys.readback(self._store_hash), subject),
            UpdateExpression="SET #at = :at, expires_at = :expires",
            ExpressionAttributeNames={"#at": "at"},
            ExpressionAttributeValues={":at": str(at), ":expires": int(time.time()) + 14 * 86_400},
        )

    def news(self) -> dict[str, str]:
        """Every news item, sort key -> when it was last noted (the cursor is not news)."""
        return {
            str(item["sk"]): str(item.get("at", ""))
            for item in partition(self._table, keys.readback(self._store_hash))
            if str(item["sk"]).startswith("NEWS#")
        }

    def read(self, subject: str, at: str) -> None:
        """Done with one news item: removed unless a delivery noted it again since it was read."""
        conditional(
            self._table.delete_item,
            Key=keys.item(keys.readback(self._store_hash), subject),
            ConditionExpression="#at = :at",
            ExpressionAttributeNames={"#at": "at"},
            ExpressionAttributeValues={":at": at},
        )

    # --- the scan's cursor -----------------------------------------------------------------------------

    def cursor(self) -> datetime | None:
        item = self._table.get_item(
            Key=keys.item(keys.readback(self._store_hash), keys.READBACK_CURSOR), ConsistentRead=True
        ).get("Item")
        return datetime.fromisoformat(str(item["modified_until"])) if item else None

    def set_cursor(self, modified_until: datetime) -> None:
        self._table.put_item(
            Item={
                **keys.item(keys.readback(self._store_hash), keys.READBACK_CURSOR),
                "modified_until": modified_until.isoformat(),
            }
        )

    # --- stock last published --------------------------------------------------------------------------

    def stock(self) -> dict[str, StockSeen]:
        found: dict[str, StockSeen] = {}
        for item in partition(self._table, keys.stock_published(self._store_hash)):
            for key, on_hand, available, generation in json.loads(zlib.decompress(_bytes(item["rows"]))):
                found[str(key)] = StockSeen(int(on_hand), int(available), int(generation))
        return found

    def save_stock(self, stock: dict[str, StockSeen], touched: Iterable[str]) -> None:
        """Rewrite the buckets holding `touched` keys, whole, from `stock` (every key known)."""
        buckets: dict[int, list[list[Any]]] = {_bucket(key): [] for key in touched}
        for key, seen in sorted(stock.items()):
            rows = buckets.get(_bucket(key))
            if rows is not None:
                rows.append([key, seen.on_hand, seen.available, seen.generation])
        with self._table.batch_writer() as batch:
            for bucket, rows in sorted(buckets.items()):
                body = zlib.compress(json.dumps(rows, separators=(",", ":")).encode(), 6)
                batch.put_item(
                    Item={**keys.item(keys.stock_published(self._store_hash), keys.bucket_sk(bucket)), "rows": body}
                )


def _bytes(value: Any) -> bytes:
    return bytes(getattr(value, "value", value))  # boto3 hands binary attributes back as Binary
