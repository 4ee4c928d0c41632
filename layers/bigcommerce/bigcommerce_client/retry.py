"""When and how long to wait before trying a BigCommerce request again (tenacity)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_base, wait_random_exponential

from .errors import BigCommerceError, RateLimitedError, RetryLaterError

# BigCommerce's rate-limit window: when a 429 names no reset (platform load), the next window is when to try again.
RATE_WINDOW_SECONDS = 30.0

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})


class wait_for_bigcommerce(wait_base):  # noqa: N801 - tenacity's naming for wait strategies
    """Honour the store's reset time on a 429 that says it; otherwise exponential full jitter."""

    def __init__(self, *, initial: float = 0.5, maximum: float = 8.0, reset_jitter: float = 0.25) -> None:
        self._backoff = wait_random_exponential(multiplier=initial, max=maximum)
        self._reset_jitter = reset_jitter

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, float | int):
            # Jitter after the reset, so concurrent callers do not land on the same millisecond.
            return float(retry_after) + random.uniform(0, self._reset_jitter)
        return float(self._backoff(retry_state))


def should_retry(method: str, error: BaseException, max_wait_seconds: float) -> bool:
    """A POST is never retried here: BigCommerce may have acted on it, and only the caller
    (with its intent record and marker) can tell. Budget waits beyond `max_wait_seconds` go
    back to the caller as `RetryLaterError`, for a checkpoint instead of a long sleep."""
    if method.upper() not in IDEMPOTENT_METHODS:
        return False
    if not isinstance(error, BigCommerceError) or not error.retryable:
        return False
    retry_after = getattr(error, "retry_after", None)
    return not (isinstance(error, RetryLaterError) and retry_after is not None and retry_after > max_wait_seconds)


def _unannounced_429(retry_state: RetryCallState) -> bool:
    outcome = retry_state.outcome
    error = outcome.exception() if outcome is not None else None
    return isinstance(error, RateLimitedError) and error.retry_after is None


class stop_before_paid_waiting(stop_base):  # noqa: N801 - tenacity's naming for stop strategies
    """A 429 that names no reset (BigCommerce under load) is retried in place only until the waits add up to
    `max_wait_seconds` (`wait_within` caps them): then the error goes to the caller, which re-queues the work (a
    job's checkpoint, a message's delay) instead of paying Lambda to sleep through a storm. A 429 with a reset
    is judged by `should_retry`; other errors by the attempts."""

    def __init__(self, max_wait_seconds: float) -> None:
        self._max_wait = max_wait_seconds

    def __call__(self, retry_state: RetryCallState) -> bool:
        return _unannounced_429(retry_state) and retry_state.idle_for >= self._max_wait - 1e-9


class wait_within(wait_base):  # noqa: N801 - tenacity's naming for wait strategies
    """`wait`, except that the waits on 429s naming no reset never add up to more than `max_wait_seconds`."""

    def __init__(self, wait: wait_base, max_wait_seconds: float) -> None:
        self._wait = wait
        self._max_wait = max_wait_seconds

    def __call__(self, retry_state: RetryCallState) -> float:
        seconds = float(self._wait(retry_state))
        if _unannounced_429(retry_state):
            return max(min(seconds, self._max_wait - retry_state.idle_for), 0.0)
        return seconds


def bigcommerce_retrying(
    method: str,
    *,
    attempts: int,
    max_wait_seconds: float,
    wait: wait_base,
    sleep: Callable[[float], None],
    before_sleep: Callable[[RetryCallState], Any] | None = None,
) -> Retrying:
    """The one retry policy of a BigCommerce request sent as `method` (a refund quote is sent as a POST but
    retried as the GET it is): what `should_retry` allows, for at most `attempts`, never waiting in place for
    longer than `max_wait_seconds` on a rate limit."""
    return Retrying(
        stop=stop_after_attempt(attempts) | stop_before_paid_waiting(max_wait_seconds),
        wait=wait_within(wait, max_wait_seconds),
        retry=retry_if_exception(lambda error: should_retry(method, error, max_wait_seconds)),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
