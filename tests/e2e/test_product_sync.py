"""Product sync on the local stack and sandbox: the checks of its issue, at test size."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any

import pytest

from bcsync.backbone import cutpoints
from bcsync.backbone.consumer import JobConsumer, build_job_consumer
from bcsync.backbone.messages import JobMessage, JobQueue
from bcsync.catalog.job import product_sync_steps
from bcsync.catalog.state import CatalogState
from bcsync.cli import main as bcsync_cli
from bcsync.settings import RuntimeConfig
from bcsync.store.jobs import JobState
from bcsync.warehouse.events import EventPublisher
from bigcommerce_client import VirtualClock
from bigcommerce_sandbox import Sandbox, SandboxStore, seed_catalog
from local_runtime import LocalDeployment
from tests.aws import drain
from tests.conftest import KNOWN_TOKENS

STORE, TOKEN = "cat123", "tok-cat123-sync"


def _world(
    stack: LocalDeployment,
    sandbox: Sandbox,
    clock: VirtualClock,
    products: int,
    *,
    variants: int = 2,
    page_size: int = 250,
) -> tuple[SandboxStore, JobConsumer]:
    """Test-sized: every SKU costs a few calls to moto over HTTP; the 30,000-variant run is `make bench`'s."""
    store = sandbox.add_store(STORE, token=TOKEN)
    seed_catalog(store, products=products, variants_per_product=variants)
    KNOWN_TOKENS.add(TOKEN)
    assert bcsync_cli(["stores", "connect", STORE], stdin=io.StringIO(TOKEN), out=io.StringIO()) == 0
    config = RuntimeConfig.from_env()
    table = stack.resource("dynamodb").Table(config.state_table)
    publisher = EventPublisher.for_stack(config)
    steps = product_sync_steps(
        catalog_for=lambda h: CatalogState(table, h), publisher=publisher, clock=clock, page_size=page_size
    )
    return store, build_job_consumer("product_sync", config=config, step_factory=steps, clock=clock)


def _run(stack: LocalDeployment, consumer: JobConsumer, mode: str = "delta") -> dict[str, int]:
    queue = JobQueue(stack.client("sqs"), stack.physical["ProductSyncJobs"]["Ref"])
    queue.send(JobMessage(job="product_sync", store_hash=STORE, trigger="manual", options={"mode": mode}))
    report = stack.deliver_sqs("ProductSyncJobs", consumer.handle)  # type: ignore[arg-type]
    assert report.failed == 0, report
    table = stack.resource("dynamodb").Table(stack.environment()["BCSYNC_STATE_TABLE"])
    run = JobState(table).last_run(STORE, "product_sync")
    assert run is not None and run.outcome == "done"
    return run.figures


def _events(stack: LocalDeployment) -> list[dict[str, Any]]:
    return drain(stack, "WarehouseOutbound")


def _synced_world(
    stack: LocalDeployment, sandbox: Sandbox, clock: VirtualClock, products: int
) -> tuple[SandboxStore, JobConsumer]:
    """A store after its first full sync, with that sync's events already consumed."""
    store, consumer = _world(stack, sandbox, clock, products=products)
    _run(stack, consumer, "full")
    _events(stack)
    return store, consumer


def _edit_then_sync(
    stack: LocalDeployment, consumer: JobConsumer, clock: VirtualClock, edit: Callable[[], None], mode: str = "delta"
) -> list[dict[str, Any]]:
    """A merchant's edit some minutes after the last sync, then the next sync: what it published."""
    clock.advance(600)
    edit()
    clock.advance(60)
    _run(stack, consumer, mode)
    return _events(stack)


def _calls(consumer: JobConsumer) -> dict[str, int]:
    """What the consumer's clients spent since the last look."""
    spent = consumer.calls.by_endpoint()
    consumer.calls.reset()
    return spent


def _visible_variants(store: SandboxStore) -> int:
    return sum(len(p["variants"]) for p in store.products.values() if p["is_visible"])


def test_a_full_sync_sends_every_visible_variant_once_in_the_fewest_calls(
    local_world: tuple[LocalDeployment, Sandbox], clock: VirtualClock
) -> None:
    stack, sandbox = local_world
    page = 20  # the rule (a page per call, nothing read twice) at two pages; `make bench` pages by 250
    store, consumer = _world(stack, sandbox, clock, products=26, variants=1, page_size=page)  # two pages
    figures = _run(stack, consumer, "full")
    events = _events(stack)
    upserted = [e for e in events if e["detail-type"] == "Product Upserted"]
    assert len(upserted) == _visible_variants(store) == figures["skus_upserted"]
    assert len({e["detail"]["idempotency_key"] for e in upserted}) == len(upserted)
    calls = _calls(consumer)
    floor = math.ceil(len(store.products) / page) + 1 + 1 + 1  # product pages + brand + category pages + store info
    assert calls["GET /v3/catalog/products"] == math.ceil(len(store.products) / page) == 2
    assert sum(calls.values()) <= 1.1 * floor, calls
    first = upserted[0]["detail"]["data"]
    assert first["name"].startswith("Product ") and first["dimensions"]["weight_unit"] == "lb"
    assert figures["sku_problems"] > 0  # the seeded SKU-less variants are reported, not skipped silently


def test_a_second_run_with_nothing_changed_publishes_nothing(
    local_world: tuple[LocalDeployment, Sandbox], clock: VirtualClock
) -> None:
    stack, sandbox = local_world
    _, consumer = _synced_world(stack, sandbox, clock, products=10)
    assert _edit_then_sync(stack, consumer, clock, lambda: None, mode="full") == []
    again = JobState(stack.resource("dynamodb").Table(stack.environment()["BCSYNC_STATE_TABLE"])).last_run(
        STORE, "product_sync"
    )
    assert again is not None
    assert again.figures["skus_upserted"] == 0 and again.figures["skus_archived"] == 0


def test_one_changed_price_is_exactly_one_upsert_and_hiding_archives_then_unhiding_restores(
    local_world: tuple[LocalDeployment, Sandbox], clock: VirtualClock
) -> None:
    stack, sandbox = local_world
    store, consumer = _synced_world(stack, sandbox, clock, products=10)
    product = next(p for p in store.products.values() if p["is_visible"] and len(p["variants"]) > 1)

    variant_id = product["variants"][1]["id"]
    changed = _edit_then_sync(
        stack, consumer, clock, lambda: store.update_variant(product["id"], variant_id, price=99.5)
    )
    assert [(e["detail-type"], e["detail"]["data"]["price"]) for e in changed] == [("Product Upserted", "99.5")]

    archived = _edit_then_sync(stack, consumer, clock, lambda: store.update_product(product["id"], is_visible=False))
    assert sorted(e["detail"]["data"]["variant_id"] for e in archived) == sorted(v["id"] for v in product["variants"])
    assert {e["detail-type"] for e in archived} == {"Product Archived"}
    assert {(e["detail"]["schema_version"], e["detail"]["data"]["reason"]) for e in archived} == {(2, "hidden")}

    restored = _edit_then_sync(stack, consumer, clock, lambda: store.update_product(product["id"], is_visible=True))
    assert {e["detail-type"] for e in restored} == {"Product Upserted"} and len(restored) == len(product["variants"])


def test_a_deleted_product_is_archived_by_the_next_full_sync(
    local_world: tuple[LocalDeployment, Sandbox], clock: VirtualClock
) -> None:
    stack, sandbox = local_world
    store, consumer = _synced_world(stack, sandbox, clock, products=20)
    doomed = next(p for p in store.products.values() if p["is_visible"])
    gone = _edit_then_sync(stack, consumer, clock, lambda: store.delete_product(doomed["id"]), mode="full")
    assert [e["detail-type"] for e in gone] == ["Product Archived"] * len(doomed["variants"])
    assert {e["detail"]["data"]["reason"] for e in gone} == {"deleted"}


def test_a_deleted_product_message_archives_its_skus_without_calling_bigcommerce(
    local_world: tuple[LocalDeployment, Sandbox], clock: VirtualClock
) -> None:
    stack, sandbox = local_world
    store, consumer = _synced_world(stack, sandbox, clock, products=20)
    _calls(consumer)
    doomed = next(p for p in store.products.values() if p["is_visible"] and len(p["variants"]) > 1)
    store.delete_product(doomed["id"])
    queue = JobQueue(stack.client("sqs"), stack.physical["ProductSyncJobs"]["Ref"])
    queue.send(
        JobMessage(
            job="product_sync", store_hash=STORE, trigger="webhook", options={"deleted_product_ids": [doomed["id"]]}
        )
    )
    stack.deliver_sqs("ProductSyncJobs", consumer.handle)  # type: ignore[arg-type]
    gone = _events(stack)
    assert sorted(e["detail"]["data"]["variant_id"] for e in gone) == sorted(v["id"] for v in doomed["variants"])
    assert {e["detail"]["data"]["reason"] for e in gone} == {"deleted"}
    assert sum(_calls(consumer).values()) == 0


@pytest.mark.parametrize(
    ("point", "max_raw_duplicates"), [(cutpoints.AFTER_OUTBOX_PENDING, 0), (cutpoints.AFTER_PUBLISH, 2 * 20)]
)
def test_a_run_cut_mid_way_resumes_with_nothing_lost_and_each_key_once_after_dedupe(
    local_world: tuple[LocalDeployment, Sandbox], clock: VirtualClock, point: str, max_raw_duplicates: int
) -> None:
    """A crash after PutEvents but before the outbox marks it republishes the same keys (at least
    once, docs/design.md): the warehouse drops them by key. A crash before publishing duplicates nothing."""
    stack, sandbox = local_world
    store, consumer = _world(stack, sandbox, clock, products=60, variants=1, page_size=20)  # three pages
    queue = JobQueue(stack.client("sqs"), stack.physical["ProductSyncJobs"]["Ref"])
    queue.send(JobMessage(job="product_sync", store_hash=STORE, options={"mode": "full"}))
    with stack.cut_at(point, times=2) as hits:  # dies on pages 1 and 2's publish, then runs clean
        report = stack.deliver_sqs("ProductSyncJobs", consumer.handle)  # type: ignore[arg-type]
    assert len(hits) == 2 and report.cut == 2 and report.delivered == 1
    keys = [e["detail"]["idempotency_key"] for e in _events(stack)]
    assert len(set(keys)) == _visible_variants(store)  # nothing lost
    raw_duplicates = len(keys) - len(set(keys))
    assert raw_duplicates <= max_raw_duplicates
    assert (raw_duplicates > 0) == (max_raw_duplicates > 0)


def test_two_variants_sharing_a_sku_on_different_pages_are_reported_and_never_merged(
    local_world: tuple[LocalDeployment, Sandbox], clock: VirtualClock
) -> None:
    stack, sandbox = local_world
    store, consumer = _world(stack, sandbox, clock, products=30, variants=1, page_size=10)  # three pages
    visible = [p for p in sorted(store.products.values(), key=lambda p: p["id"]) if p["is_visible"]]
    first, last = visible[0], visible[-1]
    last["variants"][0]["sku"] = first["variants"][0]["sku"] = "TWIN-1"

    figures = _run(stack, consumer, "full")

    twins = [e["detail"]["data"] for e in _events(stack) if e["detail"]["data"].get("sku") == "TWIN-1"]
    assert [(t["product_id"], t["variant_id"]) for t in twins] == [(first["id"], first["variants"][0]["id"])]
    run = JobState(stack.resource("dynamodb").Table(stack.environment()["BCSYNC_STATE_TABLE"])).last_run(
        STORE, "product_sync"
    )
    assert run is not None and any(p.startswith("SKU TWIN-1: shared by product") for p in run.problems)
    assert figures["sku_problems"] >= 1
    clock.advance(3600)  # and the next full sync still holds the first, still reports the second
    _run(stack, consumer, "full")
    assert [e for e in _events(stack) if e["detail"]["data"].get("sku") == "TWIN-1"] == []


def test_a_sync_continued_over_many_invocations_reads_brands_categories_and_units_once(
    local_world: tuple[LocalDeployment, Sandbox], clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every invocation is "near its deadline" after one page, so 16 products in pages of 5 take 4.
    monkeypatch.setenv("BCSYNC_DEADLINE_MARGIN_SECONDS", "120")
    stack, sandbox = local_world
    _, consumer = _world(stack, sandbox, clock, products=15, page_size=5)

    queue = JobQueue(stack.client("sqs"), stack.physical["ProductSyncJobs"]["Ref"])
    queue.send(JobMessage(job="product_sync", store_hash=STORE, trigger="manual", options={"mode": "full"}))
    report = stack.deliver_sqs("ProductSyncJobs", consumer.handle)  # type: ignore[arg-type]

    assert report.invocations == 4
    calls = consumer.calls.by_endpoint(STORE)
    assert calls.get("GET /v3/catalog/products") == 4
    assert sum(calls.values()) == 4 + 1 + 1 + 1  # product pages + brands + categories + store info: the floor


def test_a_product_edited_while_a_full_sync_runs_is_never_archived_and_a_deleted_one_is(
    local_world: tuple[LocalDeployment, Sandbox], clock: VirtualClock
) -> None:
    """The listing is bounded by the run's start: an edit after it drops the product from its page. One
    read by id tells it from a deletion, so its SKU stays with the warehouse (and in the SKU index)."""
    stack, sandbox = local_world
    store, consumer = _world(stack, sandbox, clock, products=30, variants=1, page_size=10)
    _run(stack, consumer, "full")
    _events(stack)
    table = stack.resource("dynamodb").Table(stack.environment()["BCSYNC_STATE_TABLE"])
    held = CatalogState(table, STORE).sku_index()
    in_page_two = sorted(store.products)[12:18]  # both are read after the edit, on the second page
    edited, deleted = [p for p in in_page_two if store.products[p]["variants"][0]["sku"] in held][:2]
    edited_sku = store.products[edited]["variants"][0]["sku"]
    edited_variant = store.products[edited]["variants"][0]["id"]
    pages: list[int] = []

    def edit_after_the_first_page(exchange: Any) -> None:
        if (exchange.store_hash, exchange.api_path) == (STORE, "/v3/catalog/products") and not pages:
            pages.append(1)
            clock.advance(5)  # the merchant's edit comes after the run's start
            store.update_variant(edited, edited_variant, price=12.34)
            store.delete_product(deleted)

    clock.advance(600)
    _calls(consumer)
    sandbox.observers.append(edit_after_the_first_page)
    figures = _run(stack, consumer, "full")
    sandbox.observers.remove(edit_after_the_first_page)

    events = _events(stack)
    archived = [e["detail"]["data"]["product_id"] for e in events if e["detail-type"] == "Product Archived"]
    assert archived == [deleted] and figures["skus_archived"] == 1
    assert edited_sku in CatalogState(table, STORE).sku_index()
    upserted = [e["detail"]["data"] for e in events if e["detail-type"] == "Product Upserted"]
    assert [(u["product_id"], u["price"]) for u in upserted] == [(edited, "12.34")]  # read anew, sent as it is now
    # 29 products listed in three pages of 10, and one read by id of the two the second page missed
    assert _calls(consumer)["GET /v3/catalog/products"] == 3 + 1
    clock.advance(600)
    _run(stack, consumer, "delta")  # the next delta finds the edit already sent
    assert _events(stack) == []
