from __future__ import annotations

import pytest

from bigcommerce_client import BudgetExhaustedError, RateGovernor, VirtualClock


def headers(left: int, *, quota: int = 150, reset_ms: int = 10_000, window_ms: int = 30_000) -> dict[str, str]:
    return {
        "X-Rate-Limit-Requests-Left": str(left),
        "X-Rate-Limit-Requests-Quota": str(quota),
        "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
        "X-Rate-Limit-Time-Window-Ms": str(window_ms),
    }


def test_sends_freely_until_the_reserve_for_other_apps() -> None:
    clock = VirtualClock()
    governor = RateGovernor(store_hash="abc", clock=clock, reserve_ratio=0.5, max_wait_seconds=60)
    governor.acquire()
    governor.observe(headers(80))
    sent = 0
    start = clock.now()
    while clock.now() == start:
        governor.acquire()
        sent += 1
        governor.observe(headers(80 - sent, reset_ms=int((start + 10 - clock.now()) * 1000)))
    # 80 left, reserve 75: five more requests, then a wait for the window to reset.
    assert sent == 6
    assert clock.now() == pytest.approx(start + 10)
    assert governor.stats.waits == 1


def test_raises_budget_exhausted_with_the_reset_time_when_the_wait_is_long() -> None:
    clock = VirtualClock()
    governor = RateGovernor(store_hash="abc", clock=clock, reserve_ratio=0.5, max_wait_seconds=5)
    governor.acquire()
    governor.observe(headers(75, reset_ms=20_000))
    with pytest.raises(BudgetExhaustedError) as caught:
        governor.acquire()
    assert caught.value.retry_at == pytest.approx(clock.now() + 20)
    assert "abc" in str(caught.value)


def test_counts_requests_in_flight_against_the_budget() -> None:
    governor = RateGovernor(store_hash="abc", clock=VirtualClock(), reserve_ratio=0.5, max_wait_seconds=0)
    governor.acquire()
    governor.observe(headers(77))
    governor.acquire()  # 76 after this one lands
    governor.acquire()  # 75: the reserve, still allowed
    with pytest.raises(BudgetExhaustedError):
        governor.acquire()  # would leave 74


def test_a_new_window_restores_the_budget() -> None:
    clock = VirtualClock()
    governor = RateGovernor(store_hash="abc", clock=clock, reserve_ratio=0.5, max_wait_seconds=0)
    governor.acquire()
    governor.observe(headers(75, reset_ms=1_000))
    clock.advance(1.5)
    governor.acquire()  # no error: the window rolled over


def test_responses_without_headers_change_nothing() -> None:
    governor = RateGovernor(store_hash="abc", clock=VirtualClock())
    governor.acquire()
    assert governor.observe({}) is None
    governor.acquire()


def test_rejects_a_reserve_that_leaves_nothing() -> None:
    with pytest.raises(ValueError, match="reserve_ratio"):
        RateGovernor(store_hash="abc", clock=VirtualClock(), reserve_ratio=1.0)
