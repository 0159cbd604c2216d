"""Traffic over time, counted cheaply: in memory per hour, added to the index every few seconds.

Each answered file request adds to this hour's counts in a dict (no I/O on the hot
path); at most ``FLUSH_SECONDS`` later, and at shutdown, the counts are added to the
index rows of their hour and, per repo, of their day (``index/traffic.py``), where
every worker and node adds its own: the chart survives restarts and counts a whole
cluster. Bytes fetched from upstream are the pool's running total, read at each
flush: what arrived since the last one belongs to this hour.

``history`` turns the stored rows into what the dashboard and ``hubmirror stats``
show: 48 hours, 60 days, their totals.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from hubmirror.index.traffic import DAY, HOUR, RepoTraffic, TrafficCounts, TrafficRecords
from hubmirror.mirror.metrics import CACHED, UNCACHED
from hubmirror.types import RepoId

FLUSH_SECONDS = 5.0
CHART_HOURS = 48
CHART_DAYS = 60
log = logging.getLogger(__name__)


class TrafficMeter:
    """This process's counts not yet in the index, by hour and by (day, repo)."""

    def __init__(
        self,
        records: TrafficRecords,
        fetched: Callable[[], int],
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``fetched``: the bytes fetched from upstream since start (a running total)."""
        self.records = records
        self.fetched = fetched
        self.clock = clock
        self._fetched_seen = fetched()
        self._hours: dict[int, TrafficCounts] = {}
        self._repos: dict[tuple[int, RepoId], tuple[int, int]] = {}
        self._timer: asyncio.TimerHandle | None = None

    def count(self, cache: str, body_bytes: int, repo: RepoId | None) -> None:
        """A file request answered with cache status ``cache``; others are not traffic."""
        if cache not in CACHED and cache not in UNCACHED:
            return
        now = self.clock()
        hit = cache in CACHED
        self._add(now, TrafficCounts(0, body_bytes if hit else 0, 0, body_bytes, 1, int(hit)))
        if repo is not None:
            key = (int(now // DAY * DAY), repo)
            served, requests = self._repos.get(key, (0, 0))
            self._repos[key] = (served + body_bytes, requests + 1)
        self._flush_later()

    def flush(self) -> bool:
        """Add what was counted to the index; True if there was anything. Kept for the
        next flush when the index refuses."""
        fetched = self.fetched()
        if fetched > self._fetched_seen:
            self._add(self.clock(), TrafficCounts(0, from_upstream=fetched - self._fetched_seen))
            self._fetched_seen = fetched
        if not self._hours and not self._repos:
            return False
        self.records.add(list(self._hours.values()), self._repos)
        self._hours, self._repos = {}, {}
        return True

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.flush()

    def _add(self, now: float, counts: TrafficCounts) -> None:
        hour = int(now // HOUR * HOUR)
        self._hours[hour] = self._hours.get(hour, TrafficCounts(hour)) + counts

    def _flush_later(self) -> None:
        if self._timer is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: flushed at close
            return
        self._timer = loop.call_later(FLUSH_SECONDS, self._flush_due)

    def _flush_due(self) -> None:
        """Flush, and keep ticking while there is traffic (a long fill goes on fetching)."""
        self._timer = None
        try:
            busy = self.flush()
        except Exception as exc:  # noqa: BLE001 - a busy index: the next tick tries again
            log.warning("could not record traffic: %s", exc)
            busy = True
        if busy:
            self._flush_later()


@dataclass(frozen=True)
class TrafficHistory:
    """Per hour for the last ``CHART_HOURS``, per day for the last ``CHART_DAYS`` (oldest
    first, every period present, empty ones zero), and the total of those days."""

    hours: tuple[TrafficCounts, ...]
    days: tuple[TrafficCounts, ...]
    total: TrafficCounts
    top_by_bytes: tuple[RepoTraffic, ...]
    top_by_requests: tuple[RepoTraffic, ...]


def history(
    records: TrafficRecords,
    now: float,
    top: int = 10,
    shown: Callable[[RepoId], bool] = lambda _repo: True,
) -> TrafficHistory:
    """What the index holds, in periods; ``shown``: which repos the reader may see named."""
    today = int(now // DAY * DAY)
    first_day = today - (CHART_DAYS - 1) * DAY
    rows = {row.start: row for row in records.hours(first_day)}
    this_hour = int(now // HOUR * HOUR)
    hours = tuple(
        rows.get(start, TrafficCounts(start))
        for start in range(this_hour - (CHART_HOURS - 1) * HOUR, this_hour + 1, HOUR)
    )
    days = {start: TrafficCounts(start) for start in range(first_day, today + 1, DAY)}
    for row in rows.values():
        day = row.start // DAY * DAY
        days[day] = days[day] + row
    total = sum(days.values(), TrafficCounts(0))
    return TrafficHistory(
        hours,
        tuple(days.values()),
        total,
        _top(records, first_day, "served", top, shown),
        _top(records, first_day, "requests", top, shown),
    )


def _top(records, since, by, top, shown) -> tuple[RepoTraffic, ...]:
    """Repos hidden from the reader are left out, not counted as another's."""
    found = records.top_repos(since, by, top * 5)
    return tuple([r for r in found if shown(r.repo)][:top])
