"""DynamoDB state of the inventory push: the warehouse's stock, what BigCommerce was given, bundles,
and the orders whose stock BigCommerce has taken.

Each kind is one partition per store, read whole by the push (one query, paged at 1 MB), so a run
costs a handful of reads however many SKUs changed. Stock messages land in an inbox first: only the
push - one run per store at a time, under the job lease - merges them into the levels, so two
messages handled at once can never let an older level overwrite a newer one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .inbound import StockLevel
from .inventory import InFlightOrder, Level
from .state import batch_get, partition

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

INBOX_DAYS = 14  # a message the push never merged is kept as long as SQS would have kept it
SHIPPED_ORDER_DAYS = 7  # an order's stock stays in flight until a snapshot newer than its shipment
MAX_INBOX_BYTES = 350_000  # a DynamoDB item holds 400 KB
MAX_BUCKET_BYTES = 390_000
BUCKETS = 64  # 100,000 SKUs: ~1,600 a bucket, ~20 KB compressed
LevelKey = tuple[str, str]  # (sku, warehouse location)


@dataclass(frozen=True)
class InboxEntry:
    key: str
    mode: str  # full | delta
    as_of: float
    received_at: float
    items: list[tuple[str, str, int, int]]  # (sku, location, fulfillable, exception)


def _bucket(key: str) -> int:
    return zlib.crc32(key.encode()) % BUCKETS


def _bytes(value: Any) -> bytes:
    return bytes(getattr(value, "value", value))  # boto3 hands binary attributes back as Binary


def merge_snapshot(levels: dict[LevelKey, Level], entry: InboxEntry) -> set[LevelKey]:
    """Apply one stock message to `levels`; returns the keys it changed. A level older than the one
    stored for that SKU and location is ignored. A full snapshot also zeroes, at each location it
    names, every stored SKU it does not list."""
    changed: set[LevelKey] = set()
    listed: set[LevelKey] = set()
    for sku, location, fulfillable, exception in entry.items:
        key = (sku, location)
        listed.add(key)
        stored = levels.get(key)
        if stored is not None and stored.as_of >= entry.as_of:
            continue
        new = Level(fulfillable, exception, entry.as_of)
        if stored != new:
            levels[key] = new
            changed.add(key)
    if entry.mode == "full":
        locations = {location for _, location in listed}
        for key, stored in list(levels.items()):
            if key[1] in locations and key not in listed and stored.as_of < entry.as_of:
                levels[key] = Level(0, 0, entry.as_of)
                changed.add(key)
    return changed


class StockState:
    def __init__(self, table: Table, store_hash: str) -> None:
        self._table = table
        self._levels_pk = f"STORE#{store_hash}#STOCK"
        self._inbox_pk = f"STORE#{store_hash}#STOCKIN"
        self._pushed_pk = f"STORE#{store_hash}#PUSHED"
        self._bundles_pk = f"STORE#{store_hash}#BUNDLES"
        self._pushed: dict[str, tuple[int, bool]] | None = None

    # --- the inbox: stock messages not merged yet -------------------------------------------------------

    def receive(self, message: StockLevel, *, received_at: float) -> str:
        """Keep a message for the next push. Its key is its as-of time and content, so a duplicate
        delivery overwrites itself instead of adding an entry."""
        items = [[item.sku, item.location, item.fulfillable, item.exception] for item in message.items]
        raw = json.dumps(items, separators=(",", ":")).encode()
        body = zlib.compress(raw, 6)
        if len(body) > MAX_INBOX_BYTES:
            raise ValueError(f"a stock message of {len(items)} items is too large: send it in parts (mode delta)")
        as_of_ms = int(message.as_of.timestamp() * 1000)
        digest = hashlib.sha256(message.mode.encode() + raw).hexdigest()[:20]
        key = f"{as_of_ms:015d}#{digest}"
        self._table.put_item(
            Item={
                "pk": self._inbox_pk,
                "sk": key,
                "mode": message.mode,
                "as_of_ms": as_of_ms,
                "received_at": Decimal(str(round(received_at, 3))),
                "items": body,
                "expires_at": int(time.time()) + INBOX_DAYS * 86_400,
            }
        )
        return key

    def inbox(self) -> list[InboxEntry]:
        """Waiting messages, oldest as-of time first (the sort key's order)."""
        entries = []
        for item in partition(self._table, self._inbox_pk):
            data = _bytes(item["items"])
            entries.append(
                InboxEntry(
                    key=str(item["sk"]),
                    mode=str(item["mode"]),
                    as_of=int(item["as_of_ms"]) / 1000,
                    received_at=float(item["received_at"]),
                    items=[(str(s), str(loc), int(f), int(e)) for s, loc, f, e in json.loads(zlib.decompress(data))],
                )
            )
        return entries

    def drop_from_inbox(self, keys: list[str]) -> None:
        with self._table.batch_writer() as batch:
            for key in keys:
                batch.delete_item(Key={"pk": self._inbox_pk, "sk": key})

    # --- levels: the warehouse's stock per SKU and location ----------------------------------------------
    # Packed into BUCKETS compressed items per store (a SKU's bucket is a hash of it): the push reads a
    # store's whole stock in one query of a few hundred KB, and writes back only the buckets that changed.
    # Safe because the push is their one writer, under the job lease.

    def levels(self) -> dict[LevelKey, Level]:
        found: dict[LevelKey, Level] = {}
        for rows in self._buckets(self._levels_pk).values():
            for sku, location, fulfillable, exception, as_of_ms in rows:
                found[(sku, location)] = Level(int(fulfillable), int(exception), int(as_of_ms) / 1000)
        return found

    def save_levels(self, levels: dict[LevelKey, Level], keys: set[LevelKey]) -> None:
        rows = (
            (sku, [sku, location, level.fulfillable, level.exception, int(level.as_of * 1000)])
            for (sku, location), level in sorted(levels.items())
        )
        self._write_buckets(self._levels_pk, rows, touched={_bucket(sku) for sku, _ in keys})

    # --- what BigCommerce was last given, per target (`Target.key()`) -----------------------------------

    def pushed(self) -> dict[str, int]:
        self._pushed = {
            key: (int(quantity), bool(refused))
            for rows in self._buckets(self._pushed_pk).values()
            for key, quantity, refused in rows
        }
        return {key: quantity for key, (quantity, _) in self._pushed.items()}

    def save_pushed(self, quantities: dict[str, int], *, refused: bool = False) -> None:
        """`refused`: BigCommerce would not take this quantity; remembered like a pushed one, so the
        same refusal is not asked for every run (the drift check reads BigCommerce and tries again)."""
        if self._pushed is None:
            self.pushed()
        assert self._pushed is not None
        self._pushed.update({key: (quantity, refused) for key, quantity in quantities.items()})
        rows = ((key, [key, quantity, was_refused]) for key, (quantity, was_refused) in sorted(self._pushed.items()))
        self._write_buckets(self._pushed_pk, rows, touched={_bucket(key) for key in quantities})

    def _buckets(self, pk: str) -> dict[int, list[list[Any]]]:
        return {
            int(str(item["sk"]).removeprefix("B#")): json.loads(zlib.decompress(_bytes(item["rows"])))
            for item in partition(self._table, pk)
        }

    def _write_buckets(self, pk: str, rows: Iterable[tuple[str, list[Any]]], *, touched: set[int]) -> None:
        """Rewrite the `touched` buckets whole from `rows` - every row, each with the key that buckets it."""
        by_bucket: dict[int, list[list[Any]]] = {bucket: [] for bucket in touched}
        for key, row in rows:
            bucket_rows = by_bucket.get(_bucket(key))
            if bucket_rows is not None:
                bucket_rows.append(row)
        with self._table.batch_writer() as batch:
            for bucket, bucket_rows in sorted(by_bucket.items()):
                body = zlib.compress(json.dumps(bucket_rows, separators=(",", ":")).encode(), 6)
                if len(body) > MAX_BUCKET_BYTES:
                    raise ValueError(f"stock bucket {bucket} of {pk} would exceed a DynamoDB item")
                batch.put_item(Item={"pk": pk, "sk": f"B#{bucket:02d}", "rows": body, "count": len(bucket_rows)})

    # --- bundles --------------------------------------------------------------------------------------

    def bundles(self) -> dict[str, dict[str, int]]:
        return {
            str(item["sk"]): json.loads(str(item["components"])) for item in partition(self._table, self._bundles_pk)
        }

    def save_bundle(self, bundle_sku: str, components: dict[str, int]) -> None:
        self._table.put_item(
            Item={"pk": self._bundles_pk, "sk": bundle_sku, "components": json.dumps(components, sort_keys=True)}
        )


SHIPMENT_PREFIX = "shipment#"


class InFlightOrders:
    """Orders whose stock BigCommerce has taken, as order import and the tracking writeback last saw
    them: one item per order in one partition per store, so the push reads them all in one query."""

    def __init__(self, table: Table, store_hash: str, *, retention_days: int = 90) -> None:
        self._table = table
        self._pk = f"STORE#{store_hash}#INFLIGHT"
        self._retention_seconds = retention_days * 86_400

    def _key(self, order_id: int) -> dict[str, str]:
        return {"pk": self._pk, "sk": f"ORDER#{order_id}"}

    def hold(self, order_id: int, skus: dict[str, int]) -> None:
        """BigCommerce took the stock; the warehouse does not have the order (held, or not released)."""
        self._set(order_id, skus, released_at=None)

    def release(self, order_id: int, skus: dict[str, int], *, at: float) -> None:
        """The warehouse has the order from `at` (kept if it was released earlier)."""
        self._set(order_id, skus, released_at=at)

    def _set(self, order_id: int, skus: dict[str, int], *, released_at: float | None) -> None:
        names = {"#skus": "skus", "#expires": "expires_at"}
        values: dict[str, Any] = {
            ":skus": json.dumps(skus, sort_keys=True),
            ":expires": int(time.time()) + self._retention_seconds,
        }
        expression = "SET #skus = :skus, #expires = :expires"
        if released_at is not None:
            names["#released"] = "released_at"
            values[":released"] = Decimal(str(round(released_at, 3)))
            expression += ", #released = if_not_exists(#released, :released)"
        self._table.update_item(
            Key=self._key(order_id),
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def existing(self, order_ids: list[int]) -> set[int]:
        """Which of these orders are in flight: one BatchGetItem per 100."""
        items = batch_get(self._table, [self._key(order_id) for order_id in sorted(set(order_ids))])
        return {int(str(item["sk"]).removeprefix("ORDER#")) for item in items}

    def forget(self, order_id: int) -> None:
        """BigCommerce gave the stock back (cancelled, refunded, declined) or never took it."""
        self._table.delete_item(Key=self._key(order_id))

    def record_shipment(self, order_id: int, warehouse_shipment_id: str, skus: dict[str, int], *, at: float) -> None:
        """One attribute per warehouse shipment (idempotent); the record lives on a week, until every
        snapshot the warehouse sends is newer than the shipment. Nothing for an order not in flight."""
        with contextlib.suppress(self._table.meta.client.exceptions.ConditionalCheckFailedException):
            self._update_shipment(order_id, warehouse_shipment_id, skus, at)

    def _update_shipment(self, order_id: int, warehouse_shipment_id: str, skus: dict[str, int], at: float) -> None:
        self._table.update_item(
            Key=self._key(order_id),
            UpdateExpression="SET #shipment = :shipment, expires_at = :expires",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#shipment": f"{SHIPMENT_PREFIX}{warehouse_shipment_id}"},
            ExpressionAttributeValues={
                ":shipment": json.dumps({"at": round(at, 3), "skus": skus}, sort_keys=True),
                ":expires": int(time.time()) + SHIPPED_ORDER_DAYS * 86_400,
            },
        )

    def all(self) -> list[InFlightOrder]:
        orders = []
        for item in partition(self._table, self._pk):
            shipped = [json.loads(str(value)) for name, value in item.items() if name.startswith(SHIPMENT_PREFIX)]
            released = item.get("released_at")
            orders.append(
                InFlightOrder(
                    order_id=int(str(item["sk"]).removeprefix("ORDER#")),
                    skus={str(sku): int(quantity) for sku, quantity in json.loads(str(item["skus"])).items()},
                    released_at=float(released) if released is not None else None,
                    shipped=[(float(s["at"]), {str(k): int(v) for k, v in s["skus"].items()}) for s in shipped],
                )
            )
        return orders
