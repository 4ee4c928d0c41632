"""DynamoDB state of the inventory push: the warehouse's stock, what BigCommerce was given, bundles
(the orders whose stock BigCommerce has taken are `orders.in_flight`).

Each kind is one partition per store, read whole by the push (one query, paged at 1 MB), so a run
costs a handful of reads however many SKUs changed. Stock messages land in an inbox first: only the
push - one run per store at a time, under the job lease - merges them into the levels, so two
messages handled at once can never let an older level overwrite a newer one.
"""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from bcsync.inventory.sellable import Level
from bcsync.store import keys
from bcsync.store.dynamo import conditional, partition
from bcsync.warehouse.inbound import StockLevel

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


INBOX_DAYS = 14  # a message the push never merged is kept as long as SQS would have kept it
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


@dataclass(frozen=True)
class Recipe:
    """A bundle's components and when the warehouse set them, in ms as stock levels are kept (None: stored
    before recipes were dated)."""

    components: dict[str, int]
    as_of_ms: int | None


RecipeNews = Literal["newer", "repeat", "older"]


def recipe_news(stored: Recipe | None, received: Recipe) -> RecipeNews:
    """The rule of stock levels, for bundle recipes: one older than the stored one is ignored, and so is one
    as old (a repeat when it says the same; otherwise the first one stays, as for levels)."""
    if stored is None or stored.as_of_ms is None or received.as_of_ms is None or stored.as_of_ms < received.as_of_ms:
        return "newer"
    return "repeat" if stored.as_of_ms == received.as_of_ms and stored.components == received.components else "older"


class StockState:
    def __init__(self, table: Table, store_hash: str) -> None:
        self._table = table
        self._levels_pk = keys.stock_levels(store_hash)
        self._inbox_pk = keys.stock_inbox(store_hash)
        self._pushed_pk = keys.pushed(store_hash)
        self._bundles_pk = keys.bundles(store_hash)
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
                **keys.item(self._inbox_pk, key),
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

    def drop_from_inbox(self, entry_keys: list[str]) -> None:
        with self._table.batch_writer() as batch:
            for key in entry_keys:
                batch.delete_item(Key=keys.item(self._inbox_pk, key))

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
                batch.put_item(Item={**keys.item(pk, keys.bucket_sk(bucket)), "rows": body, "count": len(bucket_rows)})

    # --- bundles --------------------------------------------------------------------------------------

    def bundles(self) -> dict[str, dict[str, int]]:
        return {
            str(item["sk"]): json.loads(str(item["components"])) for item in partition(self._table, self._bundles_pk)
        }

    def bundle(self, bundle_sku: str) -> Recipe | None:
        item = self._table.get_item(Key=keys.item(self._bundles_pk, bundle_sku), ConsistentRead=True).get("Item")
        if item is None:
            return None
        as_of_ms = item.get("as_of_ms")
        return Recipe(json.loads(str(item["components"])), None if as_of_ms is None else int(str(as_of_ms)))

    def save_bundle(self, bundle_sku: str, recipe: Recipe) -> bool:
        """Keep `recipe` unless a recipe as new or newer is stored by now (two deliveries handled at once):
        False then, and the stored one stays."""
        as_of_ms = recipe.as_of_ms or 0
        return conditional(
            self._table.put_item,
            Item={
                **keys.item(self._bundles_pk, bundle_sku),
                "components": json.dumps(recipe.components, sort_keys=True),
                "as_of_ms": as_of_ms,
            },
            ConditionExpression="attribute_not_exists(as_of_ms) OR as_of_ms < :as_of",
            ExpressionAttributeValues={":as_of": as_of_ms},
        )
