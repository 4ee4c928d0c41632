"""What every benchmark stands on: a store connected to a local stack on one compressed clock, a warehouse that
takes the events as they come, and the figures they share (the scale, percentiles). bench/run.py and each
scenario module of its own (bench/readback.py, bench/stores_500.py) import it; it imports none of them."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bcsync.cli import main as bcsync_cli
from bigcommerce_client import VirtualClock
from bigcommerce_sandbox import Sandbox, SandboxStore
from local_runtime import LocalDeployment

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
TOKEN = "bench-token-0000"  # noqa: S105 - the sandbox's, never a real store's


def connect(store_hash: str, *, webhooks: bool = False) -> None:
    out = io.StringIO()
    argv = ["stores", "connect", store_hash, *([] if webhooks else ["--no-webhooks"])]
    if bcsync_cli(argv, stdin=io.StringIO(TOKEN), out=out) != 0:
        raise SystemExit(f"bench: connecting {store_hash} failed: {out.getvalue()}")


@contextlib.contextmanager
def bench_store(
    store_hash: str, *, other_apps: int = 0, webhooks: bool = False
) -> Iterator[tuple[VirtualClock, LocalDeployment, Sandbox, SandboxStore, dict[str, str]]]:
    """A Standard-plan store (80 ms a call) connected to a local stack, both on one compressed clock."""
    clock = VirtualClock()
    with (
        LocalDeployment(clock=clock) as stack,
        Sandbox(clock=clock, latency_seconds=0.08) as sandbox,
        stack.environ() as env,
    ):
        os.environ["BIGCOMMERCE_API_URL"] = sandbox.url
        store = sandbox.add_store(store_hash, token=TOKEN, quota=150, other_apps=other_apps)
        connect(store_hash, webhooks=webhooks)
        yield clock, stack, sandbox, store, env


def sellable_of(store: SandboxStore) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(p, v) for p in store.products.values() for v in p["variants"] if p["is_visible"]]


class Warehouse(threading.Thread):
    """Consumes WarehouseOutbound while the job runs, as a warehouse does: moto scans a whole queue on
    every send and every delete, so a queue left to fill with 30,000 events makes the run quadratic."""

    def __init__(self, stack: LocalDeployment) -> None:
        super().__init__(daemon=True)
        self._sqs, self._url = stack.client("sqs"), stack.physical["WarehouseOutbound"]["Ref"]
        self._stop = threading.Event()
        self.total = 0
        self.keys: set[str] = set()

    def run(self) -> None:
        while not self._stop.is_set():
            if not self._take():
                self._stop.wait(0.05)

    def _take(self) -> int:
        batch = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10).get("Messages", [])
        for message in batch:
            self.total += 1
            self.keys.add(json.loads(message["Body"])["detail"]["idempotency_key"])
        if batch:
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)],
            )
        return len(batch)

    def counted(self) -> tuple[int, int]:
        """(events, distinct idempotency keys) since the last call, once the queue is empty."""
        self._stop.set()
        if self.ident is not None:  # started
            self.join()
        while self._take():
            pass
        counted = (self.total, len(self.keys))
        self.total, self.keys = 0, set()
        return counted


def drain_count(stack: LocalDeployment, logical: str) -> tuple[int, int]:
    """(messages, distinct idempotency keys) left on a queue."""
    assert logical == "WarehouseOutbound"
    return Warehouse(stack).counted()


def run_job(stack: LocalDeployment, function: str, queue: str, event: dict[str, Any]) -> int:
    """Runs a tick and its job messages; returns how many invocations the queue took."""
    handler = stack.load_handler(function)
    with contextlib.redirect_stdout(io.StringIO()):  # the handlers' JSON logs and EMF lines
        handler(event, stack.context(function))
        report = stack.deliver_sqs(queue, handler, max_invocations=10_000)
    if report.failed or report.errors:
        raise SystemExit(f"bench: {function} failed: {report}")
    return report.invocations


def shipment_message(store_hash: str, order_id: int, lines: list[dict[str, Any]]) -> str:
    return json.dumps({"type": "Shipment Confirmed", "schema_version": 1, "store_hash": store_hash,
                       "order_id": order_id, "warehouse_shipment_id": f"WH-{order_id}",
                       "tracking_number": f"1ZBENCH{order_id}", "carrier": "UPS", "service": "Ground",
                       "lines": [{"order_product_id": line["id"], "quantity": line["quantity"]}
                                 for line in lines]})  # fmt: skip


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]
