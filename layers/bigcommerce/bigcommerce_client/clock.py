"""The one injectable clock (docs/design.md, "Time").

Every wait in bcsync goes through a `Clock`, so tests and benchmarks can compress
30-second rate-limit windows and hours of traffic into seconds.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Wall-clock time; what runs in Lambda."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class VirtualClock:
    """Time that only moves when someone sleeps: a sleep returns at once and advances `now`.

    Shared by a client and an in-process sandbox, it makes a 30-second window pass
    instantly while keeping every computation about time exact.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


class ScaledClock:
    """Real time run `factor` times faster, for processes that cannot share a VirtualClock.

    Two processes with the same factor agree on durations (rate-limit windows, delays),
    which is all the BigCommerce headers carry.
    """

    def __init__(self, factor: float, start: float | None = None) -> None:
        if factor <= 0:
            raise ValueError("factor must be positive")
        self.factor = factor
        self._start = time.time() if start is None else start
        self._origin = time.monotonic()

    def now(self) -> float:
        return self._start + (time.monotonic() - self._origin) * self.factor

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.factor)


SYSTEM_CLOCK: Clock = SystemClock()


class ProcessClock:
    """The clock a Lambda function's module-level code uses: the system clock in AWS; the local
    runtime points it at its own (virtual or compressed) clock before it imports a handler."""

    def __init__(self) -> None:
        self._target: Clock = SYSTEM_CLOCK

    def use(self, clock: Clock) -> None:
        self._target = clock

    def now(self) -> float:
        return self._target.now()

    def sleep(self, seconds: float) -> None:
        self._target.sleep(seconds)


PROCESS_CLOCK = ProcessClock()
