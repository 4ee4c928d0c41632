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
from bcsync.fulfilment.request import FULFILLMENT_REQUEST, RequestAccepted, RequestRefused
from bcsync.orders.mapping import WarehouseOrder
from bcsync.readback.mapping import ShipmentDeleted, ShipmentReadBack, StockLevelChanged
from bcsync.returns.events import RefundIssuedData, ReturnRecordedData
from bcsync.returns.inbound import RETURNS_INBOUND
from bcsync.warehouse import examples
from bcsync.warehouse.inbound import SHIPMENTS_QUEUE, STOCK_INBOUND

# One example per message (schema name → its examples), each read back through its model by a contract test.
EXAMPLES: dict[str, list[dict[str, Any]]] = {
    "event-detail": [examples.EVENT_DETAIL],
    "product-upserted.data": [examples.PRODUCT_UPSERTED],
    "product-archived.data": [examples.PRODUCT_ARCHIVED],
    "order.data": [examples.ORDER],
    "shipments-inbound": examples.SHIPMENTS_INBOUND,
    "stock-inbound": examples.STOCK_INBOUND,
    "returns-inbound": examples.RETURNS_INBOUND,
    "return-recorded.data": [examples.RETURN_RECORDED],
    "refund-issued.data": [examples.REFUND_ISSUED],
    "fulfillment-requests-inbound": examples.FULFILLMENT_REQUESTS_INBOUND,
    "fulfillment-request-accepted.data": [examples.FULFILLMENT_REQUEST_ACCEPTED],
    "fulfillment-request-refused.data": [examples.FULFILLMENT_REQUEST_REFUSED],
    "shipment-read-back.data": [examples.SHIPMENT_READ_BACK],
    "shipment-deleted.data": [examples.SHIPMENT_DELETED],
    "stock-level-changed.data": [examples.STOCK_LEVEL_CHANGED],
}


class EventDetail(BaseModel):
    """`detail` of every bcsync event on the bus; `data` or, for entries over ~200 KB, `data_ref`."""

    schema_version: int = Field(
        description="per detail-type, what `data` holds: 3 for order events, 2 for Product Archived, 1 for Product"
        " Upserted (docs/warehouse-contract.md); a field is only ever added within a version"
    )
    store_hash: str = Field(description="the BigCommerce store the event is about")
    idempotency_key: str = Field(
        description="stable for one version of one thing: the same key twice is the same event (drop the second)"
    )
    occurred_at: str = Field(description="when bcsync published it, ISO 8601 with its offset")
    data: dict[str, Any] | None = Field(default=None, description="the payload: its schema follows the detail-type")
    data_ref: dict[str, str] | None = Field(
        default=None,
        description="instead of `data` for an event over about 200 KB: {bucket, key} of an S3 object holding the"
        " data (docs/warehouse.md, reading data_ref)",
    )
    bcsync_version: str = Field(default="", description="the bcsync release that published it, e.g. 0.2.0")


# Each schema's model: what bcsync writes (a model) or reads (a model or an adapter of a union).
MODELS: dict[str, type[BaseModel] | TypeAdapter[Any]] = {
    "event-detail": EventDetail,
    "product-upserted.data": WarehouseSku,
    "product-archived.data": ArchivedSku,
    "order.data": WarehouseOrder,
    "shipments-inbound": SHIPMENTS_QUEUE,
    "stock-inbound": STOCK_INBOUND,
    # returns (bcsync.returns)
    "returns-inbound": RETURNS_INBOUND,
    "return-recorded.data": ReturnRecordedData,
    "refund-issued.data": RefundIssuedData,
    # fulfillment requests (bcsync.fulfilment)
    "fulfillment-requests-inbound": FULFILLMENT_REQUEST,
    "fulfillment-request-accepted.data": RequestAccepted,
    "fulfillment-request-refused.data": RequestRefused,
    # read back: shipments others made in BigCommerce, a source store's stock (bcsync.readback)
    "shipment-read-back.data": ShipmentReadBack,
    "shipment-deleted.data": ShipmentDeleted,
    "stock-level-changed.data": StockLevelChanged,
}


def schemas() -> dict[str, dict[str, Any]]:
    out = {}
    for name, model in MODELS.items():
        schema = model.model_json_schema() if isinstance(model, type) else model.json_schema()
        out[name] = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "examples": EXAMPLES[name]}
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
