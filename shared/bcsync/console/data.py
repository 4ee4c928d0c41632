"""What the console reads and changes, and only through what the CLI and the jobs already use: the status
(`bcsync.store.status`), the problem log, held orders and stock in flight, order import's job queue, the
settings model, the dead-letter queues (`bcsync.cli.dlq`).

Every method takes the store it acts on from the caller, which takes it from the verified session
(`bcsync.console.router`): nothing here reads a store from a request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from bcsync.backbone.messages import JobMessage
from bcsync.cli.dlq import DeadLetterQueue, dead_letter_queues, redrive
from bcsync.errors import InvalidSettingsError
from bcsync.orders.in_flight import InFlightOrders
from bcsync.orders.mapping import WarehouseOrder
from bcsync.orders.state import HeldOrders, OrderRecord, OrderState
from bcsync.store.enablement import set_store_enabled
from bcsync.store.registry import StoreRegistry
from bcsync.store.settings import StoreSettings
from bcsync.store.status import StoreStatus, read_status
from bigcommerce_client import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

    from bcsync.store.credentials import CredentialStore

# The problem log's kinds, and what to do about each (shown beside it).
WHAT_TO_DO = {
    "stock_item": "BigCommerce refused this stock item: check the SKU exists in the store and how its product "
    "tracks inventory (product or variant level), then let the warehouse send the level again.",
    "warehouse_rejection": "The warehouse refused the order: fix what its reason names, then *resend* it.",
    "shipped_after_cancel": "The warehouse shipped an order cancelled in BigCommerce: settle it with the customer.",
    "status_move_failed": "BigCommerce refused the status change: set the order's status by hand.",
    "change_too_late": "The parcel left before the change reached the warehouse: contact the customer.",
}
# Problems of the last runs, recognised by their text, and what to do.
RUN_HINTS = (
    ("no SKU", "Give the variant a SKU in BigCommerce (Products > edit > Variations); until then it syncs under a "
     "fallback key the warehouse cannot pick."),
    ("shared by product", "Two variants share one SKU: give each its own in BigCommerce; the warehouse keeps the "
     "first."),
    ("not sent by product sync", "Run a product sync (the warehouse may not know the SKU yet)."),
)  # fmt: skip


# Figures of the last runs that mean something to fix, and what to do (the names are not logged per item).
FIGURE_HINTS = {
    "carriers_unmapped": "shipments whose warehouse carrier has no BigCommerce tracking carrier: add it to the "
    "carrier map in Settings, so the customer's e-mail links the tracking page",
    "ship_options_unmapped": "shipments sent with the default ship option: map their shipping methods in Settings",
    "lines_without_sku": "order lines without a SKU in BigCommerce: give the variants SKUs",
    "sku_problems": "SKUs product sync could not send as they are: see the problems above",
}


def hint_for(kind: str, text: str) -> str:
    if kind in WHAT_TO_DO:
        return WHAT_TO_DO[kind]
    return next((hint for needle, hint in RUN_HINTS if needle in text), "")


@dataclass(frozen=True)
class HeldView:
    order_id: int
    release_at: datetime
    unmapped_methods: list[str]


@dataclass(frozen=True)
class OrderView:
    order_id: int
    state: str  # released | held | cancelled | skipped | (blank: not yet recorded)
    version: int
    warehouse_status: str
    reason: str
    release_at: datetime | None = None


@dataclass(frozen=True)
class Problems:
    logged: list[dict[str, str]]  # kind, subject, text, at, hint
    runs: list[dict[str, str]]  # job, text, hint
    held: list[HeldView]
    unmapped_methods: list[str]  # shipping methods of held orders that no ship option maps


@dataclass
class ConsoleData:
    table: Table
    sqs: Any
    credentials: CredentialStore
    order_import_queue_url: str
    queues: dict[str, str] = field(default_factory=dict)  # every queue by name (the operator's DLQ page)
    retention_days: int = 90
    clock: Clock = SYSTEM_CLOCK  # order import's clock: a release brought forward is due by its time

    # --- reading ---------------------------------------------------------------------------------------

    def stores(self) -> list[StoreSettings | InvalidSettingsError]:
        return list(StoreRegistry(self.table).iter_valid(enabled_only=False))

    def settings(self, store_hash: str) -> StoreSettings:
        return StoreRegistry(self.table).get(store_hash)

    def status(self, store_hash: str) -> StoreStatus:
        return read_status(self.table, self.settings(store_hash))

    def held(self, store_hash: str) -> list[HeldView]:
        settings = self.settings(store_hash)
        views = []
        for held in HeldOrders(self.table, store_hash, retention_days=self.retention_days).all():
            built = WarehouseOrder.model_validate_json(held.snapshot).with_ship_options(settings)
            unmapped = sorted({s.shipping_method for s in built.shipments if not s.ship_option_mapped})
            views.append(HeldView(held.order_id, held.release_at, unmapped))
        return sorted(views, key=lambda view: view.release_at)

    def problems(self, store_hash: str) -> Problems:
        status = self.status(store_hash)
        held = self.held(store_hash)
        runs = [
            {"job": job, "text": text, "hint": hint_for("", text)}
            for job, run in status.runs.items()
            if run is not None
            for text in run.problems
        ]
        runs += [
            {"job": job, "text": f"{run.figures[figure]} {hint.split(':', 1)[0]}", "hint": hint.split(": ", 1)[1]}
            for job, run in status.runs.items()
            if run is not None
            for figure, hint in FIGURE_HINTS.items()
            if run.figures.get(figure)
        ]
        return Problems(
            logged=[logged | {"hint": hint_for(logged["kind"], logged["text"])} for logged in status.problems],
            runs=runs,
            held=held,
            unmapped_methods=sorted({method for view in held for method in view.unmapped_methods}),
        )

    def orders(self, store_hash: str, *, limit: int = 50) -> list[OrderView]:
        """The store's recent orders: those whose stock BigCommerce has taken (released or held, shipped
        within the week) and the held ones, newest first, with what the warehouse last said of each."""
        held = {view.order_id: view for view in self.held(store_hash)}
        in_flight = InFlightOrders(self.table, store_hash, retention_days=self.retention_days).all()
        ids = sorted({order.order_id for order in in_flight} | set(held), reverse=True)[:limit]
        records = OrderState(self.table, store_hash, retention_days=self.retention_days).get_many(ids)
        return [self._order_view(order_id, records.get(order_id), held.get(order_id)) for order_id in ids]

    @staticmethod
    def _order_view(order_id: int, record: OrderRecord | None, held: HeldView | None) -> OrderView:
        if record is None:
            return OrderView(order_id, "held" if held else "", 0, "", "", held.release_at if held else None)
        return OrderView(
            order_id,
            record.state,
            record.version,
            record.warehouse_status,
            record.warehouse_reason or record.reason,
            held.release_at if held else None,
        )

    def dead_letters(self) -> list[DeadLetterQueue]:
        return dead_letter_queues(self.sqs, self.queues, show=10)

    # --- changing ----------------------------------------------------------------------------------------

    def save_settings(
        self, store_hash: str, changes: dict[str, Any], *, save: bool = True
    ) -> tuple[StoreSettings, dict[str, str]]:
        """The settings with `changes`, saved (unless `save` is False) when the settings model takes them;
        else the current ones and each refused field's message."""
        current = self.settings(store_hash)
        try:
            changed = current.with_changes(changes)
        except ValidationError as error:
            return current, field_errors(error)
        if save:
            StoreRegistry(self.table).put(changed)
        return changed, {}

    def resend(self, store_hash: str, order_ids: list[int]) -> None:
        """`bcsync orders resend`: order import sends each order's current version again."""
        self._queue_order_import(store_hash, {"resend_ids": order_ids})

    def release_now(self, store_hash: str, order_id: int) -> bool:
        """A held order goes out with order import's next run, queued now. False: it is not held."""
        held = HeldOrders(self.table, store_hash, retention_days=self.retention_days)
        if not held.release_now(order_id, datetime.fromtimestamp(self.clock.now(), tz=UTC)):
            return False
        self._queue_order_import(store_hash, {})
        return True

    def set_enabled(self, store_hash: str, enabled: bool) -> str:
        return set_store_enabled(self.table, self.credentials, store_hash, enabled)

    def redrive(self, queue: str) -> tuple[int, str, str]:
        return redrive(self.sqs, self.queues, queue)

    def _queue_order_import(self, store_hash: str, options: dict[str, Any]) -> None:
        message = JobMessage(job="order_import", store_hash=store_hash, trigger="manual", options=options)
        self.sqs.send_message(QueueUrl=self.order_import_queue_url, MessageBody=message.model_dump_json())


def field_errors(error: ValidationError) -> dict[str, str]:
    """The settings model's refusal, one message per top-level field (shown beside the field)."""
    errors: dict[str, str] = {}
    for issue in error.errors():
        name = str(issue["loc"][0]) if issue["loc"] else "settings"
        detail = ".".join(str(part) for part in issue["loc"][1:])
        message = str(issue["msg"]).removeprefix("Value error, ")
        errors.setdefault(name, f"{detail}: {message}" if detail else message)
    return errors


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
