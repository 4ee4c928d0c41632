"""`make demo` as a newcomer runs it: it exits 0 and every stage of the loop does real work."""

from __future__ import annotations

import re
import subprocess
import sys


def test_the_demo_runs_the_whole_loop_and_every_stage_does_real_work() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "local_runtime.demo"], capture_output=True, text=True, timeout=120, check=False
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Connected store demo123" in out and "Webhooks →" in out
    assert re.search(
        r"1\. Product sync: [1-9]\d* SKUs sent to the warehouse; (\d+) BigCommerce calls \(floor \1\)", out
    )
    assert re.search(r"2\. Order import \(schedule tick\): [1-9]\d* paid orders released", out)
    assert "8 deliveries answered [200] → 8 more orders released" in out
    assert re.search(r"4\. Orders now: \d+ released, 3 held, 1 skipped", out)
    shipped = re.search(
        r"5\. Warehouse: \d+ orders acknowledged, (\d+) packages shipped \(([1-9]\d*) orders in two\)", out
    )
    assert shipped is not None
    written = re.search(r"6\. Tracking writeback: (\d+) BigCommerce shipments", out)
    assert written is not None and written.group(1) == shipped.group(1)
    assert re.search(r"7\. Inventory push: [1-9]\d* items set in 1 BigCommerce calls \(floor 1\)", out)
    assert re.search(r"8\. Fulfillment request MKT-10045 \(sent twice\) → BigCommerce order \d+ \(Awaiting "
                     r"Fulfillment\), answered once; 2 BigCommerce calls \(floor 2", out)  # fmt: skip
    assert "every stage did its work; every server it started is stopped" in out
    assert "PROBLEM" not in result.stderr and '"_aws"' not in out  # no stray metric line in the summary
    assert "demo-token-sandbox-only" not in out + result.stderr
