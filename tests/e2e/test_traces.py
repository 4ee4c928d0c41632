"""With active tracing, as deployed: what X-Ray would receive holds the work done, and never a token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bigcommerce_sandbox import Sandbox, add_order
from local_runtime import LocalDeployment
from local_runtime.xray import LocalXRayDaemon
from tests.conftest import KNOWN_TOKENS
from tests.stores import connected_store

World = tuple[LocalDeployment, Sandbox]


@pytest.fixture
def xray(local_stack: LocalDeployment) -> Iterator[LocalXRayDaemon]:
    daemon = LocalXRayDaemon()
    local_stack.trace_with(daemon)
    try:
        yield daemon
    finally:
        local_stack.trace_with(None)
        daemon.close()


def test_traces_show_each_invocation_and_its_calls_and_no_token_even_when_a_store_refuses_it(
    local_world: World, xray: LocalXRayDaemon
) -> None:
    stack, sandbox = local_world
    store = connected_store(local_world, "trc111", "tok-trc111-tr", products=3)
    connected_store(local_world, "trc222", "tok-trc222-tr", products=3)
    product = next(p for p in store.products.values() if p["is_visible"])
    add_order(store, lines=[(product, product["variants"][0], 1)])
    # Store trc222's token is revoked in BigCommerce: its run fails with a 401 that Tracer records.
    del sandbox.stores["trc222"].tokens["tok-trc222-tr"]

    handler = stack.load_handler("OrderImportFunction")
    handler({"action": "tick"}, stack.context("OrderImportFunction"))
    stack.deliver_sqs("OrderImportJobs", handler)

    documents = xray.documents()
    names = {document.get("name") for document in documents}
    assert "## lambda_handler" in names, names  # each invocation's own subsegment
    calls = [d for d in documents if d.get("namespace") == "remote" and "http" in d]
    hosts = {
        d["http"]["request"]["url"].split("/stores/")[-1].split("/")[0]
        for d in calls
        if "/stores/" in d["http"]["request"]["url"]
    }
    assert {"trc111", "trc222"} <= hosts  # the BigCommerce calls of both stores are in the trace
    assert any(d.get("fault") or d.get("error") for d in calls)  # and the refused one shows as such
    text = xray.text()
    assert not [token for token in KNOWN_TOKENS if token in text]
