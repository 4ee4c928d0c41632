"""Inventory push: BigCommerce shows what the warehouse can really sell.

Two ways in, one function:
- `StockInbound` (warehouse → bcsync): a `Stock Level` is read item by item (a bad item is reported
  with its reason; the others go on), kept in the store's stock inbox, and makes the store's push due
  within seconds (debounced: a burst of messages is one push). A `Bundle Definition` is stored.
- The job queue (schedule ticks, those debounced messages, `bcsync inventory push`): one run per store
  at a time merges the inbox into the levels, computes every SKU's sellable quantity
  (`bcsync.inventory`) and sends BigCommerce only what differs from what it was last given - absolute
  values, up to 2,000 items per call, one call after another. Nothing changed: no call at all.
  With `drift`, it first reads BigCommerce's own levels, so changes made by others are corrected too.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from pydantic import ValidationError

from bigcommerce_client import BigCommerceClient, Clock
from bigcommerce_client import ValidationError as BigCommerceRefused
from bigcommerce_client.client import MAX_ABSOLUTE_ADJUSTMENT_ITEMS
from bigcommerce_client.models import AbsoluteAdjustment

from .aws import AwsClients
from .catalog_state import CatalogState
from .consumer import NeverValid, batch_processor, dead_letter_never_valid, invalid_fields, open_settings
from .inbound import STOCK_INBOUND, BundleDefinition, StockItem, StockLevel, StockLevelHeader
from .inventory import CatalogEntry, Sellable, StockRules, Target, changes, sellable_quantities
from .job_function import JobFunction
from .jobs import Continue, FanOutResult, JobContext, JobMessage, JobQueue, JobStep, queue_when_due
from .settings import ConfigurationError, RuntimeConfig, StoreSettings
from .state import JobRun, JobState, ProblemLog, StoreRegistry
from .stock_state import InFlightOrders, StockState, merge_snapshot

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb.service_resource import Table

logger = logging.getLogger("bcsync.inventory_push")
ADJUSTMENT_REASON = "bcsync: warehouse stock"
_NAMED_TARGET = re.compile(r"\b(variant_id|product_id) (\d+)")


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
        if isinstance(message, BundleDefinition):
            components: dict[str, int] = {}
            for component in message.components:
                components[component.sku] = components.get(component.sku, 0) + component.quantity
            stock.save_bundle(message.bundle_sku, components)
            self._count("bundles_defined")
        else:
            sent = int(record.attributes.sent_timestamp or 0) / 1000
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
        queue_when_due(
            self.job_state,
            self.queue,
            JobMessage(job="inventory_push", store_hash=settings.store_hash, trigger="stock"),
            now=self.clock.now(),
            debounce_seconds=self.debounce_seconds,
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


# --- the push ----------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """One evaluation of a store's stock: what BigCommerce should show, and what must change."""

    sellable: Sellable
    changes: dict[Target, int]
    merged: int  # stock messages merged from the inbox
    lag_seconds: int  # oldest merged message: received → now
    pushed: dict[str, int] = field(default_factory=dict)  # what BigCommerce was last given, per target key


@dataclass
class SkuIndexCache:
    """The SKU index per store for a function's lifetime, read again only when product sync changed it:
    a 100,000-SKU index is 100,000 items, its version one."""

    entries: dict[str, tuple[str, dict[str, CatalogEntry]]] = field(default_factory=dict)

    def get(self, catalog: CatalogState) -> dict[str, CatalogEntry]:
        version = catalog.index_version()
        cached = self.entries.get(catalog.store_hash)
        if cached is not None and version and cached[0] == version:
            return cached[1]
        index = catalog.sku_index()
        self.entries[catalog.store_hash] = (version, index)
        return index


@dataclass
class InventoryPush:
    settings: StoreSettings
    client: BigCommerceClient
    stock: StockState
    in_flight: InFlightOrders
    catalog: CatalogState
    clock: Clock
    index: SkuIndexCache = field(default_factory=SkuIndexCache)

    def plan(self, *, merge: bool = True) -> Plan:
        """Evaluate every SKU. With `merge`, waiting stock messages become the stored levels first;
        without (a dry run), they are only taken into account."""
        entries = self.stock.inbox()
        levels = self.stock.levels()
        changed = set()
        for entry in entries:
            changed |= merge_snapshot(levels, entry)
        if merge and entries:
            self.stock.save_levels(levels, changed)
            self.stock.drop_from_inbox([entry.key for entry in entries])
        sellable = sellable_quantities(
            levels,
            self.in_flight.all(),
            self.stock.bundles(),
            self.index.get(self.catalog),
            StockRules.of(self.settings),
        )
        oldest = min((entry.received_at for entry in entries), default=None)
        lag = int(max(self.clock.now() - oldest, 0)) if oldest is not None else 0
        pushed = self.stock.pushed()
        return Plan(sellable, changes(sellable.quantities, pushed), len(entries), lag, pushed)

    def step(self, context: JobContext) -> Continue | None:
        plan = self.plan()
        if context.message.options.get("drift"):
            plan.changes = changes(plan.sellable.quantities, self._corrected_baseline(plan, context))
        sellable = plan.sellable
        context.count("stock_messages_merged", plan.merged)
        context.count("skus_evaluated", len(sellable.by_sku))
        context.count("skus_zeroed_by_threshold", len(sellable.zeroed))
        context.count("skus_with_problems", len(sellable.problems))
        context.count("items_pushed", 0)
        if plan.merged:
            context.figures["push_lag_seconds"] = plan.lag_seconds
        context.problems += [f"SKU {sku}: {reason}" for sku, reason in sorted(sellable.problems.items())]
        items = list(plan.changes.items())
        for start in range(0, len(items), MAX_ABSOLUTE_ADJUSTMENT_ITEMS):
            self._push(items[start : start + MAX_ABSOLUTE_ADJUSTMENT_ITEMS], sellable, context)
            if context.time_is_short() and start + MAX_ABSOLUTE_ADJUSTMENT_ITEMS < len(items):
                return Continue(checkpoint={})  # the next run recomputes: what was pushed is recorded
        return None

    def _push(self, items: list[tuple[Target, int]], sellable: Sellable, context: JobContext) -> None:
        """One absolute adjustment. BigCommerce refuses the whole request for one bad item (422): that
        item is reported and the rest sent again; an item it does not name is found by halving."""
        pending = list(items)
        while pending:
            try:
                self.client.set_inventory_absolute(
                    [_adjustment(target, quantity) for target, quantity in pending], reason=ADJUSTMENT_REASON
                )
            except BigCommerceRefused as refused:
                named = _named_items(refused, pending)
                if not named and len(pending) > 1:
                    half = len(pending) // 2
                    self._push(pending[:half], sellable, context)
                    self._push(pending[half:], sellable, context)
                    return
                for target, quantity in named or pending:
                    self._refused(target, quantity, str(refused), sellable, context)
                pending = [item for item in pending if item not in (named or pending)]
                continue
            self.stock.save_pushed({target.key(): quantity for target, quantity in pending})
            context.count("items_pushed", len(pending))
            return

    def _refused(self, target: Target, quantity: int, reason: str, sellable: Sellable, context: JobContext) -> None:
        """Reported, and remembered with its quantity so the same refusal costs no call every run; the
        nightly drift check forgets it and tries again."""
        skus = ", ".join(sellable.skus_of(target)) or "?"
        context.problems.append(f"SKU {skus} ({target.kind} {target.item_id}, location {target.location_id}): {reason}")
        context.count("items_refused")
        self.stock.save_pushed({target.key(): quantity}, refused=True)

    def _corrected_baseline(self, plan: Plan, context: JobContext) -> dict[str, int]:
        """What BigCommerce really holds, for every item bcsync pushes: read, not remembered."""
        actual: dict[tuple[str, int, int], int] = {}
        for item in self.client.iter_inventory_items():
            for at in item.locations:
                if item.identity.variant_id is not None:
                    actual[("variant", item.identity.variant_id, at.location_id)] = at.total_inventory_onhand
                if item.identity.product_id is not None:
                    actual[("product", item.identity.product_id, at.location_id)] = at.total_inventory_onhand
        remembered = plan.pushed
        baseline = {}
        drifted = 0
        for target in plan.sellable.quantities:
            held = actual.get((target.kind, target.item_id, target.location_id))
            if held is None:
                continue  # BigCommerce does not list it (tracking off): pushed anew, reported if refused
            baseline[target.key()] = held
            drifted += remembered.get(target.key()) not in (None, held)
        context.count("items_drifted", drifted)
        return baseline


def _adjustment(target: Target, quantity: int) -> AbsoluteAdjustment:
    key = {"variant_id": target.item_id} if target.kind == "variant" else {"product_id": target.item_id}
    return AbsoluteAdjustment(location_id=target.location_id, quantity=quantity, **key)


def _named_items(refused: BigCommerceRefused, pending: list[tuple[Target, int]]) -> list[tuple[Target, int]]:
    """The items a 422 names: by index in the request, or by id in its message."""
    named = [pending[index] for index in refused.item_indexes if index < len(pending)]
    if named:
        return named
    texts = [str(refused), *refused.errors.values()]
    ids = {(kind.removesuffix("_id"), int(item_id)) for text in texts for kind, item_id in _NAMED_TARGET.findall(text)}
    return [(target, quantity) for target, quantity in pending if (target.kind, target.item_id) in ids]


def inventory_push_steps(
    *, table: Table, clock: Clock, retention_days: int = 90
) -> Callable[[StoreSettings, BigCommerceClient], JobStep]:
    """The step factory `build_job_consumer` takes."""

    index = SkuIndexCache()

    def factory(settings: StoreSettings, client: BigCommerceClient) -> JobStep:
        return push_for(settings, client, table=table, clock=clock, retention_days=retention_days, index=index).step

    return factory


def push_for(
    settings: StoreSettings,
    client: BigCommerceClient,
    *,
    table: Table,
    clock: Clock,
    retention_days: int = 90,
    index: SkuIndexCache | None = None,
) -> InventoryPush:
    return InventoryPush(
        settings=settings,
        client=client,
        stock=StockState(table, settings.store_hash),
        in_flight=InFlightOrders(table, settings.store_hash, retention_days=retention_days),
        catalog=CatalogState(table, settings.store_hash),
        clock=clock,
        index=index or SkuIndexCache(),
    )


# --- the function: both queues and the schedules -------------------------------------------------------------


@dataclass
class InventoryFunction:
    config: RuntimeConfig
    clock: Clock
    on_run: Callable[[JobRun], None] | None = None
    on_tick: Callable[[FanOutResult], None] | None = None
    on_figures: Callable[[dict[str, int]], None] | None = None
    aws: AwsClients | None = None

    def __post_init__(self) -> None:
        if not self.config.stock_dlq_url:
            raise ConfigurationError("bcsync is not configured: BCSYNC_STOCK_DLQ_URL is needed")
        aws = self.aws or AwsClients()
        table = aws.table(self.config.state_table)
        self.jobs = JobFunction(
            job="inventory_push",
            config=self.config,
            step_factory=inventory_push_steps(
                table=table, clock=self.clock, retention_days=self.config.order_retention_days
            ),
            on_run=self.on_run,
            on_tick=self.on_tick,
            clock=self.clock,
            aws=aws,
        )
        sqs = aws.client("sqs")
        self.stock = StockReceiver(
            registry=StoreRegistry(table),
            table=table,
            job_state=JobState(table),
            queue=JobQueue(sqs, self.config.job_queue_urls["inventory_push"]),
            sqs=sqs,
            dlq_url=self.config.stock_dlq_url,
            clock=self.clock,
            debounce_seconds=self.config.webhook_debounce_seconds,
        )
        self._processor = batch_processor()
        self._context: LambdaContext | None = None

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if "Records" not in event:
            return self.jobs.handle(event, context)
        self._context = context
        self.stock.figures = {}
        try:
            return process_partial_response(  # type: ignore[return-value]  # a TypedDict of that dict
                event=event, record_handler=self._record, processor=self._processor, context=context
            )
        finally:
            if self.stock.figures and self.on_figures is not None:
                self.on_figures(dict(self.stock.figures))

    def _record(self, record: SQSRecord) -> None:
        # Both queues feed this function: a job message names its job, a warehouse message its type.
        if _is_job_message(record.body):
            assert self._context is not None
            self.jobs.consumer.process(record, self._context)
        else:
            self.stock.record(record)


def _is_job_message(body: str) -> bool:
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    return isinstance(parsed, dict) and "job" in parsed and "type" not in parsed
