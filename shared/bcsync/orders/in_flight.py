"""Orders whose stock BigCommerce has taken and the warehouse's snapshot may not count yet.

Written by order import (released, held, committed) and the tracking writeback (shipped); read by the
inventory push, which subtracts what they hold."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bcsync.store import keys
from bcsync.store.dynamo import batch_get, conditional, partition

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


@dataclass
class InFlightOrder:
    """An order BigCommerce has taken stock for, as bcsync last saw it."""

    order_id: int
    skus: dict[str, int]  # quantity per SKU, net of refunds
    released_at: float | None  # None: the warehouse does not have it (held, or not in a release status)
    shipped: list[tuple[float, dict[str, int]]] = field(default_factory=list)  # (when, quantity per SKU)

    def uncounted(self, sku: str, as_of: float) -> int:
        """How much of `sku` this order holds that a warehouse snapshot taken at `as_of` still counts
        as fulfillable."""
        if self.released_at is not None and self.released_at <= as_of:
            return 0  # the warehouse had the order: its snapshot already set this stock aside
        shipped = sum(quantities.get(sku, 0) for at, quantities in self.shipped if at <= as_of)
        return max(self.skus.get(sku, 0) - shipped, 0)


SHIPPED_ORDER_DAYS = 7  # an order's stock stays in flight until a snapshot newer than its shipment


SHIPMENT_PREFIX = "shipment#"


class InFlightOrders:
    """Orders whose stock BigCommerce has taken, as order import and the tracking writeback last saw
    them: one item per order in one partition per store, so the push reads them all in one query."""

    def __init__(self, table: Table, store_hash: str, *, retention_days: int = 90) -> None:
        self._table = table
        self._store_hash = store_hash
        self._retention_seconds = retention_days * 86_400

    def _key(self, order_id: int) -> keys.Key:
        return keys.in_flight_order(self._store_hash, order_id)

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
        return {keys.order_of(str(item["sk"])) for item in items}

    def forget(self, order_id: int) -> None:
        """BigCommerce gave the stock back (cancelled, refunded, declined) or never took it."""
        self._table.delete_item(Key=self._key(order_id))

    def record_shipment(self, order_id: int, warehouse_shipment_id: str, skus: dict[str, int], *, at: float) -> None:
        """One attribute per warehouse shipment (idempotent); the record lives on a week, until every
        snapshot the warehouse sends is newer than the shipment. Nothing for an order not in flight."""
        conditional(
            self._table.update_item,
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
        for item in partition(self._table, keys.in_flight(self._store_hash)):
            shipped = [json.loads(str(value)) for name, value in item.items() if name.startswith(SHIPMENT_PREFIX)]
            released = item.get("released_at")
            orders.append(
                InFlightOrder(
                    order_id=keys.order_of(str(item["sk"])),
                    skus={str(sku): int(quantity) for sku, quantity in json.loads(str(item["skus"])).items()},
                    released_at=float(released) if released is not None else None,
                    shipped=[(float(s["at"]), {str(k): int(v) for k, v in s["skus"].items()}) for s in shipped],
                )
            )
        return orders
