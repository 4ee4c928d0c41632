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
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bcsync.orders.mapping import WarehouseOrder
from bcsync.store import keys
from bcsync.store.dynamo import batch_get, conditional, now_iso, partition

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


SHIPMENT_PREFIX = "shipment#"


def packed(text: str) -> bytes:
    """JSON an order item holds, zlib-compressed: an order's lines or snapshot stay far under DynamoDB's
    400 KB item limit (3,000 lines are about 270 KB as JSON and 25 KB packed), where JSON would not."""
    return zlib.compress(text.encode(), 6)


def unpacked(value: Any) -> str:
    """What `packed` stored; an item written before packing holds the JSON as a string."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return zlib.decompress(bytes(getattr(value, "value", value))).decode()  # boto3 reads binary as Binary


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
    # warehouse shipment id → {order_product_id: quantity} bcsync wrote back (one attribute each: idempotent)
    shipments: dict[str, dict[int, int]] = field(default_factory=dict)
    warehouse_status: str = ""  # acknowledged | rejected | backordered, as the warehouse last said
    warehouse_reason: str = ""

    def line(self, order_product_id: int) -> dict[str, Any] | None:
        return next((line for line in self.lines if line["order_product_id"] == order_product_id), None)

    def shipped_by_bcsync(self) -> dict[int, int]:
        """Units of each line bcsync wrote back to BigCommerce, over every shipment."""
        shipped: dict[int, int] = {}
        for quantities in self.shipments.values():
            for order_product_id, quantity in quantities.items():
                shipped[order_product_id] = shipped.get(order_product_id, 0) + quantity
        return shipped

    def unshipped(self, order_product_id: int, *, besides: str | None = None) -> int:
        """What is left to ship of a line, counting every shipment written back but `besides`."""
        line = self.line(order_product_id)
        if line is None:
            return 0
        shipped = sum(q.get(order_product_id, 0) for wsid, q in self.shipments.items() if wsid != besides)
        return int(line["quantity"]) - shipped


def record_of(built: WarehouseOrder, version: int, detail_type: str) -> OrderRecord:
    """The record of a version bcsync sends: its hash, and the lines the writeback resolves shipments against."""
    return OrderRecord(
        order_id=built.order_id,
        version=version,
        content_hash=built.content_hash(),
        detail_type=detail_type,
        state="cancelled" if built.cancelled else "released",
        lines=[
            {
                "order_product_id": line.order_product_id,
                "sku": line.sku,
                "quantity": line.quantity,
                "order_address_id": shipment.order_address_id,
            }
            for shipment in built.shipments
            for line in shipment.lines
        ],
    )


class OrderState:
    def __init__(self, table: Table, store_hash: str, *, retention_days: int = 90) -> None:
        self._table = table
        self._store_hash = store_hash
        self._retention_seconds = retention_days * 86_400

    def _key(self, order_id: int) -> keys.Key:
        return keys.order(self._store_hash, order_id)

    def get_many(self, order_ids: list[int]) -> dict[int, OrderRecord]:
        items = batch_get(self._table, [self._key(order_id) for order_id in sorted(set(order_ids))])
        return {record.order_id: record for record in map(self._record, items)}

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
        fields = {
            "order_id": record.order_id,
            "version": record.version,
            "content_hash": record.content_hash,
            "detail_type": record.detail_type,
            "state": record.state,
            "reason": record.reason,
            "lines": packed(json.dumps(record.lines, separators=(",", ":"))),
            "updated_at": now_iso(),
            "expires_at": int(time.time()) + self._retention_seconds,
        }
        # An update, not a put: what the writeback and the warehouse recorded on the order stays.
        return conditional(
            self._table.update_item,
            Key=self._key(record.order_id),
            UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in fields),
            ConditionExpression=condition,
            ExpressionAttributeNames={f"#{name}": name for name in fields},
            ExpressionAttributeValues=values | {f":{name}": value for name, value in fields.items()},
        )

    def record_shipment(self, order_id: int, warehouse_shipment_id: str, quantities: dict[int, int]) -> bool:
        """One attribute per warehouse shipment: writing it twice counts it once, and two shipments of
        one order written at once do not overwrite each other. False when the record is gone (expired since
        it was read): no item of a shipment alone is made, which no later read could parse."""
        return conditional(
            self._table.update_item,
            Key=self._key(order_id),
            UpdateExpression="SET #shipment = :quantities",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#shipment": f"{SHIPMENT_PREFIX}{warehouse_shipment_id}"},
            ExpressionAttributeValues={":quantities": json.dumps({str(k): v for k, v in quantities.items()})},
        )

    def forget_shipment(self, order_id: int, warehouse_shipment_id: str) -> None:
        """A shipment recorded before its `POST` that BigCommerce then refused: it never happened."""
        self._table.update_item(
            Key=self._key(order_id),
            UpdateExpression="REMOVE #shipment",
            ExpressionAttributeNames={"#shipment": f"{SHIPMENT_PREFIX}{warehouse_shipment_id}"},
        )

    def set_warehouse_status(self, order_id: int, status: str, reason: str = "") -> bool:
        """False when the record is gone (expired since it was read); any other error is raised (retried)."""
        return conditional(
            self._table.update_item,
            Key=self._key(order_id),
            UpdateExpression="SET warehouse_status = :status, warehouse_reason = :reason, updated_at = :now",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":status": status, ":reason": reason, ":now": now_iso()},
        )

    @staticmethod
    def _record(item: dict[str, Any]) -> OrderRecord:
        return OrderRecord(
            order_id=int(item["order_id"]),
            version=int(item["version"]),
            content_hash=str(item.get("content_hash", "")),
            detail_type=str(item.get("detail_type", "")),
            state=str(item.get("state", "released")),
            reason=str(item.get("reason", "")),
            lines=json.loads(unpacked(item.get("lines")) or "[]"),
            shipments={
                name.removeprefix(SHIPMENT_PREFIX): {int(k): int(v) for k, v in json.loads(str(value)).items()}
                for name, value in item.items()
                if name.startswith(SHIPMENT_PREFIX)
            },
            warehouse_status=str(item.get("warehouse_status", "")),
            warehouse_reason=str(item.get("warehouse_reason", "")),
        )

    # --- the scan cursor ------------------------------------------------------------------------

    def cursor(self) -> datetime | None:
        """Every order modified before this has been released, held, skipped or judged not ours."""
        item = self._table.get_item(Key=keys.order_cursor(self._store_hash), ConsistentRead=True).get("Item")
        return datetime.fromisoformat(str(item["modified_until"])) if item else None

    def set_cursor(self, modified_until: datetime) -> None:
        self._table.put_item(
            Item={
                **keys.order_cursor(self._store_hash),
                "modified_until": modified_until.isoformat(),
                "updated_at": now_iso(),
            }
        )


@dataclass(frozen=True)
class HeldOrder:
    order_id: int
    release_at: datetime
    snapshot: str  # the warehouse order (JSON) as last read: released as is unless the order changes


class HeldOrders:
    """A store's held orders in one partition, so each run's sweep is one query. The snapshot makes the
    release free of BigCommerce calls: an order that changes meanwhile is read again by the scan,
    which refreshes (or withdraws) its snapshot."""

    def __init__(self, table: Table, store_hash: str, *, retention_days: int = 90) -> None:
        self._table = table
        self._store_hash = store_hash
        self._retention_seconds = retention_days * 86_400

    def hold(self, order_id: int, release_at: datetime, snapshot: str) -> None:
        """The snapshot holds personal data (name, e-mail, phone, street): it expires with the order's
        held record (the store's retention), never sooner, so a release that is late is still made."""
        self._table.put_item(
            Item={
                **keys.held_order(self._store_hash, order_id),
                "order_id": order_id,
                "release_at": release_at.isoformat(),
                "snapshot": packed(snapshot),
                "expires_at": int(time.time()) + self._retention_seconds,
            }
        )

    def withdraw(self, order_id: int) -> None:
        self._table.delete_item(Key=keys.held_order(self._store_hash, order_id))

    def release_now(self, order_id: int, now: datetime) -> bool:
        """Brings a held order's release forward to `now` (the merchant's *release now*): order import's
        next run sends it. False when it is not held (released or withdrawn meanwhile)."""
        return conditional(
            self._table.update_item,
            Key=keys.held_order(self._store_hash, order_id),
            UpdateExpression="SET release_at = :now",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":now": now.isoformat()},
        )

    def all(self) -> list[HeldOrder]:
        return [
            HeldOrder(
                int(str(item["order_id"])), datetime.fromisoformat(str(item["release_at"])), unpacked(item["snapshot"])
            )
            for item in partition(self._table, keys.held_orders(self._store_hash))
        ]
