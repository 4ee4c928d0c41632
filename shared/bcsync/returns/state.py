"""The returns flow's records: per warehouse return, its state; per order, what came back, what bcsync refunded
on it and who handles its returns now.

A return moves noted → (refunding →) done. "refunding" is the intent, written *before* the refund `POST`:
a run that finds it - a crash, a timeout or a connection dropped after BigCommerce acted - reads the order's
refunds and looks for the return's marker before it asks BigCommerce for money again.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bcsync.store import keys
from bcsync.store.dynamo import conditional, now_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

RETURN_RECORD_DAYS = 90
RETURN_PREFIX, REFUND_PREFIX = "return#", "refund#"


@dataclass(frozen=True)
class ReturnState:
    warehouse_return_id: str
    order_id: int
    state: str  # noted | refunding | done
    refund_id: int | None = None
    refund_amount: Decimal | None = None
    no_refund: str = ""  # why no refund was made (refunds off, nothing to refund, the limit ...)


@dataclass(frozen=True)
class OrderReturns:
    """An order's returns: units back per return and line; bcsync's refunds (or intents) per return."""

    returned: dict[str, dict[int, int]] = field(default_factory=dict)
    refunded: dict[str, Decimal] = field(default_factory=dict)

    def returned_besides(self, warehouse_return_id: str) -> dict[int, int]:
        totals: dict[int, int] = {}
        for return_id, quantities in self.returned.items():
            if return_id != warehouse_return_id:
                for order_product_id, quantity in quantities.items():
                    totals[order_product_id] = totals.get(order_product_id, 0) + quantity
        return totals

    def refunded_besides(self, warehouse_return_id: str) -> Decimal:
        """What bcsync refunded on the order, or may have (an intent not settled yet counts: never past the limit)."""
        return sum((amount for rid, amount in self.refunded.items() if rid != warehouse_return_id), Decimal(0))


class ReturnLog:
    def __init__(self, table: Table, store_hash: str) -> None:
        self._table = table
        self._store_hash = store_hash

    def _expiry(self) -> int:
        return int(time.time()) + RETURN_RECORD_DAYS * 86_400

    # --- per return -------------------------------------------------------------------------------

    def get(self, warehouse_return_id: str) -> ReturnState | None:
        item = self._table.get_item(
            Key=keys.warehouse_return(self._store_hash, warehouse_return_id), ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        return ReturnState(
            warehouse_return_id=warehouse_return_id,
            order_id=int(str(item["order_id"])),
            state=str(item["state"]),
            refund_id=int(str(item["refund_id"])) if item.get("refund_id") is not None else None,
            refund_amount=Decimal(str(item["refund_amount"])) if item.get("refund_amount") is not None else None,
            no_refund=str(item.get("no_refund", "")),
        )

    def put(self, state: ReturnState) -> None:
        item: dict[str, Any] = {
            **keys.warehouse_return(self._store_hash, state.warehouse_return_id),
            "order_id": state.order_id,
            "state": state.state,
            "no_refund": state.no_refund,
            "updated_at": now_iso(),
            "expires_at": self._expiry(),
        }
        if state.refund_id is not None:
            item["refund_id"] = state.refund_id
        if state.refund_amount is not None:
            item["refund_amount"] = str(state.refund_amount)
        self._table.put_item(Item=item)

    def done(self, state: ReturnState) -> None:
        """The return settled, and its refund counted in the store's totals once: a return already done is not
        counted again (a crash between the two writes leaves it uncounted, never counted twice)."""
        item: dict[str, Any] = {
            **keys.warehouse_return(self._store_hash, state.warehouse_return_id),
            "order_id": state.order_id,
            "state": "done",
            "no_refund": state.no_refund,
            "updated_at": now_iso(),
            "expires_at": self._expiry(),
        }
        if state.refund_id is not None and state.refund_amount is not None:
            item |= {"refund_id": state.refund_id, "refund_amount": str(state.refund_amount)}
        if not conditional(
            self._table.put_item,
            Item=item,
            ConditionExpression="attribute_not_exists(pk) OR #state <> :done",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":done": "done"},
        ):
            return
        if state.refund_amount is not None and state.refund_id is not None:
            self._table.update_item(
                Key=keys.returns_totals(self._store_hash),
                UpdateExpression="ADD refunds_issued :one, refunded_amount :amount",
                ExpressionAttributeValues={":one": 1, ":amount": state.refund_amount},
            )

    def noted(self, warehouse_return_id: str, order_id: int) -> None:
        """The return is on its order (the staff note): recorded, and counted in the store's totals once."""
        if conditional(
            self._table.put_item,
            Item={
                **keys.warehouse_return(self._store_hash, warehouse_return_id),
                "order_id": order_id,
                "state": "noted",
                "no_refund": "",
                "updated_at": now_iso(),
                "expires_at": self._expiry(),
            },
            ConditionExpression="attribute_not_exists(pk)",
        ):
            self._table.update_item(
                Key=keys.returns_totals(self._store_hash),
                UpdateExpression="ADD returns_recorded :one",
                ExpressionAttributeValues={":one": 1},
            )

    def totals(self) -> tuple[int, int, Decimal]:
        """Returns recorded, refunds issued, the amount refunded."""
        item = self._table.get_item(Key=keys.returns_totals(self._store_hash)).get("Item") or {}
        return (
            int(str(item.get("returns_recorded", 0))),
            int(str(item.get("refunds_issued", 0))),
            Decimal(str(item.get("refunded_amount", 0))),
        )

    # --- per order --------------------------------------------------------------------------------

    def order(self, order_id: int) -> OrderReturns:
        item = self._table.get_item(Key=keys.order_returns(self._store_hash, order_id), ConsistentRead=True).get("Item")
        if not item:
            return OrderReturns()
        returned = {
            name.removeprefix(RETURN_PREFIX): {int(k): int(v) for k, v in json.loads(str(value)).items()}
            for name, value in item.items()
            if name.startswith(RETURN_PREFIX)
        }
        refunded = {
            name.removeprefix(REFUND_PREFIX): Decimal(str(value))
            for name, value in item.items()
            if name.startswith(REFUND_PREFIX)
        }
        return OrderReturns(returned=returned, refunded=refunded)

    def claim(self, order_id: int, owner: str, *, now: float, seconds: float) -> bool:
        """One handler of an order's returns at a time (BigCommerce takes one refund at a time per order, and
        the per-order limit must see every refund before it): False while another holds it."""
        return conditional(
            self._table.update_item,
            Key=keys.order_returns(self._store_hash, order_id),
            UpdateExpression="SET lease_owner = :owner, lease_until = :until, expires_at = :expires",
            ConditionExpression="attribute_not_exists(lease_until) OR lease_until < :now OR lease_owner = :owner",
            ExpressionAttributeValues={
                ":owner": owner,
                ":until": Decimal(str(round(now + seconds, 3))),
                ":now": Decimal(str(round(now, 3))),
                ":expires": self._expiry(),
            },
        )

    def release(self, order_id: int, owner: str) -> None:
        conditional(
            self._table.update_item,
            Key=keys.order_returns(self._store_hash, order_id),
            UpdateExpression="REMOVE lease_owner, lease_until",
            ConditionExpression="lease_owner = :owner",
            ExpressionAttributeValues={":owner": owner},
        )

    def record_return(self, order_id: int, warehouse_return_id: str, quantities: dict[int, int]) -> None:
        """One attribute per return: written twice, counted once."""
        self._table.update_item(
            Key=keys.order_returns(self._store_hash, order_id),
            UpdateExpression="SET #ret = :quantities",
            ExpressionAttributeNames={"#ret": f"{RETURN_PREFIX}{warehouse_return_id}"},
            ExpressionAttributeValues={":quantities": json.dumps({str(k): v for k, v in quantities.items()})},
        )

    def record_refund(self, order_id: int, warehouse_return_id: str, amount: Decimal) -> None:
        """The refund's amount on the order, as an intent before the `POST` and as made after."""
        self._table.update_item(
            Key=keys.order_returns(self._store_hash, order_id),
            UpdateExpression="SET #refund = :amount",
            ExpressionAttributeNames={"#refund": f"{REFUND_PREFIX}{warehouse_return_id}"},
            ExpressionAttributeValues={":amount": str(amount)},
        )

    def forget_refund(self, order_id: int, warehouse_return_id: str) -> None:
        """An intent BigCommerce refused: no money moved."""
        self._table.update_item(
            Key=keys.order_returns(self._store_hash, order_id),
            UpdateExpression="REMOVE #refund",
            ExpressionAttributeNames={"#refund": f"{REFUND_PREFIX}{warehouse_return_id}"},
        )
