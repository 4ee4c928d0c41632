"""Per fulfillment request: its content hash, the intent written before the create, BigCommerce's order id."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bcsync.fulfilment.decide import FulfilmentRecord
from bcsync.store import keys
from bcsync.store.dynamo import conditional, now_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

REQUEST_RECORD_DAYS = 90  # as long as the order records: a late redelivery still finds its order


class FulfilmentState:
    def __init__(self, table: Table, store_hash: str, *, retention_days: int = REQUEST_RECORD_DAYS) -> None:
        self._table = table
        self._store_hash = store_hash
        self._retention_seconds = retention_days * 86_400

    def get(self, request_id: str) -> FulfilmentRecord | None:
        item = self._table.get_item(Key=keys.fulfilment_request(self._store_hash, request_id), ConsistentRead=True).get(
            "Item"
        )
        if item is None:
            return None
        return FulfilmentRecord(
            request_id=request_id,
            content_hash=str(item["content_hash"]),
            state="created" if item["state"] == "created" else "creating",
            order_id=int(str(item.get("order_id", 0))),
            customer_id=int(str(item.get("customer_id", 0))),
        )

    def intend(self, request_id: str, content_hash: str) -> bool:
        """The intent, before any write to BigCommerce: False when the id is already recorded (another
        delivery got there first, perhaps with other content)."""
        return conditional(
            self._table.put_item,
            Item={
                **keys.fulfilment_request(self._store_hash, request_id),
                "content_hash": content_hash,
                "state": "creating",
                "updated_at": now_iso(),
                "expires_at": int(time.time()) + self._retention_seconds,
            },
            ConditionExpression="attribute_not_exists(pk)",
        )

    def customer_created(self, request_id: str, customer_id: int) -> None:
        """A customer this request made: a retry uses it, and a refusal says it was left."""
        self._table.update_item(
            Key=keys.fulfilment_request(self._store_hash, request_id),
            UpdateExpression="SET customer_id = :id, updated_at = :now",
            ExpressionAttributeValues={":id": customer_id, ":now": now_iso()},
        )

    def created(self, request_id: str, order_id: int) -> None:
        self._table.update_item(
            Key=keys.fulfilment_request(self._store_hash, request_id),
            UpdateExpression="SET #state = :created, order_id = :id, updated_at = :now",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":created": "created", ":id": order_id, ":now": now_iso()},
        )

    def forget(self, request_id: str) -> None:
        """BigCommerce refused the create: no order exists, so a corrected redrive may try again."""
        self._table.delete_item(Key=keys.fulfilment_request(self._store_hash, request_id))
