"""Traffic per hour and per repo: several writers add to the same rows, on both backends."""

from __future__ import annotations

from hubmirror.index.queries import Index
from hubmirror.index.traffic import DAY, HOUR, KEEP_DAYS, TrafficCounts
from hubmirror.mirror.traffic import TrafficMeter, history
from hubmirror.types import RepoId, RepoType

BERT = RepoId(RepoType.MODEL, "acme/Bert")
DATA = RepoId(RepoType.DATASET, "acme/data")
NOW = 1_796_688_000.0 + 10 * HOUR + 120  # 10:02 UTC


def test_two_writers_add_to_the_same_hour_and_repo_rows(index_backend):
    first, second = Index(index_backend()), Index(index_backend())  # two workers
    clock = [NOW]
    fetched = [0]
    meters = [
        TrafficMeter(i.traffic, lambda: fetched[0], lambda: clock[0]) for i in (first, second)
    ]
    meters[0].count("HIT", 1000, BERT)
    meters[0].count("MISS", 300, BERT)
    meters[1].count("STALE", 50, DATA)
    meters[1].count("-", 999, DATA)  # not a file answer: not traffic
    fetched[0] = 300  # the pool's running total, read at flush
    assert meters[0].flush() and meters[1].flush()
    clock[0] = NOW + HOUR
    meters[1].count("HIT", 7, BERT)
    meters[1].flush()

    found = history(first.traffic, clock[0])
    assert found.hours[-2] == TrafficCounts(int(NOW // HOUR * HOUR), 1050, 600, 1350, 3, 2)
    assert found.hours[-1] == TrafficCounts(int(NOW // HOUR * HOUR) + HOUR, 7, 0, 7, 1, 1)
    assert len(found.hours) == 48 and len(found.days) == 60
    assert found.days[-1] == TrafficCounts(int(NOW // DAY * DAY), 1057, 600, 1357, 4, 3)
    assert found.total == TrafficCounts(0, 1057, 600, 1357, 4, 3)
    assert [(r.repo.key, r.served, r.requests) for r in found.top_by_bytes] == [
        ("model:acme/bert", 1307, 3),
        ("dataset:acme/data", 50, 1),
    ]
    hidden = history(first.traffic, clock[0], shown=lambda repo: repo != BERT)
    assert [r.repo.key for r in hidden.top_by_requests] == ["dataset:acme/data"]


def test_rows_older_than_the_chart_are_forgotten(index):
    old = TrafficCounts(int(NOW // HOUR * HOUR) - KEEP_DAYS * DAY - HOUR, 5, 0, 5, 1, 1)
    index.traffic.add([old], {(old.start // DAY * DAY, BERT): (5, 1)})
    assert index.traffic.hours(0) == [old]
    index.traffic.add([TrafficCounts(int(NOW // HOUR * HOUR), 1, 0, 1, 1, 1)], {})
    assert [h.start for h in index.traffic.hours(0)] == [int(NOW // HOUR * HOUR)]
    assert index.traffic.top_repos(0, "served", 10) == []
