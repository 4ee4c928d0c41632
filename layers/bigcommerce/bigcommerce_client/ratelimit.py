"""The rate governor: spends a store's API quota without starving the store's other apps.

BigCommerce's quota is per store and shared by every app installed on it. Each response
carries the store's own remaining count (`X-Rate-Limit-Requests-Left`), so concurrent
invocations of ours, in any process, all see one truth; the governor keeps that count at or
above a reserve (default 50 % of the quota) and either waits for the window to reset, when
that is a second or so away, or raises `BudgetExhaustedError` for the caller to checkpoint on.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from .clock import Clock
from .errors import BudgetExhaustedError

HEADER_LEFT = "X-Rate-Limit-Requests-Left"
HEADER_QUOTA = "X-Rate-Limit-Requests-Quota"
HEADER_RESET_MS = "X-Rate-Limit-Time-Reset-Ms"
HEADER_WINDOW_MS = "X-Rate-Limit-Time-Window-Ms"


@dataclass(frozen=True)
class RateLimitHeaders:
    requests_left: int
    quota: int
    reset_ms: int
    window_ms: int | None

    @classmethod
    def parse(cls, headers: Mapping[str, str]) -> RateLimitHeaders | None:
        """None when the headers are absent or unreadable (a 429 under platform load has none)."""
        try:
            left = int(headers[HEADER_LEFT])
            quota = int(headers[HEADER_QUOTA])
            reset_ms = int(headers[HEADER_RESET_MS])
        except (KeyError, ValueError, TypeError):
            return None
        window_raw = headers.get(HEADER_WINDOW_MS)
        window_ms = int(window_raw) if window_raw and window_raw.isdigit() else None
        return cls(requests_left=left, quota=quota, reset_ms=max(reset_ms, 0), window_ms=window_ms)


@dataclass
class GovernorStats:
    waits: int = 0
    waited_seconds: float = 0.0
    lowest_left_seen: int | None = None


class RateGovernor:
    """One per store and process; thread-safe."""

    def __init__(
        self,
        *,
        store_hash: str,
        clock: Clock,
        reserve_ratio: float = 0.5,
        max_wait_seconds: float = 1.0,
    ) -> None:
        if not 0.0 <= reserve_ratio < 1.0:
            raise ValueError("reserve_ratio must be in [0, 1)")
        self.store_hash = store_hash
        self.reserve_ratio = reserve_ratio
        self.max_wait_seconds = max_wait_seconds
        self.stats = GovernorStats()
        self._clock = clock
        self._lock = threading.Lock()
        self._left: int | None = None  # our estimate: the store's last count minus what we sent since
        self._quota: int | None = None
        self._window_s: float | None = None
        self._reset_at: float | None = None
        self._in_flight = 0

    def reserve(self) -> int:
        return math.ceil((self._quota or 0) * self.reserve_ratio)

    def acquire(self) -> None:
        """Block until one request may be sent without going below the reserve, or raise."""
        with self._lock:
            while True:
                now = self._clock.now()
                if self._reset_at is not None and now >= self._reset_at:
                    self._start_new_window(now)
                if self._left is None or self._left - 1 >= self.reserve():
                    if self._left is not None:
                        self._left -= 1
                    self._in_flight += 1
                    return
                assert self._reset_at is not None  # known whenever _left is
                wait = self._reset_at - now
                if wait > self.max_wait_seconds:
                    raise BudgetExhaustedError(
                        f"Store {self.store_hash} has used its share of the BigCommerce API quota "
                        f"(reserve of {self.reserve()} of {self._quota} kept for other apps)",
                        store_hash=self.store_hash,
                        retry_at=self._reset_at,
                    )
                self.stats.waits += 1
                self.stats.waited_seconds += wait
                # Every request of this store waits for the same reset, so holding the lock is right.
                self._clock.sleep(wait)

    def observe(self, headers: Mapping[str, str]) -> RateLimitHeaders | None:
        """Called with every response (429s included); the store's count is the truth."""
        parsed = RateLimitHeaders.parse(headers)
        with self._lock:
            self._in_flight = max(self._in_flight - 1, 0)
            if parsed is None:
                return None
            now = self._clock.now()
            self._quota = parsed.quota
            if parsed.window_ms:
                self._window_s = parsed.window_ms / 1000
            self._reset_at = now + parsed.reset_ms / 1000
            self._left = parsed.requests_left - self._in_flight
            lowest = self.stats.lowest_left_seen
            self.stats.lowest_left_seen = parsed.requests_left if lowest is None else min(lowest, parsed.requests_left)
            return parsed

    def release(self) -> None:
        """A request that got no response at all."""
        with self._lock:
            self._in_flight = max(self._in_flight - 1, 0)

    def _start_new_window(self, now: float) -> None:
        # The store's new count is unknown until the next response: assume the full quota,
        # which the first response of the window corrects.
        self._left = self._quota
        self._reset_at = now + self._window_s if self._window_s else None
        if self._reset_at is None:
            self._left = None
