"""A warehouse that speaks bcsync's contract (docs/warehouse-contract.md), for the demo and tests.

It reads `WarehouseOutbound` as a consumer should (deduplicated by idempotency key), acknowledges
every order, ships each shipment request in one package - or two, when it has more than one line -
but never an order on hold, and reports its stock as a full snapshot.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .deployment import LocalDeployment


@dataclass
class SimulatedWarehouse:
    store_hash: str
    location: str = "MAIN"
    skus: set[str] = field(default_factory=set)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)  # order id → latest data
    cancelled: set[int] = field(default_factory=set)
    shipped: set[int] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)
    duplicates: int = 0

    def receive(self, stack: LocalDeployment) -> int:
        """Every event waiting on WarehouseOutbound (one store's warehouse); returns how many were new."""
        return receive_all(stack, {self.store_hash: self})[self.store_hash]

    def take(self, event: dict[str, Any]) -> int:
        detail, kind = event["detail"], event["detail-type"]
        if detail["idempotency_key"] in self.keys:
            self.duplicates += 1
            return 0
        self.keys.add(detail["idempotency_key"])
        data = detail["data"]
        if kind == "Product Upserted":
            self.skus.add(data["sku"])
        elif kind == "Product Archived":
            self.skus.discard(data["sku"])
        elif kind == "Order Cancelled":
            self.cancelled.add(data["order_id"])
        elif kind in ("Order Ready", "Order Updated", "Order On Hold"):
            self.orders[data["order_id"]] = data
        return 1

    def _message(self, kind: str, **fields: Any) -> dict[str, Any]:
        return {"type": kind, "schema_version": 1, "store_hash": self.store_hash, **fields}

    def acknowledgements(self) -> list[dict[str, Any]]:
        return [self._message("Order Acknowledged", order_id=order_id) for order_id in sorted(self.orders)]

    def ship_all(self) -> list[dict[str, Any]]:
        """One `Shipment Confirmed` per package of every order not shipped or cancelled yet."""
        messages = []
        for order_id, order in sorted(self.orders.items()):
            if order_id in self.shipped or order_id in self.cancelled or order.get("hold"):
                continue  # an order on hold waits for its next version (`hold: null`)
            self.shipped.add(order_id)
            for n, request in enumerate(order["shipments"]):
                lines = [{"order_product_id": line["order_product_id"], "quantity": line["quantity"]}
                         for line in request["lines"] if line["quantity"] > 0]  # fmt: skip
                if not lines:
                    continue
                if request["pickup"]:
                    messages.append(self._shipment(order_id, f"{n}P", lines, request, pickup=True))
                    continue
                packages = _packages(lines)
                messages += [
                    self._shipment(order_id, f"{n}{chr(65 + p)}", package, request)
                    for p, package in enumerate(packages)
                ]
        return messages

    def _shipment(
        self, order_id: int, suffix: str, lines: list[dict[str, Any]], request: dict[str, Any], *, pickup: bool = False
    ) -> dict[str, Any]:
        carrier = "UPS" if order_id % 2 else "FedEx"
        return self._message(
            "Shipment Confirmed",
            order_id=order_id,
            warehouse_shipment_id=f"WH-{order_id}-{suffix}",
            tracking_number="" if pickup else f"1Z{order_id:010d}{suffix}",
            carrier="" if pickup else carrier,
            service="" if pickup else "Ground",
            lines=lines,
            order_address_id=request["order_address_id"],
            pickup=pickup,
        )

    def stock(self, as_of: float) -> dict[str, Any]:
        """A full snapshot of every SKU it holds: a number per SKU that anyone can recompute (crc32)."""
        return self._message(
            "Stock Level",
            as_of=datetime.fromtimestamp(as_of, tz=UTC).isoformat(),
            mode="full",
            items=[
                {"sku": sku, "location": self.location, "fulfillable": self.on_hand(sku), "exception": 0}
                for sku in sorted(self.skus)
            ],
        )

    @staticmethod
    def on_hand(sku: str) -> int:
        return zlib.crc32(sku.encode()) % 40


def _packages(lines: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Two packages when there is more than one line, or one line of more than one unit (split by quantity:
    what is left to ship after the first is what a second, wrongly repeated POST could still take)."""
    if len(lines) > 1:
        return [lines[: len(lines) // 2], lines[len(lines) // 2 :]]
    (line,) = lines
    if line["quantity"] > 1:
        return [[{**line, "quantity": 1}], [{**line, "quantity": line["quantity"] - 1}]]
    return [lines]


def receive_all(stack: LocalDeployment, warehouses: dict[str, SimulatedWarehouse]) -> dict[str, int]:
    """Every event waiting on WarehouseOutbound, each to its store's warehouse: new events per store."""
    new = dict.fromkeys(warehouses, 0)
    for message in stack.take_messages("WarehouseOutbound"):
        event = json.loads(message["Body"])
        warehouse = warehouses.get(event["detail"]["store_hash"])
        if warehouse is None:
            raise ValueError(f"an event for store {event['detail']['store_hash']}, which no warehouse serves")
        new[warehouse.store_hash] += warehouse.take(event)
    return new
