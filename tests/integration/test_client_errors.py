"""Bad input and bad days: each ends in a typed error a store owner can act on."""

from __future__ import annotations

import pytest

from bigcommerce_client import (
    AuthenticationError,
    BigCommerceClient,
    MalformedResponseError,
    MissingScopeError,
    NetworkError,
    RateLimitedError,
    ServerError,
    UnknownStoreError,
    VirtualClock,
)
from bigcommerce_client.models import ShipmentCreate, ShipmentItem
from bigcommerce_sandbox import Fault, Sandbox, add_order, seed_catalog
from tests.conftest import KNOWN_TOKENS, StoreFactory


def test_a_wrong_token_is_an_authentication_error_without_the_token_in_it(
    make_store: StoreFactory, sandbox: Sandbox
) -> None:
    make_store()
    KNOWN_TOKENS.add("wrong-token-1234")
    client = BigCommerceClient(store_hash="abc123", access_token="wrong-token-1234", api_url=sandbox.url)
    with pytest.raises(AuthenticationError) as caught:
        client.get_store_info()
    assert "abc123" in str(caught.value)
    assert "wrong-token-1234" not in str(caught.value) + repr(caught.value) + repr(caught.value.__cause__)
    assert client.counter.total() == 1  # not retried: it will not get better


def test_a_missing_scope_is_named(sandbox: Sandbox) -> None:
    KNOWN_TOKENS.add("read-only-orders")
    sandbox.add_store("abc123", token="read-only-orders", scopes=frozenset({"store_v2_orders_read_only"}))
    client = BigCommerceClient(store_hash="abc123", access_token="read-only-orders", api_url=sandbox.url)
    with pytest.raises(MissingScopeError) as caught:
        list(client.iter_products())
    assert caught.value.scope == "Products (read-only, store_v2_products_read_only)"
    assert "store_v2_products_read_only" in str(caught.value)


def test_an_unknown_store_hash_says_so(make_store: StoreFactory, sandbox: Sandbox) -> None:
    make_store()
    client = BigCommerceClient(store_hash="nosuchstore", access_token="token-abc123-5ecret", api_url=sandbox.url)
    with pytest.raises(UnknownStoreError, match="nosuchstore"):
        client.get_store_info()


def test_a_body_that_is_not_json_is_retried_then_reported(make_store: StoreFactory, sandbox: Sandbox) -> None:
    _, client = make_store(max_attempts=3)
    sandbox.faults["abc123"].queue(Fault.NOT_JSON, times=3)
    with pytest.raises(MalformedResponseError, match="not JSON"):
        client.get_store_info()
    assert client.counter.total() == 3


def test_a_truncated_body_is_retried_and_the_page_arrives_whole(make_store: StoreFactory, sandbox: Sandbox) -> None:
    store, client = make_store()
    seed_catalog(store, products=12)
    sandbox.faults["abc123"].queue(Fault.TRUNCATED, path="/v3/catalog/products")
    assert len(list(client.iter_products())) == len(store.products)
    assert client.counter.total() == 2


def test_a_5xx_storm_ends_in_a_server_error_after_the_allowed_attempts(
    make_store: StoreFactory, sandbox: Sandbox
) -> None:
    _, client = make_store(max_attempts=4)
    sandbox.faults["abc123"].queue(Fault.UNAVAILABLE, times=10)
    with pytest.raises(ServerError, match="503"):
        client.get_store_info()
    assert client.counter.total() == 4


def test_a_429_storm_without_a_reset_waits_in_place_at_most_max_wait_then_goes_to_the_caller(
    make_store: StoreFactory, sandbox: Sandbox, clock: VirtualClock
) -> None:
    # BigCommerce under load answers 429 with no rate-limit headers. Sleeping through that bills Lambda for
    # nothing: past `max_wait_seconds` the error goes to the job, which checkpoints and re-queues itself.
    _, client = make_store(max_wait_seconds=1.0, backoff_initial=0.5, backoff_max=8.0, max_attempts=8)
    sandbox.faults["abc123"].queue(Fault.RATE_LIMIT_BARE, times=50)
    started = clock.now()
    with pytest.raises(RateLimitedError) as raised:
        client.get_store_info()
    waited = clock.now() - started  # the sandbox answers at once: every second here is a wait in place
    assert waited <= 1.0 + 1e-6, f"waited {waited:.2f} s in place for a storm"
    assert raised.value.retry_at is None  # the job re-queues for a window's length (bcsync.backbone.runner)
    assert client.counter.total() >= 2  # a short blip is still ridden out in place


def test_two_bare_429s_within_the_wait_are_ridden_out(make_store: StoreFactory, sandbox: Sandbox) -> None:
    _, client = make_store(max_wait_seconds=1.0, backoff_initial=0.5, backoff_max=8.0)
    sandbox.faults["abc123"].queue(Fault.RATE_LIMIT_BARE, times=2)
    assert client.get_store_info() is not None
    assert client.counter.total() == 3


@pytest.mark.parametrize("fault", [Fault.RATE_LIMIT, Fault.RATE_LIMIT_BARE, Fault.BAD_GATEWAY, Fault.DROP_BEFORE])
def test_a_transient_fault_on_a_read_is_retried_transparently(
    make_store: StoreFactory, sandbox: Sandbox, fault: Fault
) -> None:
    _, client = make_store()
    sandbox.faults["abc123"].queue(fault)
    assert client.get_store_info()["id"] == "abc123"
    assert client.counter.total() == 2


def test_a_slow_answer_is_a_timeout_then_a_retry(make_store: StoreFactory, sandbox: Sandbox) -> None:
    _, client = make_store(read_timeout=1.0)  # real seconds: wide of a loaded machine and of the fault
    plan = sandbox.faults["abc123"]
    plan.slow_seconds = 2.5
    plan.queue(Fault.SLOW)
    assert client.get_store_info()["id"] == "abc123"
    assert client.counter.total() == 2


def test_a_post_whose_connection_dropped_after_acting_is_not_retried(
    make_store: StoreFactory, sandbox: Sandbox
) -> None:
    """The shipment exists on BigCommerce: a blind retry would ship it twice."""
    store, client = make_store()
    seed_catalog(store, products=3)
    product = next(iter(store.products.values()))
    order_id = add_order(store, lines=[(product, product["variants"][0], 1)])
    line = store.order_products[order_id][0]
    sandbox.faults["abc123"].queue(Fault.DROP_AFTER, method="POST")
    with pytest.raises(NetworkError):
        client.create_shipment(
            order_id,
            ShipmentCreate(
                order_address_id=line["order_address_id"],
                items=[ShipmentItem(order_product_id=line["id"], quantity=1)],
            ),
        )
    assert len(store.shipments[order_id]) == 1
    assert client.counter.total() == 1


def test_a_put_whose_connection_dropped_after_acting_is_retried_safely(
    make_store: StoreFactory, sandbox: Sandbox
) -> None:
    store, client = make_store()
    seed_catalog(store, products=3)
    order_id = add_order(store, lines=[])
    sandbox.faults["abc123"].queue(Fault.DROP_AFTER, method="PUT")
    assert client.update_order_status(order_id, 10).status_id == 10
    assert client.counter.total() == 2


def test_the_api_url_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, make_store: StoreFactory, sandbox: Sandbox
) -> None:
    make_store()
    monkeypatch.setenv("BIGCOMMERCE_API_URL", sandbox.url)
    client = BigCommerceClient(store_hash="abc123", access_token="token-abc123-5ecret")
    assert client.base_url == f"{sandbox.url}/stores/abc123"
    assert client.get_store_info()["id"] == "abc123"


@pytest.mark.parametrize("fault", [Fault.RATE_LIMIT, Fault.RATE_LIMIT_BARE])
def test_each_429_is_counted_for_its_store(make_store: StoreFactory, sandbox: Sandbox, fault: Fault) -> None:
    store, client = make_store()
    seed_catalog(store, products=3)
    sandbox.faults["abc123"].queue(fault, times=2)

    assert len(list(client.iter_products())) == 4  # three and the bundle, after two retries

    assert client.counter.rate_limited("abc123") == 2
    assert client.counter.rate_limited("other1") == 0
