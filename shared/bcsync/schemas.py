"""JSON Schemas of the warehouse contract, generated from the models that produce and read it.

`python -m bcsync.schemas docs/schemas` writes them; a contract test fails when they drift.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, TypeAdapter

from bcsync.catalog.mapping import ArchivedSku, WarehouseSku
from bcsync.orders.mapping import WarehouseOrder
from bcsync.readback.mapping import ShipmentDeleted, ShipmentReadBack, StockLevelChanged
from bcsync.warehouse.inbound import SHIPMENTS_QUEUE, STOCK_INBOUND


class EventDetail(BaseModel):
    """`detail` of every bcsync event on the bus; `data` or, for entries over ~200 KB, `data_ref`."""

    schema_version: int = Field(
        description="per detail-type: 2 for order events (`data.hold`, `Order On Hold`), 1 for product events"
    )
    store_hash: str
    idempotency_key: str
    occurred_at: str
    data: dict[str, Any] | None = None
    data_ref: dict[str, str] | None = None


def schemas() -> dict[str, dict[str, Any]]:
    adapters: dict[str, type[BaseModel] | TypeAdapter[Any]] = {
        "event-detail": EventDetail,
        "product-upserted.data": WarehouseSku,
        "product-archived.data": ArchivedSku,
        "order.data": WarehouseOrder,
        "shipments-inbound": SHIPMENTS_QUEUE,
        "stock-inbound": STOCK_INBOUND,
        # read back: shipments others made in BigCommerce, a source store's stock
        "shipment-read-back.data": ShipmentReadBack,
        "shipment-deleted.data": ShipmentDeleted,
        "stock-level-changed.data": StockLevelChanged,
    }
    out = {}
    for name, model in adapters.items():
        schema = model.model_json_schema() if isinstance(model, type) else model.json_schema()
        out[name] = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    return out


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas().items():
        path = directory / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")):
        print(path)
