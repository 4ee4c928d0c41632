"""Hook registration against the sandbox: one active hook per scope, nothing else touched."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from bcsync.webhooks.receiver import HOOK_SCOPES, SECRET_HEADER
from bcsync.webhooks.registration import ensure_hooks, remove_hooks, webhook_destination
from tests.conftest import StoreFactory

DESTINATION = webhook_destination("https://hooks.example.com/webhooks/", "reg123")
SECRET = SecretStr("whsec-reg123-0123456789")


def _ours(hooks: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    return [hook for hook in hooks.values() if hook["destination"] == DESTINATION]


def test_first_registration_creates_one_active_hook_per_scope_with_the_secret_header(
    make_store: StoreFactory,
) -> None:
    store, client = make_store("reg123")
    report = ensure_hooks(client, destination=DESTINATION, secret=SECRET)

    hooks = _ours(store.hooks)
    assert sorted(str(hook["scope"]) for hook in hooks) == sorted(HOOK_SCOPES)
    assert all(hook["is_active"] and hook["headers"] == {SECRET_HEADER: SECRET.get_secret_value()} for hook in hooks)
    assert DESTINATION == "https://hooks.example.com/webhooks/reg123"
    assert sorted(report.created) == sorted(HOOK_SCOPES) and not report.deleted


def test_registering_again_changes_nothing_and_costs_one_call(make_store: StoreFactory) -> None:
    store, client = make_store("reg123")
    ensure_hooks(client, destination=DESTINATION, secret=SECRET)
    ids_before = sorted(store.hooks)
    calls_before = client.counter.total()

    report = ensure_hooks(client, destination=DESTINATION, secret=SECRET)

    assert sorted(store.hooks) == ids_before
    assert not report.changed() and report.summary() == "all in place"
    assert client.counter.total() - calls_before == 1


def test_repair_reactivates_recreates_dedupes_and_leaves_other_apps_alone(make_store: StoreFactory) -> None:
    store, client = make_store("reg123")
    ensure_hooks(client, destination=DESTINATION, secret=SECRET)
    by_scope = {hook["scope"]: hook for hook in _ours(store.hooks)}
    by_scope["store/order/created"]["is_active"] = False  # BigCommerce gave up after failed deliveries
    del store.hooks[by_scope["store/product/updated"]["id"]]  # deleted by hand in the control panel
    client.create_hook(scope="store/order/updated", destination=DESTINATION, headers={SECRET_HEADER: "stale"})
    client.create_hook(scope="store/cart/created", destination=DESTINATION, headers={})  # no longer ours to need
    other_app = client.create_hook(scope="store/order/created", destination="https://other.example.com/hook")

    report = ensure_hooks(client, destination=DESTINATION, secret=SECRET)

    hooks = _ours(store.hooks)
    assert sorted(str(hook["scope"]) for hook in hooks) == sorted(HOOK_SCOPES)
    assert all(hook["is_active"] and hook["headers"] == {SECRET_HEADER: SECRET.get_secret_value()} for hook in hooks)
    assert report.reactivated == ["store/order/created"] and report.created == ["store/product/updated"]
    assert sorted(report.deleted) == ["store/cart/created", "store/order/updated"]
    assert store.hooks[other_app.id]["destination"] == "https://other.example.com/hook"


def test_remove_deletes_only_our_hooks(make_store: StoreFactory) -> None:
    store, client = make_store("reg123")
    ensure_hooks(client, destination=DESTINATION, secret=SECRET)
    other_app = client.create_hook(scope="store/order/created", destination="https://other.example.com/hook")

    assert remove_hooks(client, destination=DESTINATION) == len(HOOK_SCOPES)
    assert list(store.hooks) == [other_app.id]


def test_the_sandbox_refuses_a_destination_bigcommerce_would_refuse(make_store: StoreFactory) -> None:
    from bigcommerce_client import UnprocessableError

    _, client = make_store("reg123")
    for destination in ("http://hooks.example.com/webhooks/reg123", "https://hooks.example.com:8443/webhooks/reg123"):
        try:
            client.create_hook(scope="store/order/created", destination=destination)
        except UnprocessableError:
            continue
        raise AssertionError(f"{destination} was accepted")
