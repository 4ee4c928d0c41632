"""The writeback's records: per warehouse shipment, posting then done; per order, the status move owed."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bcsync.store import keys
from bcsync.store.dynamo import conditional, now_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

SHIPMENT_RECORD_DAYS = 90


def marker(warehouse_shipment_id: str) -> str:
    """Written into the shipment's `comments`: how any later run recognises a shipment as ours."""
    return f"[bcsync shipment {warehouse_shipment_id}]"


class ShipmentLog:
    """Per warehouse shipment: posting → done, with BigCommerce's shipment id."""

    def __init__(self, table: Table, store_hash: str) -> None:
        self._table = table
        self._store_hash = store_hash

    def state(self, warehouse_shipment_id: str) -> str | None:
        item = self._table.get_item(
            Key=keys.shipment(self._store_hash, warehouse_shipment_id), ConsistentRead=True
        ).get("Item")
        return str(item["state"]) if item else None

    def posting(self, warehouse_shipment_id: str, order_id: int) -> None:
        self._table.put_item(
            Item={
                **keys.shipment(self._store_hash, warehouse_shipment_id),
                "state": "posting",
                "order_id": order_id,
                "updated_at": now_iso(),
                "expires_at": int(time.time()) + SHIPMENT_RECORD_DAYS * 86_400,
            }
        )

    def done(self, warehouse_shipment_id: str, bigcommerce_shipment_id: int) -> None:
        self._table.update_item(
            Key=keys.shipment(self._store_hash, warehouse_shipment_id),
            UpdateExpression="SET #state = :done, bigcommerce_shipment_id = :id, updated_at = :now",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":done": "done", ":id": bigcommerce_shipment_id, ":now": now_iso()},
        )


@dataclass(frozen=True)
class OwedMove:
    order_id: int
    to: int  # the BigCommerce status id
    cause: str  # what asked for it: "acknowledged", "shipment WH-1", "pickup WH-2"


class StatusMoves:
    """Per order: the status move bcsync owes BigCommerce. Written before the `PUT` and removed only once
    BigCommerce has answered it (or declined as a step back), so a message redelivered after a failed
    `PUT` finds the move still owed - even when its shipment or warehouse status is already recorded."""

    def __init__(self, table: Table, store_hash: str) -> None:
        self._table = table
        self._store_hash = store_hash

    def owe(self, order_id: int, to: int, cause: str) -> None:
        """Owe a move, unless another is owed already: one slot per order, and a later message (a late
        acknowledgement) must not erase a move an earlier one still owes (the Completed after a shipment)."""
        conditional(
            self._table.put_item,
            Item={
                **keys.status_move(self._store_hash, order_id),
                "to": to,
                "cause": cause,
                "updated_at": now_iso(),
                "expires_at": int(time.time()) + SHIPMENT_RECORD_DAYS * 86_400,
            },
            ConditionExpression="attribute_not_exists(pk) OR #to = :to",
            ExpressionAttributeNames={"#to": "to"},
            ExpressionAttributeValues={":to": to},
        )

    def owed(self, order_id: int) -> OwedMove | None:
        item = self._table.get_item(Key=keys.status_move(self._store_hash, order_id), ConsistentRead=True).get("Item")
        return OwedMove(order_id, int(str(item["to"])), str(item["cause"])) if item else None

    def made(self, order_id: int, to: int) -> None:
        """The move to `to` is settled; a later move owed since (another status) stays owed."""
        conditional(
            self._table.delete_item,
            Key=keys.status_move(self._store_hash, order_id),
            ConditionExpression="#to = :to",
            ExpressionAttributeNames={"#to": "to"},
            ExpressionAttributeValues={":to": to},
        )
