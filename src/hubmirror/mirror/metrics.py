"""Counters of what the mirror served, kept in memory and rendered by ``/metrics``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class ServedCounters:
    """Requests by route kind, status and cache status; body bytes by cache status."""

    requests: Counter = field(default_factory=Counter)
    body_bytes: Counter = field(default_factory=Counter)

    def record(self, kind: str, status: int, cache_status: str, body_bytes: int) -> None:
        self.requests[(kind, status, cache_status)] += 1
        self.body_bytes[cache_status] += body_bytes
