"""`make demo`, as far as bcsync goes today: the client against a seeded sandbox store.

It reads what the four jobs will read, with the calls it takes, and names the jobs that
are not there yet. The full loop (webhooks, jobs, a simulated warehouse) grows in here.
"""

from __future__ import annotations

import math
import sys
from datetime import UTC, datetime

from bigcommerce_client import BigCommerceClient, BigCommerceError, VirtualClock

from .seed import seed_catalog, seed_orders
from .server import Sandbox

DEMO_TOKEN = "demo-token"  # noqa: S105 - the sandbox's own, valid nowhere else
JOBS_NOT_YET_THERE = ("product sync", "order import", "inventory push", "tracking writeback", "webhook receiver")


def main() -> int:
    clock = VirtualClock()
    with Sandbox(clock=clock, latency_seconds=0.08) as sandbox:
        store = sandbox.add_store("demo123", token=DEMO_TOKEN)
        seed_catalog(store, products=600)
        seed_orders(store, orders=300)
        client = BigCommerceClient(store_hash="demo123", access_token=DEMO_TOKEN, api_url=sandbox.url, clock=clock)
        started = clock.now()
        try:
            info = client.get_store_info()
            products = list(client.iter_products())
            variants = sum(len(product.variants) for product in products)
            orders = list(client.iter_orders(modified_since=datetime(2000, 1, 1, tzinfo=UTC)))
            capped = [
                order.id
                for order in orders
                if order.embedded_consignments
                and any(c.line_items_truncated for c in order.embedded_consignments.shipping)
            ]
            for order_id in capped:
                list(client.iter_order_products(order_id))
        except BigCommerceError as error:
            print(f"demo failed: {error}", file=sys.stderr)
            return 1
        calls = client.counter.by_endpoint()
        simulated = clock.now() - started
    product_floor = math.ceil(len(products) / 250)
    order_floor = len(orders) // 250 + 1
    print(f"Store {info['name']} on the local sandbox ({sandbox.url})")
    print(f"  products: {len(products)} ({variants} variants) in {calls['GET /v3/catalog/products']} calls"
          f" (floor {product_floor})")  # fmt: skip
    print(
        f"  orders:   {len(orders)} with lines and addresses in {calls['GET /v2/orders']} calls (floor {order_floor})"
    )
    print(f"  orders over the 50-line consignment cap completed from /products: {len(capped)}")
    print(f"  simulated time: {simulated:.1f} s at 80 ms per call")
    print("Not there yet: " + ", ".join(JOBS_NOT_YET_THERE))
    ok = len(products) == len(store.products) and len(orders) == len(store.orders)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
