"""Read back, the pure part: which shipments are news for the warehouse, what each event says, and which
stock levels changed. No I/O: `tests/unit/test_readback_decide.py` holds a row for each rule.

A shipment is bcsync's own when its `comments` carry the writeback's marker (`[bcsync shipment <id>]`).
The marker travels in the `POST` itself, so a `store/shipment/created` webhook that arrives before the
writeback recorded BigCommerce's shipment id - or a scan that lists the order between the `POST` and that
record - still sees it; a shipment once seen as ours stays ours (a merchant editing its comments later
never turns it into news).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bcsync.shipments.state import marker
from bigcommerce_client.models import InventoryItem, Shipment

OURS_PREFIX = marker("")[:-1]  # "[bcsync shipment "


def is_bcsyncs(shipment: Shipment) -> bool:
    return OURS_PREFIX in (shipment.comments or "")


# --- what the warehouse is told (docs/warehouse-contract.md; the JSON Schemas are generated from these) -----


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShippedLine(_Contract):
    order_product_id: int = Field(description="BigCommerce's order line id, as in the order event's lines")
    sku: str = Field(description="empty when the line is not one bcsync knows")
    product_id: int | None = Field(default=None, description="the BigCommerce product of the line")
    variant_id: int | None = Field(default=None, description="the BigCommerce variant of the line")
    quantity: int = Field(description="units of the line in this shipment")


class LineLeft(_Contract):
    """One line of the order after every shipment BigCommerce has (anyone's): what the warehouse still ships."""

    order_product_id: int = Field(description="BigCommerce's order line id")
    sku: str = Field(description="the line's SKU (empty when bcsync does not know the line)")
    quantity_ordered: int = Field(description="net of refunds, as bcsync sent it (the order's lines otherwise)")
    quantity_shipped: int = Field(description="units shipped by anyone, every shipment BigCommerce has counted")
    quantity_remaining: int = Field(description="units the warehouse still ships")


class ShipmentReadBack(_Contract):
    """`data` of `Shipment Created` (revision 1) and `Shipment Updated` (2, 3 ...): a shipment made in BigCommerce
    by someone other than bcsync, as BigCommerce has it now."""

    bigcommerce_shipment_id: int = Field(description="BigCommerce's id of the shipment")
    order_id: int = Field(description="the BigCommerce order")
    order_address_id: int = Field(description="the order's shipping address the shipment went to")
    revision: int = Field(ge=1, description="1 when created; each update the warehouse should know of adds one")
    imported: bool = Field(description="true: an order bcsync sent to the warehouse (order events)")
    tracking_number: str = Field(description="the tracking number (empty when none was given)")
    tracking_link: str = Field(description="the tracking link BigCommerce shows (empty when none)")
    tracking_carrier: str = Field(description="BigCommerce's tracking_carrier value (empty when none)")
    shipping_method: str = Field(description="the shipping method the merchant chose")
    shipped_at: str | None = Field(description="when the shipment was made, ISO 8601; null when unknown")
    lines: list[ShippedLine] = Field(description="what the shipment holds")
    remaining: list[LineLeft] = Field(description="each line of the order after every shipment BigCommerce has")
    complete: bool = Field(description="nothing left to ship on the order")


class ShipmentDeleted(_Contract):
    """`data` of `Shipment Deleted`: a shipment read back before is gone; its lines are to ship again."""

    bigcommerce_shipment_id: int = Field(description="BigCommerce's id of the shipment that is gone")
    order_id: int = Field(description="the BigCommerce order")
    imported: bool = Field(description="true: an order bcsync sent to the warehouse (order events)")
    lines: list[ShippedLine] = Field(description="what the shipment held: to ship again")
    remaining: list[LineLeft] = Field(description="each line of the order after the remaining shipments")
    complete: bool = Field(description="nothing left to ship on the order")


class StockLevelChanged(_Contract):
    """`data` of `Stock Level Changed`: a source store's level for one item at one location, on change only."""

    sku: str = Field(description="the item's SKU")
    product_id: int | None = Field(description="the BigCommerce product")
    variant_id: int | None = Field(description="the BigCommerce variant (null for a product without variants)")
    location_id: int = Field(description="the BigCommerce inventory location")
    on_hand: int = Field(description="units on hand at the location, as BigCommerce has them")
    available_to_sell: int = Field(description="units BigCommerce can sell there (on hand less what is held)")
    previous_on_hand: int | None = Field(
        description="the level last known (published, or bcsync's own push); null the first time"
    )
    read_at: str = Field(description="when bcsync read the level, ISO 8601")


@dataclass(frozen=True)
class Line:
    """An order line as read back: what the warehouse knows it by, and how many were ordered (net)."""

    order_product_id: int
    sku: str
    quantity: int
    product_id: int | None = None
    variant_id: int | None = None


@dataclass
class SeenShipment:
    """What was last read (and published) of one BigCommerce shipment."""

    revision: int  # 0: ours, never published; n: `Shipment Created` (1) and its n - 1 updates
    content: str  # the hash of what the event carries (`content_hash`)
    ours: bool
    items: dict[int, int] = field(default_factory=dict)  # order_product_id -> quantity

    def to_json(self) -> dict[str, Any]:
        return {"r": self.revision, "h": self.content, "o": self.ours, "i": {str(k): v for k, v in self.items.items()}}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> SeenShipment:
        items = {int(k): int(v) for k, v in dict(raw.get("i") or {}).items()}
        return cls(revision=int(raw["r"]), content=str(raw["h"]), ours=bool(raw["o"]), items=items)


Kind = Literal["Shipment Created", "Shipment Updated", "Shipment Deleted"]


@dataclass(frozen=True)
class Publication:
    kind: Kind
    shipment_id: int
    revision: int | str  # the key's last part: r<n>, or "deleted"
    data: dict[str, Any]


@dataclass
class OrderReadback:
    """One order's decision: what to publish, and what to remember having read."""

    publications: list[Publication]
    seen: dict[int, SeenShipment]


def content_hash(shipment: Shipment) -> str:
    """What a `Shipment Updated` would tell the warehouse: tracking, carrier, method, link, address, lines. A
    change to anything else (comments, BigCommerce's own fields) is no news."""
    content = {
        "n": shipment.tracking_number,
        "c": shipment.tracking_carrier,
        "l": shipment.tracking_link,
        "m": shipment.shipping_method,
        "a": shipment.order_address_id,
        "i": sorted((item.order_product_id, item.quantity) for item in shipment.items),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:20]


def _items(shipment: Shipment) -> dict[int, int]:
    items: dict[int, int] = {}
    for item in shipment.items:
        items[item.order_product_id] = items.get(item.order_product_id, 0) + item.quantity
    return items


def remaining(lines: Mapping[int, Line], shipped: Mapping[int, int]) -> list[dict[str, Any]]:
    """Per line of the order: ordered (net of refunds, as bcsync sent it), shipped in BigCommerce by anyone,
    and what is left for the warehouse to ship (never below 0)."""
    return [
        LineLeft(
            order_product_id=line.order_product_id,
            sku=line.sku,
            quantity_ordered=line.quantity,
            quantity_shipped=shipped.get(line.order_product_id, 0),
            quantity_remaining=max(line.quantity - shipped.get(line.order_product_id, 0), 0),
        ).model_dump(mode="json")
        for line in sorted(lines.values(), key=lambda line: line.order_product_id)
    ]


def _shipped_lines(
    items: Mapping[int, int], lines: Mapping[int, Line], products: Mapping[int, int | None]
) -> list[ShippedLine]:
    return [
        ShippedLine(
            order_product_id=order_product_id,
            sku=lines[order_product_id].sku if order_product_id in lines else "",
            product_id=products.get(order_product_id),
            variant_id=lines[order_product_id].variant_id if order_product_id in lines else None,
            quantity=quantity,
        )
        for order_product_id, quantity in sorted(items.items())
    ]


def _complete(left: list[dict[str, Any]]) -> bool:
    return bool(left) and all(row["quantity_remaining"] == 0 for row in left)


def _shipment_data(
    shipment: Shipment, revision: int, lines: Mapping[int, Line], left: list[dict[str, Any]], imported: bool
) -> dict[str, Any]:
    products = {item.order_product_id: item.product_id for item in shipment.items}
    return ShipmentReadBack(
        bigcommerce_shipment_id=shipment.id,
        order_id=shipment.order_id,
        order_address_id=shipment.order_address_id,
        revision=revision,
        imported=imported,
        tracking_number=shipment.tracking_number,
        tracking_link=shipment.tracking_link,
        tracking_carrier=shipment.tracking_carrier,
        shipping_method=shipment.shipping_method,
        shipped_at=shipment.date_created.isoformat() if shipment.date_created else None,
        lines=_shipped_lines(_items(shipment), lines, products),
        remaining=[LineLeft.model_validate(row) for row in left],
        complete=_complete(left),
    ).model_dump(mode="json")


def decide_order(
    order_id: int,
    shipments: list[Shipment],
    seen: Mapping[int, SeenShipment],
    lines: Mapping[int, Line],
    *,
    imported: bool,
) -> OrderReadback:
    """Compare an order's shipments now with what was last read: a shipment not ours and never seen is
    `Shipment Created`; one whose content changed, `Shipment Updated` (the next revision); one seen and
    published that is gone, `Shipment Deleted` (its units are the warehouse's to ship again). bcsync's own
    shipments are remembered, never published, and still count in what is left to ship."""
    shipped: dict[int, int] = {}
    for shipment in shipments:
        for order_product_id, quantity in _items(shipment).items():
            shipped[order_product_id] = shipped.get(order_product_id, 0) + quantity
    left = remaining(lines, shipped)
    publications: list[Publication] = []
    now_seen: dict[int, SeenShipment] = {}
    for shipment in sorted(shipments, key=lambda s: s.id):
        before = seen.get(shipment.id)
        digest = content_hash(shipment)
        if (before is not None and before.ours) or (before is None and is_bcsyncs(shipment)):
            now_seen[shipment.id] = SeenShipment(0, digest, True, _items(shipment))
            continue
        if before is None:
            data = _shipment_data(shipment, 1, lines, left, imported)
            publications.append(Publication("Shipment Created", shipment.id, 1, data))
            now_seen[shipment.id] = SeenShipment(1, digest, False, _items(shipment))
        elif before.content != digest:
            revision = before.revision + 1
            data = _shipment_data(shipment, revision, lines, left, imported)
            publications.append(Publication("Shipment Updated", shipment.id, revision, data))
            now_seen[shipment.id] = SeenShipment(revision, digest, False, _items(shipment))
        else:
            now_seen[shipment.id] = before
    for shipment_id, before in sorted(seen.items()):
        if shipment_id in now_seen or before.ours:
            continue
        data = ShipmentDeleted(
            bigcommerce_shipment_id=shipment_id,
            order_id=order_id,
            imported=imported,
            lines=_shipped_lines(before.items, lines, {}),
            remaining=[LineLeft.model_validate(row) for row in left],
            complete=_complete(left),
        ).model_dump(mode="json")
        publications.append(Publication("Shipment Deleted", shipment_id, "deleted", data))
    return OrderReadback(publications, now_seen)


def within_lookback(created: datetime | None, now: datetime, lookback_days: int) -> bool:
    """An order created before the lookback window is history: its shipments are never read back. One whose
    creation date BigCommerce does not say is read (a missed shipment is worse than a list call)."""
    return created is None or (now - created).total_seconds() <= lookback_days * 86_400


def has_news(items_shipped: int, last_seen: int | None, shipped_by_bcsync: int) -> bool:
    """The scan lists an order's shipments only when BigCommerce's count of shipped units differs from what
    bcsync last read of it - or, never read, from what bcsync wrote back itself: an order bcsync shipped
    costs no list at all."""
    return items_shipped != (shipped_by_bcsync if last_seen is None else last_seen)


# --- stock ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockSeen:
    """The last level published (or recognised as bcsync's own push) for one item at one location."""

    on_hand: int
    available: int
    generation: int  # levels published so far; an echo of bcsync's push keeps the generation


@dataclass(frozen=True)
class StockChange:
    key: str  # `v<variant>@<location>` or `p<product>@<location>`, as the push keys what it sent
    sku: str
    product_id: int | None
    variant_id: int | None
    location_id: int
    on_hand: int
    available: int
    previous_on_hand: int | None
    generation: int


def item_key(item: InventoryItem, location_id: int) -> str:
    if item.identity.variant_id is None:
        return f"p{item.identity.product_id}@{location_id}"
    return f"v{item.identity.variant_id}@{location_id}"


def decide_stock(
    items: list[InventoryItem], seen: Mapping[str, StockSeen], pushed: Mapping[str, int]
) -> tuple[list[StockChange], dict[str, StockSeen]]:
    """Levels that changed since last published, and what to remember. A level equal to what the inventory
    push last gave BigCommerce for that item and location (by variant, or by product for a product tracked
    as one) is bcsync's own echo: remembered, never published."""
    changes: list[StockChange] = []
    remember: dict[str, StockSeen] = {}
    for item in items:
        for at in item.locations:
            key = item_key(item, at.location_id)
            level = (at.total_inventory_onhand, at.available_to_sell)
            before = seen.get(key)
            if key in remember or (before is not None and (before.on_hand, before.available) == level):
                continue
            generation = before.generation if before else 0
            product_key = f"p{item.identity.product_id}@{at.location_id}"
            if at.total_inventory_onhand in (pushed.get(key), pushed.get(product_key)):
                remember[key] = StockSeen(*level, generation)
                continue
            remember[key] = StockSeen(*level, generation + 1)
            changes.append(
                StockChange(
                    key=key,
                    sku=item.identity.sku or "",
                    product_id=item.identity.product_id,
                    variant_id=item.identity.variant_id,
                    location_id=at.location_id,
                    on_hand=at.total_inventory_onhand,
                    available=at.available_to_sell,
                    previous_on_hand=before.on_hand if before else None,
                    generation=generation + 1,
                )
            )
    return changes, remember
