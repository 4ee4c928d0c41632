"""Lambda's memory by measurement: the GB-seconds model, and the cold-import ratio, with figures to check by hand."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from local_runtime.invoke import Invocation
from local_runtime.usage import AwsUsage, cheapest_memory, cpu_factor, gb_seconds_by_memory, lambda_seconds

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_waiting_costs_by_memory_and_cpu_costs_alike_below_one_vcpu() -> None:
    # 1 s of wall time of which 0.1 s on the CPU, and 2 s waiting for BigCommerce on the compressed clock.
    waits = Invocation("OrderImportFunction", 1024, wall_seconds=1.0, clock_seconds=2.0, cpu_seconds=0.1)
    # All CPU, no waiting.
    works = Invocation("ProductSyncFunction", 1024, wall_seconds=1.0, clock_seconds=0.0, cpu_seconds=1.0)

    assert cpu_factor(256) == pytest.approx(1769 / 256) and cpu_factor(2048) == 1.0
    assert lambda_seconds(waits, 1024) == pytest.approx(2.9 + 0.1 * 1769 / 1024, abs=0.001)  # 3.073 s
    table = gb_seconds_by_memory([waits, works])
    # Waiting: 2.9 s at every size, so GB-s grow with memory; its 0.1 s of CPU stretch to 0.69 s at 256 MB.
    assert table["OrderImportFunction"] == {256: 0.898, 512: 1.623, 1024: 3.073}
    # CPU alone: 1 s on a whole core is 6.91 s at 256 MB, 1.73 s at 1,024 MB: about 1.73 GB-s either way.
    assert table["ProductSyncFunction"] == {256: 1.728, 512: 1.728, 1024: 1.728}
    assert gb_seconds_by_memory([works], [2048])["ProductSyncFunction"] == {2048: 2.0}  # a vCPU is the most it gets


def test_the_cheapest_memory_is_chosen_among_those_the_lag_allows() -> None:
    table = {256: 0.898, 512: 1.623, 1024: 3.073}
    assert cheapest_memory(table, [256, 512, 1024]) == 256
    assert cheapest_memory(table, [512, 1024]) == 512  # 256 MB would miss the lag target
    assert cheapest_memory({256: 1.728, 512: 1.728, 1024: 1.728}, [1024, 512, 256]) == 256  # a tie: the smaller


def test_the_bill_prices_an_invocation_at_its_memory_with_its_cpu_stretched() -> None:
    at_256 = Invocation("WebhookReceiverFunction", 256, wall_seconds=0.2, clock_seconds=0.0, cpu_seconds=0.1)
    unmeasured = Invocation("WebhookReceiverFunction", 256, wall_seconds=0.2, clock_seconds=0.0)  # no CPU figure

    stretched = AwsUsage().bill([at_256])["counted"]["lambda_gb_seconds"]
    assert stretched == pytest.approx(0.25 * (0.1 + 0.1 * 1769 / 256), abs=0.001)  # 0.198 GB-s
    assert AwsUsage().bill([unmeasured])["counted"]["lambda_gb_seconds"] == pytest.approx(0.05)  # wall time, as before


def test_a_handlers_import_is_measured_against_boto3s_in_the_same_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    run: Any = importlib.import_module("run")

    assert run.median([5.0, 1.0, 3.0]) == 3.0 and run.median([4.0, 1.0, 3.0, 2.0]) == 2.5
    # A loaded machine doubles both: the ratio stays.
    assert run.ratio_to_boto3([300.0, 310.0, 290.0], [150.0, 140.0, 160.0]) == 2.0
    assert run.ratio_to_boto3([600.0, 620.0, 580.0], [300.0, 280.0, 320.0]) == 2.0
