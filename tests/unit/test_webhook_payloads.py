"""The receiver's payload model and scope list against BigCommerce's own webhook documents."""

from __future__ import annotations

import json
import re

import pytest

from bcsync.webhooks.receiver import HOOK_SCOPES, Delivery
from bigcommerce_sandbox.contract import specs_dir
from bigcommerce_sandbox.webhooks import payload

SAMPLES = sorted((specs_dir() / "docs" / "webhooks" / "callbacks" / "data").glob("*.json"))


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.stem)
def test_every_documented_payload_sample_is_a_delivery(sample: object) -> None:
    body = json.loads(sample.read_text())  # type: ignore[attr-defined]
    delivery = Delivery.model_validate(body)
    assert delivery.scope == body["scope"] and delivery.data.id == body["data"]["id"]


def test_every_scope_we_register_is_one_bigcommerce_documents_and_none_is_an_inventory_scope() -> None:
    # A documented wildcard (`store/shipment/*`) is a scope too.
    documented = set(re.findall(r"store/[A-Za-z/]+\*?", (specs_dir() / "reference" / "webhooks.v3.yml").read_text()))
    assert set(HOOK_SCOPES) <= documented
    assert not [scope for scope in HOOK_SCOPES if "inventory" in scope]  # our own pushes would fire them


def test_the_sandbox_sends_payloads_of_the_same_shape() -> None:
    body = payload(store_hash="abc123", scope="store/order/created", data={"type": "order", "id": 5}, created_at=9)
    assert Delivery.model_validate(body).producer == "stores/abc123"
    # BigCommerce's hash covers `data` only, so one order's two identical updates share it.
    other = payload(store_hash="abc123", scope="store/order/updated", data={"type": "order", "id": 5}, created_at=99)
    assert other["hash"] == body["hash"]


@pytest.mark.parametrize(
    "broken",
    [
        {"scope": "order/created"},
        {"data": {"type": "order"}},
        {"data": {"type": "order", "id": "x"}},
        {"hash": ""},
        {"created_at": -1},
        {"producer": "x" * 65},
    ],
)
def test_a_body_missing_what_a_delivery_always_has_is_refused(broken: dict[str, object]) -> None:
    body = payload(store_hash="abc123", scope="store/order/created", data={"type": "order", "id": 5}, created_at=9)
    with pytest.raises(ValueError, match="validation error"):
        Delivery.model_validate({**body, **broken})
