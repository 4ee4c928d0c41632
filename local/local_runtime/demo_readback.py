"""`make demo`'s read back stage: a shipment a merchant makes by hand in BigCommerce comes back to the
warehouse as one `Shipment Created`, and bcsync's own shipments (whose webhooks fire too) never do."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

from bcsync.cli import main as bcsync_cli
from bigcommerce_sandbox import add_order
from bigcommerce_sandbox.readback import merchant_ship

if TYPE_CHECKING:
    from .demo_kit import Demo


def shipment_by_hand_comes_back(demo: Demo, env: dict[str, str], *, debounce_seconds: float) -> None:
    """A new order (the hold window set back to none), imported; a merchant ships its first line by hand; the
    webhooks bring it back, with bcsync's own shipments' webhooks, which are not echoed."""
    store, stack = demo.store, demo.stack
    bcsync_cli(["stores", "configure", store.store_hash, "--set", "hold_minutes=0"], out=io.StringIO())
    sellable = [(p, v) for p in store.products.values() for v in p["variants"] if p["is_visible"] and v["sku"]]
    order_id = add_order(store, lines=[(*sellable[0], 1), (*sellable[1], 2)])
    store.webhooks.fire(verify=env["BCSYNC_LOCAL_CA_BUNDLE"])
    demo.run("OrderImportFunction", None, "OrderImportJobs", wait=debounce_seconds + 0.3)
    demo.warehouse.receive(stack)
    first = store.order_products[order_id][0]
    shipment = merchant_ship(store, order_id, {first["id"]: first["quantity"]}, tracking_number="1ZBYHAND0001")
    delivered = store.webhooks.fire(verify=env["BCSYNC_LOCAL_CA_BUNDLE"])  # bcsync's own shipments' too
    demo.run("ReadbackFunction", None, "ReadbackJobs", wait=debounce_seconds + 0.3)
    read_back = []
    for message in stack.take_messages("WarehouseOutbound"):
        event = json.loads(message["Body"])
        if event["detail-type"].startswith("Shipment "):
            read_back.append(event)
        else:
            demo.warehouse.take(event)
    ours = sum(1 for rows in store.shipments.values() for row in rows if "[bcsync shipment " in row["comments"])
    mine = [e for e in read_back if e["detail"]["data"]["bigcommerce_shipment_id"] == shipment["id"]]
    demo.check(len(read_back) == 1 and len(mine) == 1, f"1 shipment made by hand, {len(read_back)} events")
    left = sum(row["quantity_remaining"] for row in mine[0]["detail"]["data"]["remaining"]) if mine else -1
    calls = demo.calls("ReadbackFunction", lambda module: module.FUNCTION.calls)
    print(
        f"9. Read back (hold_minutes=0 again): a shipment made by hand in BigCommerce (order {order_id}, "
        f"tracking 1ZBYHAND0001) → "
        f"{len(read_back)} Shipment Created, {left} units left for the warehouse to ship; bcsync's own {ours} "
        f"shipments not echoed ({len(delivered)} webhooks, {calls} BigCommerce calls: one list per order with news)"
    )
