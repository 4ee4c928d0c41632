"""The product sync function as deployed: its schedule ticks and its queue, on the local runtime."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from bcsync.cli import main as bcsync_cli
from bigcommerce_client import VirtualClock
from bigcommerce_sandbox import Sandbox, seed_catalog
from local_runtime import LocalDeployment
from local_runtime.schedules import fire_schedules
from tests.aws import drain
from tests.conftest import KNOWN_TOKENS


def test_a_schedule_tick_fans_out_and_the_queue_runs_the_sync(
    local_world: tuple[LocalDeployment, Sandbox], clock: VirtualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, sandbox = local_world
    for store_hash in ("fun111", "fun222"):
        seed_catalog(sandbox.add_store(store_hash, token=f"tok-{store_hash}-ab"), products=15, variants_per_product=1)
        KNOWN_TOKENS.add(f"tok-{store_hash}-ab")
        assert (
            bcsync_cli(["stores", "connect", store_hash], stdin=io.StringIO(f"tok-{store_hash}-ab"), out=io.StringIO())
            == 0
        )
    handler = stack.load_handler("ProductSyncFunction")
    results: list[Any] = []
    start = clock.now()
    clock.advance(15 * 60)
    fired = fire_schedules(
        stack,
        start,
        clock.now(),
        lambda fn, event, ctx: results.append(handler(event, ctx)) if fn == "ProductSyncFunction" else None,
    )

    assert [rule for rule, _ in fired if rule.startswith("ProductSync")] == ["ProductSyncFunctionDeltaTick"]
    assert sorted(results[0]["queued"]) == ["fun111", "fun222"]
    report = stack.deliver_sqs("ProductSyncJobs", handler)
    assert report.delivered == 2 and report.failed == 0

    events = drain(stack, "WarehouseOutbound")
    stores = {e["detail"]["store_hash"] for e in events}
    assert stores == {"fun111", "fun222"} and {e["detail-type"] for e in events} == {"Product Upserted"}
    output = capsys.readouterr().out
    run_lines = [json.loads(line) for line in output.splitlines() if '"product sync run"' in line]
    assert {line["store_hash"] for line in run_lines} == {"fun111", "fun222"}
    assert all(line["products"] == 16 and line["outcome"] == "done" for line in run_lines)
    assert '"skus_upserted"' in output  # the metrics (EMF) carry the same figures
