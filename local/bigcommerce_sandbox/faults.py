"""Faults the sandbox injects on demand: what bites a BigCommerce integration in production."""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum


class Fault(StrEnum):
    RATE_LIMIT = "429"  # with the rate-limit headers
    RATE_LIMIT_BARE = "429-bare"  # platform load: no headers
    SERVER_500 = "500"
    BAD_GATEWAY = "502"
    UNAVAILABLE = "503"
    SLOW = "slow"  # answers after the client's read timeout
    DROP_BEFORE = "drop-before"  # connection closed before the server acted
    DROP_AFTER = "drop-after"  # the server acted, then the connection closed
    TRUNCATED = "truncated"  # the server acted, the body is cut short
    NOT_JSON = "not-json"  # a 200 with an HTML error page

    @property
    def acts(self) -> bool:
        """Whether BigCommerce carried the request out despite the fault."""
        return self in {Fault.SLOW, Fault.DROP_AFTER, Fault.TRUNCATED, Fault.NOT_JSON}


TRANSIENT_FAULTS: tuple[Fault, ...] = tuple(Fault)


@dataclass
class FaultPlan:
    """Queued faults fire first (in order, on matching requests); then random ones at `rate`."""

    rate: float = 0.0
    kinds: tuple[Fault, ...] = TRANSIENT_FAULTS
    seed: int = 0
    path_pattern: str | None = None
    methods: frozenset[str] = frozenset({"GET", "PUT", "POST", "DELETE"})
    slow_seconds: float = 1.0
    injected: Counter[Fault] = field(default_factory=Counter)
    _queue: list[tuple[Fault, re.Pattern[str] | None, str | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._pattern = re.compile(self.path_pattern) if self.path_pattern else None

    def queue(self, fault: Fault, *, times: int = 1, path: str | None = None, method: str | None = None) -> None:
        with self._lock:
            pattern = re.compile(path) if path else None
            self._queue.extend([(fault, pattern, method.upper() if method else None)] * times)

    def draw(self, method: str, api_path: str) -> Fault | None:
        with self._lock:
            for index, (fault, pattern, only_method) in enumerate(self._queue):
                if (pattern is None or pattern.search(api_path)) and (only_method in (None, method)):
                    del self._queue[index]
                    self.injected[fault] += 1
                    return fault
            if self.rate <= 0 or method not in self.methods:
                return None
            if self._pattern is not None and not self._pattern.search(api_path):
                return None
            if self._rng.random() >= self.rate:
                return None
            fault = self._rng.choice(self.kinds)
            self.injected[fault] += 1
            return fault
