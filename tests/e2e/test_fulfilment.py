"""Fulfillment requests as deployed: FulfillmentRequestsInbound → the real handler → orders in the sandbox."""

from __future__ import annotations

import io
import json
from typing import Any

from bcsync.cli import main as bcsync_cli
from bcsync.store.registry import StoreRegistry
from bigcommerce_sandbox import ALL_SCOPES, Fault, Sandbox, SandboxStore, seed_catalog
from local_runtime import LocalDeployment
from tests.aws import drain, reason_of
from tests.conftest import KNOWN_TOKENS
from tests.stores import calls_since, connected_store, mark

World = tuple[LocalDeployment, Sandbox]
STORE = "ful111"
AWAITING_FULFILLMENT = 11
ADDRESS = {"first_name": "Ada", "last_name": "Lovelace", "street_1": "12 Analytical Row", "city": "Austin",
           "state": "TX", "zip": "78751", "country_iso2": "US", "phone": "555-0199"}  # fmt: skip


def _world(world: World, *, index: bool = True, store_hash: str = STORE, **settings: Any) -> SandboxStore:
    """A source store; its catalog index made by the real product sync unless `index` is False."""
    stack, _ = world
    store = connected_store(world, store_hash, f"tok-{store_hash}-ff", products=3, **({"role": "source"} | settings))
    if index:
        sync = stack.load_handler("ProductSyncFunction")
        sync({"action": "tick"}, stack.context("ProductSyncFunction"))
        stack.deliver_sqs("ProductSyncJobs", sync)
        drain(stack, "WarehouseOutbound")
    return store


def _skus(store: SandboxStore) -> list[str]:
    return [v["sku"] for p in store.products.values() if p["is_visible"] for v in p["variants"] if v.get("sku")]


def _request(request_id: str, lines: list[tuple[str, int]], **fields: Any) -> dict[str, Any]:
    return {
        "type": "Fulfillment Request", "schema_version": 1, "store_hash": STORE, "request_id": request_id,
        "lines": [{"sku": sku, "quantity": quantity, "price": "12.50"} for sku, quantity in lines],
        "ship_to": ADDRESS, "bill_to": {**ADDRESS, "company": "Engines Ltd"}, "email": "ada@example.com",
        "carrier": "UPS", "ship_method": "Ground", "notes": "Leave at the door", **fields,
    }  # fmt: skip


def _send(world: World, *messages: dict[str, Any], **delivery: Any) -> Any:
    stack, _ = world
    sqs, url = stack.client("sqs"), stack.physical["FulfillmentRequestsInbound"]["Ref"]
    for message in messages:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))
    return stack.deliver_sqs("FulfillmentRequestsInbound", stack.load_handler("FulfilmentFunction"), **delivery)


def _answers(world: World) -> list[tuple[str, dict[str, Any]]]:
    return [(event["detail-type"], event["detail"]["data"]) for event in drain(world[0], "WarehouseOutbound")]


def _ours(store: SandboxStore) -> list[dict[str, Any]]:
    return [order for order in store.orders.values() if order.get("external_order_id")]


def test_each_request_is_one_order_in_two_calls_delivered_twice_or_its_answer_lost(local_world: World) -> None:
    stack, sandbox = local_world
    store = _world(local_world)
    first, second = _skus(store)[:2]
    before = mark(sandbox)

    report = _send(local_world, _request("REQ-1", [(first, 2), (second, 1)]))

    assert report.failed == 0
    (order,) = _ours(store)
    assert order["external_order_id"] == "REQ-1" and order["status_id"] == AWAITING_FULFILLMENT
    assert order["customer_id"] == 0  # a guest
    assert order["billing_address"]["company"] == "Engines Ltd" and order["customer_message"] == "Leave at the door"
    assert [(line["sku"], line["quantity"], line["price_inc_tax"]) for line in store.order_products[order["id"]]] == [
        (first, 2, "12.5000"),
        (second, 1, "12.5000"),
    ]
    (address,) = store.shipping_addresses[order["id"]]
    assert (address["street_1"], address["shipping_method"]) == ("12 Analytical Row", "UPS Ground")
    assert _answers(local_world) == [
        ("Fulfillment Request Accepted",
         {"request_id": "REQ-1", "order_id": order["id"], "status_id": AWAITING_FULFILLMENT, "customer_id": 0}),
    ]  # fmt: skip
    # The floor: the lookup by request id, then the create (the SKUs came from product sync's index).
    assert calls_since(sandbox, STORE, before) == ["GET /v2/orders", "POST /v2/orders"]

    twice = _request("REQ-2", [(first, 1)])
    _send(local_world, twice, twice, reorder=True, seed=3)
    # BigCommerce makes the order, then the connection drops: the client never saw its id.
    sandbox.faults[STORE].queue(Fault.DROP_AFTER, path=r"^/v2/orders$", method="POST")
    report = _send(local_world, _request("REQ-3", [(first, 4)]))

    assert report.failed == 1 and report.delivered == 1  # failed once, then the retry found the order
    assert sorted(order["external_order_id"] for order in _ours(store)) == ["REQ-1", "REQ-2", "REQ-3"]
    accepted = [data["request_id"] for kind, data in _answers(local_world) if kind == "Fulfillment Request Accepted"]
    assert sorted(accepted) == ["REQ-2", "REQ-3"]  # once each

    # A product gone from BigCommerce that product sync's index still names: BigCommerce refuses the order.
    product_id = next(p["id"] for p in store.products.values() if any(v.get("sku") == second for v in p["variants"]))
    removed = store.products.pop(product_id)
    _send(local_world, _request("REQ-G", [(second, 1)]))
    ((kind, data),) = _answers(local_world)
    assert (kind, data["code"]) == ("Fulfillment Request Refused", "bigcommerce_refused")
    assert str(product_id) in data["reason"]
    store.products[product_id] = removed  # restored: the redriven request goes through, nothing was left over
    for message in stack.take_messages("FulfillmentRequestsInboundDLQ"):
        _send(local_world, json.loads(message["Body"]))
    assert "REQ-G" in [order["external_order_id"] for order in _ours(store)]


def test_bad_requests_are_refused_with_their_reason_on_the_bus_and_in_the_dlq_and_nothing_is_created(
    local_world: World,
) -> None:
    stack, sandbox = local_world
    store = _world(local_world, index=False)
    sku, other = _skus(store)[:2]
    variants = [v for p in store.products.values() for v in p["variants"] if v.get("sku")]
    variants[-1]["sku"] = variants[-2]["sku"] = "DUP-1"  # two variants share a SKU
    _world(local_world, index=False, store_hash="ful222", role="sales_channel")
    KNOWN_TOKENS.add("tok-ful333-ff")  # a source whose API account was not granted Customers
    no_customers = sandbox.add_store("ful333", token="tok-ful333-ff", scopes=ALL_SCOPES - {"store_v2_customers"})
    seed_catalog(no_customers, products=3, variants_per_product=2)  # the same SKUs as the first store
    assert bcsync_cli(["stores", "connect", "ful333", "--no-webhooks"], stdin=io.StringIO("tok-ful333-ff"),
                      out=io.StringIO()) == 0  # fmt: skip
    assert bcsync_cli(["stores", "configure", "ful333", "--set", "role=source"], out=io.StringIO()) == 0
    _send(local_world, _request("REQ-OK", [(sku, 1)]))
    _answers(local_world)
    orders_before = len(store.orders)
    bad = {
        "unknown SKU": _request("R-SKU", [(sku, 1), ("NOPE-9", 1)]),
        "SKU on two variants": _request("R-DUP", [("DUP-1", 1)]),
        "no billing address": {key: value for key, value in _request("R-BILL", [(sku, 1)]).items() if key != "bill_to"},
        "quantity 0": _request("R-ZERO", [(sku, 0)]),
        "customer must exist": _request("R-CUST", [(sku, 1)], customer_policy="must_exist", email="who@example.com"),
        "request id reused": _request("REQ-OK", [(other, 3)]),
        "not a source": _request("R-ROLE", [(sku, 1)], store_hash="ful222"),
        "no Customers scope": _request("R-SCOPE", [(sku, 1)], store_hash="ful333", customer_policy="must_exist"),
    }
    before = mark(sandbox)

    _send(local_world, *bad.values())

    refused = {
        data["request_id"]: data for kind, data in _answers(local_world) if kind == "Fulfillment Request Refused"
    }
    assert refused["R-SKU"]["code"] == "unknown_sku" and refused["R-SKU"]["skus"] == ["NOPE-9"]
    assert "NOPE-9" in refused["R-SKU"]["reason"]
    assert refused["R-DUP"]["code"] == "ambiguous_sku" and "DUP-1" in refused["R-DUP"]["reason"]
    assert "bill_to" in refused["R-BILL"]["reason"] and "quantity" in refused["R-ZERO"]["reason"]
    assert refused["R-CUST"]["code"] == "customer_missing" and "who@example.com" in refused["R-CUST"]["reason"]
    assert refused["REQ-OK"]["code"] == "request_id_reused"
    assert refused["R-ROLE"]["code"] == "not_a_source" and "role=source" in refused["R-ROLE"]["reason"]
    assert refused["R-SCOPE"]["code"] == "bigcommerce_refused" and "Customers" in refused["R-SCOPE"]["reason"]
    reasons = [reason_of(message) for message in stack.take_messages("FulfillmentRequestsInboundDLQ")]
    assert len(reasons) == len(bad) and any("NOPE-9" in reason for reason in reasons)
    assert len(store.orders) == orders_before and not store.customers  # nothing half-created
    assert calls_since(sandbox, "ful222", before) == []  # not one call to a store that is not a source
    assert not [call for call in calls_since(sandbox, STORE, before) if call.startswith("POST")]


def test_a_held_request_waits_then_names_the_customer_it_created_or_found(local_world: World) -> None:
    stack, sandbox = local_world
    store = _world(local_world, index=False, hold_minutes=10)
    sku = _skus(store)[0]
    before = mark(sandbox)

    _send(local_world, _request("REQ-C", [(sku, 1)], customer_policy="create_if_missing"))
    assert _ours(store) == [] and calls_since(sandbox, STORE, before) == []  # held: not sent yet
    stack.clock.advance(601)  # type: ignore[attr-defined]
    _send(local_world)
    _send(local_world, _request("REQ-E", [(sku, 1)], customer_policy="must_exist", requested_at="2000-01-01T00:00:00Z"))

    (customer,) = store.customers.values()
    assert (customer["email"], customer["company"]) == ("ada@example.com", "Engines Ltd")
    assert sorted(order["external_order_id"] for order in _ours(store)) == ["REQ-C", "REQ-E"]
    assert [order["customer_id"] for order in _ours(store)] == [customer["id"]] * 2
    calls = calls_since(sandbox, STORE, before)
    assert calls.count("POST /v3/customers") == 1 and calls.count("GET /v3/catalog/variants") == 2  # no index


def test_a_request_for_a_disabled_store_is_kept_with_the_reason_to_redrive_not_dropped(local_world: World) -> None:
    stack, _ = local_world
    store = _world(local_world, index=False, store_hash="ful444")
    StoreRegistry(stack.resource("dynamodb").Table(stack.outputs()["StateTableName"])).set_enabled("ful444", False)

    _send(local_world, {**_request("R-OFF", [(_skus(store)[0], 1)]), "store_hash": "ful444"})

    (dead,) = stack.take_messages("FulfillmentRequestsInboundDLQ")
    assert "store ful444 is disabled" in reason_of(dead) and "redrive" in reason_of(dead)
    assert _ours(store) == []
