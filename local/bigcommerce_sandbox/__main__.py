"""`bigcommerce-sandbox`: run a seeded local BigCommerce on 127.0.0.1 until interrupted."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from bigcommerce_client.clock import SYSTEM_CLOCK, Clock, ScaledClock

from .contract import specs_dir
from .faults import Fault, FaultPlan
from .seed import seed_catalog, seed_orders, seed_variants
from .server import Sandbox
from .tls import loopback_tls_context


def _store_spec(text: str) -> tuple[str, str, int]:
    parts = text.split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise argparse.ArgumentTypeError(f"expected STORE_HASH:TOKEN[:QUOTA], got {text!r}")
    try:
        quota = int(parts[2]) if len(parts) == 3 else 150
    except ValueError:
        raise argparse.ArgumentTypeError(f"quota must be a whole number in {text!r}") from None
    return parts[0], parts[1], quota


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bigcommerce-sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument(
        "--store",
        action="append",
        type=_store_spec,
        dest="stores",
        help="STORE_HASH:TOKEN[:QUOTA], repeatable (default: demo123:demo-token:150)",
    )
    parser.add_argument("--products", type=int, default=40, help="products seeded per store")
    parser.add_argument("--variants", type=int, default=4, help="variants per seeded product")
    parser.add_argument(
        "--uniform", action="store_true", help="every product visible, with --variants variants, each with a SKU"
    )
    parser.add_argument("--orders", type=int, default=30, help="orders seeded per store")
    parser.add_argument(
        "--other-apps", type=int, default=0, help="requests per 30 s window the stores' other apps make, spread evenly"
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every response")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of requests that meet a random fault")
    parser.add_argument("--faults", default=",".join(f.value for f in Fault), help="fault kinds to draw from")
    parser.add_argument("--clock-factor", type=float, default=1.0, help="run time this many times faster")
    parser.add_argument("--tls-dir", type=Path, help="serve https with a local CA written to DIR/ca.pem")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        kinds = tuple(Fault(kind) for kind in args.faults.split(",") if kind)
    except ValueError as error:
        print(f"bigcommerce-sandbox: {error}", file=sys.stderr)
        return 2
    clock: Clock = ScaledClock(args.clock_factor) if args.clock_factor != 1.0 else SYSTEM_CLOCK
    specs = specs_dir()
    sandbox = Sandbox(
        clock=clock,
        port=args.port,
        latency_seconds=args.latency_ms / 1000,
        specs_dir=specs if specs.exists() else None,
        tls_context=loopback_tls_context(args.tls_dir) if args.tls_dir else None,
    )
    for store_hash, token, quota in args.stores or [("demo123", "demo-token", 150)]:
        store = sandbox.add_store(store_hash, token=token, quota=quota, other_apps=args.other_apps)
        if args.uniform:
            seed_variants(store, products=args.products, variants_per_product=args.variants)
        else:
            seed_catalog(store, products=args.products, variants_per_product=args.variants)
        if args.orders:
            seed_orders(store, orders=args.orders)
        sandbox.faults[store_hash] = FaultPlan(rate=args.fault_rate, kinds=kinds)
    sandbox.start()
    print(json.dumps({"url": sandbox.url, "stores": sorted(sandbox.stores)}), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
