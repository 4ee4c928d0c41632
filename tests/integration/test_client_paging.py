"""Paging as a store owner relies on it: every order and product, once, in few calls."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

from bigcommerce_client import BigCommerceClient, VirtualClock
from bigcommerce_sandbox import Sandbox, SandboxStore, add_order, seed_catalog, seed_orders
from tests.conftest import StoreFactory

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _catalog_with_orders(make_store: StoreFactory, orders: int = 30) -> tuple[SandboxStore, BigCommerceClient]:
    store, client = make_store()
    seed_catalog(store, products=30)
    seed_orders(store, orders=orders)
    return store, client


def test_orders_arrive_once_each_with_consignments_in_one_call_per_page(make_store: StoreFactory) -> None:
    store, client = _catalog_with_orders(make_store)
    orders = list(client.iter_orders(modified_since=EPOCH, limit=10))
    assert sorted(order.id for order in orders) == sorted(store.orders)
    pages = -(-len(store.orders) // 10)
    # One call per page, plus one that finds the end when the last page is exactly full.
    assert client.counter.by_endpoint() == {"GET /v2/orders": pages + (len(store.orders) % 10 == 0)}
    multi = next(
        order for order in orders if order.embedded_consignments and len(order.embedded_consignments.shipping) == 2
    )
    assert all(consignment.line_items for consignment in multi.embedded_consignments.shipping)  # type: ignore[union-attr]


def test_an_empty_page_is_a_204_and_ends_the_scan(make_store: StoreFactory, sandbox: Sandbox) -> None:
    _, client = make_store()
    assert list(client.iter_orders(modified_since=EPOCH)) == []
    assert client.counter.by_endpoint()["GET /v2/orders"] == 1
    answered = [(e.status, e.response_body) for e in sandbox.recorder.exchanges]  # type: ignore[attr-defined]
    assert answered == [(204, b"")]  # the scan ended on BigCommerce's bodiless 204, not on an error


def test_an_order_changed_during_the_scan_comes_again_as_a_new_version(
    make_store: StoreFactory, clock: VirtualClock
) -> None:
    store, client = _catalog_with_orders(make_store)
    first = min(store.orders)
    seen = []
    for order in client.iter_orders(modified_since=EPOCH, limit=5):
        seen.append((order.id, order.date_modified))
        if len(seen) == 3:
            clock.advance(5)
            store.set_order_status(first, 5)  # cancelled mid-scan: it moves to the end of the keyset
    ids = [order_id for order_id, _ in seen]
    assert ids.count(first) == 2
    assert len(set(seen)) == len(seen)  # no (id, date_modified) twice
    assert set(ids) == set(store.orders)  # nothing skipped although page numbers shifted


def test_more_orders_in_one_second_than_a_page_holds_are_all_read(make_store: StoreFactory) -> None:
    store, client = make_store()
    seed_catalog(store, products=5)
    product = next(iter(store.products.values()))
    for _ in range(23):
        add_order(store, lines=[(product, product["variants"][0], 1)], rng=random.Random(1))
    orders = list(client.iter_orders(modified_since=EPOCH, limit=10))
    assert sorted(order.id for order in orders) == sorted(store.orders)


def test_a_60_line_order_shows_the_consignment_cap(make_store: StoreFactory) -> None:
    store, client = _catalog_with_orders(make_store, orders=2)
    big = next(order_id for order_id, lines in store.order_products.items() if len(lines) == 60)
    order = client.get_order(big, include_line_items=True)
    consignment = order.embedded_consignments.shipping[0]  # type: ignore[union-attr]
    assert consignment.line_items_truncated
    assert len(consignment.line_items) == 50
    assert len(list(client.iter_order_products(big))) == 60  # the fallback reads every line


def test_products_page_by_meta_pagination_and_stop_on_the_last_page(make_store: StoreFactory) -> None:
    store, client = make_store()
    seed_catalog(store, products=23)
    products = list(client.iter_products(limit=5))
    assert sorted(product.id for product in products) == sorted(store.products)
    assert client.counter.total() == -(-len(store.products) // 5)
    with_variants = next(product for product in products if len(product.variants) > 1)
    assert with_variants.variants[0].option_values and with_variants.images and with_variants.custom_fields


def test_brands_categories_locations_and_inventory_items_are_read(make_store: StoreFactory) -> None:
    store, client = make_store()
    seed_catalog(store, products=4)
    assert [brand.name for brand in client.iter_brands()] == ["Acme", "Globex", "Initech"]
    categories = {category.category_id: category for category in client.iter_categories()}
    assert categories[12].parent_id == 11 and categories[11].parent_id == 10
    assert {location.id for location in client.iter_locations()} == {1, 2}
    items = list(client.iter_inventory_items())
    assert items and all({level.location_id for level in item.locations} == {1, 2} for item in items)


def test_when_other_apps_use_half_the_quota_the_client_takes_only_what_they_leave_and_meets_no_429(
    make_store: StoreFactory, sandbox: Sandbox, clock: VirtualClock
) -> None:
    other_apps = 75  # per 30-second window, spread evenly: half the Standard plan's 150
    store, client = make_store(other_apps=other_apps)  # the client keeps its default 50 % reserve
    seed_catalog(store, products=5)
    seed_orders(store, orders=160)
    sandbox.latency_seconds = 0.1  # simulated: the other apps' share grows while our calls run

    orders = list(client.iter_orders(modified_since=EPOCH, limit=2))  # 81 calls: more than one window allows

    assert sorted(order.id for order in orders) == sorted(store.orders)
    answered = [e for e in sandbox.recorder.exchanges if e.store_hash == store.store_hash]  # type: ignore[attr-defined]
    assert [e.status for e in answered if e.status == 429] == []
    left = [int(e.response_headers["X-Rate-Limit-Requests-Left"]) for e in answered]
    # What the other apps still had when we stopped: the reserve, less at most the one request of theirs
    # that can land between our last count and our next call.
    assert min(left) >= math.ceil(store.quota * client.governor.reserve_ratio) - 1
    assert client.governor.stats.waits >= 1  # the reserve, not the page count, set the pace
