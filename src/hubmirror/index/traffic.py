"""Traffic over time: bytes and file requests per hour, and per repo and day.

Every worker and node counts in memory and adds its counts to the rows here every few
seconds (``mirror/traffic.py``): the writes add to what is there (``x = x + excluded.x``),
so several writers sharing the index never lose each other's counts. Rows older than
``KEEP_DAYS`` go when a writer adds.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubmirror.index.database import SqlDatabase
from hubmirror.types import RepoId, RepoType

HOUR = 3600
DAY = 86400
KEEP_DAYS = 61  # the chart shows 60 days; the day being counted is the 61st

_HOUR_COLUMNS = ("from_cache", "from_upstream", "served", "requests", "hits")
_ADD_HOUR = (
    f"INSERT INTO traffic_hours (hour, {', '.join(_HOUR_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (hour) DO UPDATE SET "
    + ", ".join(f"{c} = traffic_hours.{c} + excluded.{c}" for c in _HOUR_COLUMNS)
)
_ADD_REPO = (
    "INSERT INTO traffic_repos (day, repo_type, repo_id, served, requests) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (day, repo_type, repo_id) DO UPDATE SET"
    " served = traffic_repos.served + excluded.served,"
    " requests = traffic_repos.requests + excluded.requests"
)


@dataclass(frozen=True)
class TrafficCounts:
    """What one period (an hour, a day, a total) carried. Bytes are body bytes."""

    start: int  # Unix time the period starts (0 for a total)
    from_cache: int = 0  # sent from stored bytes (HIT, STALE): bandwidth saved
    from_upstream: int = 0  # fetched from upstream
    served: int = 0  # every file body byte sent (from the cache and while fetching)
    requests: int = 0  # file requests answered
    hits: int = 0  # of them, from stored bytes

    def __add__(self, other: TrafficCounts) -> TrafficCounts:
        return TrafficCounts(
            self.start,
            *(getattr(self, c) + getattr(other, c) for c in _HOUR_COLUMNS),
        )


@dataclass(frozen=True)
class RepoTraffic:
    repo: RepoId
    served: int  # file body bytes sent
    requests: int  # file requests answered


class TrafficRecords:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def add(self, hours: list[TrafficCounts], repos: dict[tuple[int, RepoId], tuple[int, int]]):
        """Add counts to their hours and, per repo, to their days (``(day, repo)`` →
        ``(bytes, requests)``); forget what is older than ``KEEP_DAYS``. One transaction,
        rows in key order: two nodes adding to the same rows lock them in the same order
        (PostgreSQL would otherwise find a deadlock)."""
        oldest = max((h.start for h in hours), default=0) - KEEP_DAYS * DAY
        hour_rows = sorted((h.start, *(getattr(h, c) for c in _HOUR_COLUMNS)) for h in hours)
        repo_rows = sorted(
            (day, repo.repo_type.value, repo.canonical, served, requests)
            for (day, repo), (served, requests) in repos.items()
        )
        with self.db.transaction():
            for row in hour_rows:
                self.db.execute(_ADD_HOUR, row)
            for row in repo_rows:
                self.db.execute(_ADD_REPO, row)
            if oldest > 0:
                self.db.execute("DELETE FROM traffic_hours WHERE hour < ?", (oldest,))
                self.db.execute("DELETE FROM traffic_repos WHERE day < ?", (oldest,))

    def hours(self, since: int) -> list[TrafficCounts]:
        """Hours from ``since`` on that carried anything, oldest first."""
        rows = self.db.execute(
            f"SELECT hour, {', '.join(_HOUR_COLUMNS)} FROM traffic_hours"
            " WHERE hour >= ? ORDER BY hour",
            (since,),
        ).fetchall()
        return [TrafficCounts(*row) for row in rows]

    def top_repos(self, since: int, by: str, limit: int) -> list[RepoTraffic]:
        """The ``limit`` repos that carried most (``by``: served or requests) from ``since``."""
        order = {"served": "served", "requests": "requests"}[by]
        rows = self.db.execute(
            "SELECT repo_type, repo_id, sum(served) AS served, sum(requests) AS requests"
            " FROM traffic_repos WHERE day >= ? GROUP BY repo_type, repo_id"
            f" ORDER BY {order} DESC, repo_type, repo_id LIMIT ?",
            (since, limit),
        ).fetchall()
        return [RepoTraffic(RepoId(RepoType(t), name), int(b), int(n)) for t, name, b, n in rows]
