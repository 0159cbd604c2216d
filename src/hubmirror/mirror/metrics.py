"""Counters of what the mirror served, kept in memory and rendered by ``/metrics``."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from hubmirror.index.queries import Index

CACHED = ("HIT", "STALE")  # cache statuses answered from stored bytes
UNCACHED = ("MISS",)  # answered while (or by) fetching from upstream
TOTALS_MAX_AGE = 5.0  # seconds the store's blob count and size are reused between scrapes


@dataclass
class ServedCounters:
    """Requests by route kind, status and cache status; body bytes by cache status."""

    requests: Counter = field(default_factory=Counter)
    body_bytes: Counter = field(default_factory=Counter)

    def record(self, kind: str, status: int, cache_status: str, body_bytes: int) -> None:
        self.requests[(kind, status, cache_status)] += 1
        self.body_bytes[cache_status] += body_bytes

    def hit_ratio(self) -> float:
        """Share of file requests answered from stored bytes (HIT or STALE); 0 before any."""
        by_cache = Counter()
        for (kind, _status, cache), count in self.requests.items():
            if kind == "resolve":
                by_cache[cache] += count
        cached = sum(by_cache[c] for c in CACHED)
        total = cached + sum(by_cache[c] for c in UNCACHED)
        return cached / total if total else 0.0

    def byte_hit_ratio(self) -> float:
        """Share of body bytes sent from stored bytes rather than from fills."""
        cached = sum(self.body_bytes[c] for c in CACHED)
        total = cached + sum(self.body_bytes[c] for c in UNCACHED)
        return cached / total if total else 0.0


class StoreTotals:
    """Blob count and bytes in the store, asked of the index at most every few seconds.

    A scrape every second from several Prometheis must not scan the blobs table each
    time; numbers a few seconds old are fine for a gauge.
    """

    def __init__(
        self,
        index: Index,
        clock: Callable[[], float] = time.monotonic,
        max_age: float = TOTALS_MAX_AGE,
    ) -> None:
        self.index = index
        self.clock = clock
        self.max_age = max_age
        self._value: tuple[int, int] | None = None
        self._at = 0.0

    def get(self) -> tuple[int, int]:
        """``(blobs, bytes)``; refreshed when older than ``max_age``."""
        now = self.clock()
        if self._value is None or now - self._at >= self.max_age:
            self._value = self.index.blob_totals()
            self._at = now
        return self._value
