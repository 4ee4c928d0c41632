"""`bcsync inventory push`: a dry run, or a push job queued."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from bcsync.cli.common import queue_job, state_table, store_client
from bcsync.inventory.push import push_for
from bcsync.store.registry import StoreRegistry
from bigcommerce_client import SYSTEM_CLOCK


def cmd_inventory_push(args: argparse.Namespace, _stdin: TextIO, out: TextIO) -> int:
    if not args.dry_run:
        return queue_job(args, "inventory_push", {"drift": True} if args.drift else {}, out)
    # A dry run is worked out here, from the stored state: no BigCommerce call, nothing written.
    table = state_table(args)
    settings = StoreRegistry(table).get(args.store_hash)
    client, _ = store_client(args, settings)
    with client:
        plan = push_for(settings, client, table=table, clock=SYSTEM_CLOCK).plan(merge=False)
    if args.json:
        changes = [
            {"skus": plan.sellable.skus_of(target), "kind": target.kind, "item_id": target.item_id,
             "location_id": target.location_id, "was": plan.pushed.get(target.key()), "to": quantity}
            for target, quantity in plan.changes.items()
        ]  # fmt: skip
        report = {
            "store_hash": args.store_hash,
            "skus_evaluated": len(plan.sellable.by_sku),
            "changes": changes,
            "stock_messages_waiting": plan.merged,
            "problems": dict(sorted(plan.sellable.problems.items())),
        }
        print(json.dumps(report, indent=2, default=str), file=out)
        return 0
    print(
        f"{args.store_hash}: {len(plan.sellable.by_sku)} SKUs evaluated, {len(plan.changes)} items would change "
        f"({plan.merged} stock messages waiting), {len(plan.sellable.problems)} SKUs with problems",
        file=out,
    )
    for target, quantity in list(plan.changes.items())[: args.limit]:
        was = plan.pushed.get(target.key())
        skus = ", ".join(plan.sellable.skus_of(target))
        print(
            f"  SKU {skus}: {target.kind} {target.item_id} at location {target.location_id}: "
            f"{'-' if was is None else was} → {quantity}",
            file=out,
        )
    for sku, reason in sorted(plan.sellable.problems.items())[: args.limit]:
        print(f"  ! SKU {sku}: {reason}", file=out)
    return 0
