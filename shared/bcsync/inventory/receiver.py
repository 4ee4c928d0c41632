"""The `StockInbound` side: stock messages kept, bad items reported, the push made due."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from bcsync.backbone.consumer import dead_letter_never_valid, invalid_fields, open_settings
from bcsync.backbone.messages import JobMessage, JobQueue, queue_when_due
from bcsync.errors import NeverValid
from bcsync.inventory.state import Recipe, StockState, recipe_news
from bcsync.store.flows import FLOW_PROBLEM, Verdict, decide
from bcsync.store.jobs import JobState
from bcsync.store.problems import ProblemLog
from bcsync.store.registry import StoreRegistry
from bcsync.warehouse.inbound import STOCK_INBOUND, BundleDefinition, StockItem, StockLevel, StockLevelHeader
from bigcommerce_client import Clock

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from mypy_boto3_dynamodb.service_resource import Table


logger = logging.getLogger("bcsync.inventory.receiver")


# --- reading stock messages ------------------------------------------------------------------------------


def parse_stock_message(body: str) -> tuple[StockLevel | BundleDefinition, list[str]]:
    """The message and the problems of the items that were left out. Raises NeverValid when the
    message itself cannot be read (not JSON, no store, no as-of time, no items at all)."""
    try:
        raw = json.loads(body)
    except ValueError:
        raise NeverValid("not a stock message: the body is not JSON") from None
    if not isinstance(raw, dict):
        raise NeverValid("not a stock message: the body is not a JSON object")
    if raw.get("type") != "Stock Level":
        try:
            return STOCK_INBOUND.validate_python(raw), []
        except ValidationError as error:
            raise NeverValid(f"not a stock message (invalid: {invalid_fields(error)})") from None
    try:
        header = StockLevelHeader.model_validate({name: value for name, value in raw.items() if name != "items"})
    except ValidationError as error:
        raise NeverValid(f"not a stock message (invalid: {invalid_fields(error)})") from None
    items = raw.get("items")
    if not isinstance(items, list) or not items:
        raise NeverValid("not a stock message (invalid: items - a non-empty list is needed)")
    valid: dict[tuple[str, str], StockItem] = {}
    problems: list[str] = []
    for index, item in enumerate(items):
        try:
            parsed = StockItem.model_validate(item)
        except ValidationError as error:
            problems.append(f"item {index} ({_describe(item)}): {_reasons(error)}")
            continue
        key = (parsed.sku, parsed.location)
        if key in valid:
            problems.append(f"item {index} ({_describe(item)}): listed twice in one message; the last one counts")
        valid[key] = parsed
    return StockLevel.model_construct(**header.model_dump(), items=list(valid.values())), problems


def _reasons(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, issue['loc'])) or 'item'}: {issue['msg']}" for issue in error.errors())


def _describe(item: Any) -> str:
    if not isinstance(item, dict):
        return "not an object"
    return f"SKU {str(item.get('sku'))[:80]!r} at {str(item.get('location'))[:40]!r}"


@dataclass
class StockReceiver:
    """The `StockInbound` side: keep, report, make the push due. No BigCommerce call."""

    registry: StoreRegistry
    table: Table
    job_state: JobState
    queue: JobQueue
    sqs: Any
    dlq_url: str
    clock: Clock
    debounce_seconds: float
    figures: dict[str, int] = field(default_factory=dict)

    def record(self, record: SQSRecord) -> None:
        try:
            message, problems = parse_stock_message(record.body)
            settings = open_settings(self.registry, message.store_hash, what="stock message")
        except NeverValid as verdict:
            self._count("stock_messages_dead_lettered")
            dead_letter_never_valid(self.sqs, self.dlq_url, record, verdict)
            return
        if settings is None:
            return  # a disabled store: dropped, already logged
        stock = StockState(self.table, settings.store_hash)
        sent = int(record.attributes.sent_timestamp or 0) / 1000
        if isinstance(message, BundleDefinition):
            self._define_bundle(stock, message, sent=sent or self.clock.now())
        elif (flow := decide(settings, "stock_level")).verdict is Verdict.PROBLEM:
            self._count("stock_messages_flow_off")
            ProblemLog(self.table, settings.store_hash).add(FLOW_PROBLEM, "inventory_push", flow.reason)
            logger.warning(flow.reason, extra={"store_hash": settings.store_hash, "message_id": record.message_id})
            return
        else:
            if message.items:
                try:
                    stock.receive(message, received_at=sent or self.clock.now())
                except ValueError as too_large:
                    self._count("stock_messages_dead_lettered")
                    dead_letter_never_valid(self.sqs, self.dlq_url, record, NeverValid(str(too_large)))
                    return
            self._report(settings.store_hash, problems)
            self._count("stock_messages_received")
            self._count("stock_items_received", len(message.items))
        if decide(settings, "tick", "inventory_push").verdict is Verdict.SKIP:
            return  # a bundle definition kept while the push is off: the push, on again, uses it
        queue_when_due(
            self.job_state,
            self.queue,
            JobMessage(job="inventory_push", store_hash=settings.store_hash, trigger="stock"),
            now=self.clock.now(),
            debounce_seconds=self.debounce_seconds,
        )

    def _define_bundle(self, stock: StockState, message: BundleDefinition, *, sent: float) -> None:
        components: dict[str, int] = {}
        for component in message.components:
            components[component.sku] = components.get(component.sku, 0) + component.quantity
        if message.as_of is None:
            # schema_version 1 has no as-of time: dated by when it reached the queue, which a redelivery
            # keeps (a resend from the warehouse does not).
            self._count("bundle_definitions_undated")
        received = Recipe(components, int((message.as_of.timestamp() if message.as_of else sent) * 1000))
        stored = stock.bundle(message.bundle_sku)
        news = recipe_news(stored, received)
        if news == "newer" and stock.save_bundle(message.bundle_sku, received):
            self._count("bundles_defined")
            return
        if news == "repeat":
            self._count("bundle_definitions_repeated")
            return
        self._count("bundle_definitions_ignored")
        logger.warning(
            "bundle definition older than the stored one: ignored",
            extra={
                "store_hash": message.store_hash,
                "bundle_sku": message.bundle_sku,
                "as_of_ms": received.as_of_ms,
                "stored_as_of_ms": stored.as_of_ms if stored else None,
            },
        )

    def _report(self, store_hash: str, problems: list[str]) -> None:
        if not problems:
            return
        self._count("stock_items_refused", len(problems))
        log = ProblemLog(self.table, store_hash)
        for problem in problems:
            log.add("stock_item", problem.split(":", 1)[0], problem)
        logger.warning("stock items refused", extra={"store_hash": store_hash, "problems": problems[:20]})

    def _count(self, figure: str, amount: int = 1) -> None:
        self.figures[figure] = self.figures.get(figure, 0) + amount
