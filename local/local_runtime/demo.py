"""`make demo`: bcsync on this machine - the local stack (moto on 127.0.0.1) and the BigCommerce sandbox.

No AWS account, no network. It runs whatever exists and names what is not there yet.
"""

from __future__ import annotations

import io
import math
import os
import sys
import time

from bcsync.cli import main as bcsync_cli
from bcsync.consumer import build_job_consumer
from bcsync.jobs import Continue, JobContext, JobQueue, JobStep, fan_out
from bcsync.settings import RuntimeConfig, StoreSettings
from bcsync.state import JobState, StoreRegistry
from bigcommerce_client import SYSTEM_CLOCK, BigCommerceClient
from bigcommerce_sandbox import Sandbox, seed_catalog, seed_orders

from .runtime import JOB_QUEUES, LocalStack

STORE = "demo123"
DEMO_TOKEN = "demo-token-sandbox-only"  # noqa: S105 - valid on the local sandbox and nowhere else
NOT_YET_THERE = ("product sync", "order import", "inventory push", "tracking writeback", "webhook receiver")


def catalog_read(settings: StoreSettings, client: BigCommerceClient) -> JobStep:
    """What runs on the product-sync queue until the product sync job lands: a full catalog read."""

    def step(context: JobContext) -> Continue | None:
        for product in client.iter_products():
            context.count("products")
            context.count("variants", len(product.variants))
        return None

    return step


def main() -> int:
    started = time.monotonic()
    problems: list[str] = []
    with Sandbox() as sandbox, LocalStack() as stack, stack.environ() as env:
        os.environ["BIGCOMMERCE_API_URL"] = sandbox.url
        store = sandbox.add_store(STORE, token=DEMO_TOKEN)
        seed_catalog(store, products=600)
        seed_orders(store, orders=60)
        print(f"BigCommerce sandbox on {sandbox.url}; AWS (moto) on {stack.endpoint}")
        print(
            f"Stack: {len(stack.created)} resources created from template.yaml, {len(stack.not_emulated)} not emulated"
        )

        out = io.StringIO()
        if bcsync_cli(["stores", "connect", STORE], stdin=io.StringIO(DEMO_TOKEN), out=out) != 0:
            print("demo failed: bcsync stores connect did not connect the demo store", file=sys.stderr)
            return 1
        print("$ bcsync stores connect demo123   (token on stdin)\n  " + out.getvalue().strip())

        table = stack.resource("dynamodb").Table(env["BCSYNC_STATE_TABLE"])
        registry, sqs = StoreRegistry(table), stack.client("sqs")
        for job, logical in JOB_QUEUES.items():
            tick = fan_out(job, registry, JobQueue(sqs, stack.physical[logical]["Ref"]))
            problems += tick.problems
            print(f"Schedule tick {job:<19} → job messages for {', '.join(tick.queued) or 'no store'}")

        consumer = build_job_consumer(
            "product_sync", config=RuntimeConfig.from_env(), step_factory=catalog_read, clock=SYSTEM_CLOCK
        )
        report = stack.deliver_sqs("ProductSyncJobs", consumer.handle)  # type: ignore[arg-type]
        run = JobState(table).last_run(STORE, "product_sync")
        calls = consumer.calls.by_endpoint(STORE).get("GET /v3/catalog/products", 0)
        if run is None or run.outcome != "done" or report.failed:
            problems.append("the product-sync queue's message did not complete")
        else:
            products = run.figures.get("products", 0)
            print(
                f"Job consumer on ProductSyncJobs: {products} products, {run.figures.get('variants', 0)} variants "
                f"read in {calls} BigCommerce calls (floor {math.ceil(products / 250)})"
            )
        waiting = [f"{job}: {_depth(stack, logical)}" for job, logical in JOB_QUEUES.items() if job != "product_sync"]
        print("Job messages waiting for their jobs: " + ", ".join(waiting))
    print("Not there yet: " + ", ".join(NOT_YET_THERE))
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    print(f"Done in {time.monotonic() - started:.1f} s; every server it started is stopped.")
    return 1 if problems else 0


def _depth(stack: LocalStack, logical: str) -> str:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.physical[logical]["Ref"], AttributeNames=["ApproximateNumberOfMessages"]
    )
    return str(attributes["Attributes"]["ApproximateNumberOfMessages"])


if __name__ == "__main__":
    sys.exit(main())
