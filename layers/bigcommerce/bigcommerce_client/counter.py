"""Counts every HTTP request sent to BigCommerce, per store and endpoint (retries included), and the
429s among them: the store's quota is shared with its other apps, so each one is worth seeing."""

from __future__ import annotations

import re
import threading
from collections import Counter

_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")


def endpoint_of(method: str, api_path: str) -> str:
    """`GET /v2/orders/123/products` → `GET /v2/orders/{id}/products`."""
    return f"{method.upper()} {_ID_SEGMENT.sub('/{id}', api_path)}"


class CallCounter:
    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()
        self._rate_limited: Counter[str] = Counter()
        self._lock = threading.Lock()

    def record_rate_limited(self, store_hash: str) -> None:
        with self._lock:
            self._rate_limited[store_hash] += 1

    def rate_limited(self, store_hash: str | None = None) -> int:
        with self._lock:
            if store_hash is None:
                return sum(self._rate_limited.values())
            return self._rate_limited[store_hash]

    def record(self, store_hash: str, endpoint: str) -> None:
        with self._lock:
            self._counts[(store_hash, endpoint)] += 1

    def by_endpoint(self, store_hash: str | None = None) -> dict[str, int]:
        with self._lock:
            result: Counter[str] = Counter()
            for (store, endpoint), count in self._counts.items():
                if store_hash is None or store == store_hash:
                    result[endpoint] += count
            return dict(result)

    def total(self, store_hash: str | None = None) -> int:
        return sum(self.by_endpoint(store_hash).values())

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._rate_limited.clear()
