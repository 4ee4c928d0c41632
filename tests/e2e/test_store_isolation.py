"""One deployment serves many stores: a message names its store, and only that store's secret may act on it."""

from __future__ import annotations

from bigcommerce_sandbox import Sandbox, SandboxStore, add_order
from local_runtime import LocalDeployment
from tests.aws import drain, reason_of
from tests.stores import calls_since, connected_store, mark

World = tuple[LocalDeployment, Sandbox]


def _paid_order(store: SandboxStore) -> int:
    product = next(p for p in store.products.values() if p["is_visible"])
    return add_order(store, lines=[(product, product["variants"][0], 1)])


def test_a_store_whose_secret_holds_another_stores_token_is_refused_and_the_other_store_runs(
    local_world: World,
) -> None:
    stack, sandbox = local_world
    store_a = connected_store(local_world, "isoa11", "tok-isoa11-aaaa", products=3)
    store_b = connected_store(local_world, "isob22", "tok-isob22-bbbb", products=3)
    order_a, order_b = _paid_order(store_a), _paid_order(store_b)
    # An operator pastes store B's secret into store A's.
    secrets = stack.client("secretsmanager")
    pasted = secrets.get_secret_value(SecretId=stack.credentials().name("isob22"))["SecretString"]
    secrets.put_secret_value(SecretId=stack.credentials().name("isoa11"), SecretString=pasted)
    since = mark(sandbox)

    handler = stack.load_handler("OrderImportFunction")
    handler({"action": "tick"}, stack.context("OrderImportFunction"))
    report = stack.deliver_sqs("OrderImportJobs", handler)

    assert report.failed == 0 and report.errors == 0
    # Store A: not one call, under any token - B's grants never act on A's orders, nor A's job on B's.
    assert calls_since(sandbox, "isoa11", since) == []
    published = [
        (e["detail"]["store_hash"], e["detail"]["data"]["order_id"]) for e in drain(stack, "WarehouseOutbound")
    ]
    assert published == [("isob22", order_b)]  # A's order waits for A's own secret
    assert order_a in store_a.orders
    [refused] = stack.take_messages("OrderImportJobsDLQ")
    reason = reason_of(refused)
    assert "isoa11" in reason and "belongs to store isob22" in reason
