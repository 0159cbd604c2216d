"""``/metrics`` after known traffic: counts, bytes, ratios, upstream health, store size."""

from __future__ import annotations

import shutil

import pytest

from tests.metrics.promtext import parse, value
from tests.support.http import get
from tests.support.waiting import wait_for

MODEL = "acme/tiny-bert"
FILES = ("model.safetensors", "config.json")
MiB = 1024 * 1024


def _metrics(server) -> dict:
    answer = get(f"{server.url}/metrics")
    assert answer.status == 200
    return parse(answer.body.decode())


def _upstream(fakehub) -> str:
    return fakehub.url.split("://", 1)[1]


def _download_twice_more(server, fakehub) -> int:
    """One MISS and two HITs of each file in ``FILES``; returns their total size."""
    total = 0
    for name in FILES:
        url = f"{server.url}/{MODEL}/resolve/main/{name}"
        first = get(url)
        assert first.header("X-Cache-Status") == "MISS"
        assert first.body == fakehub.file_bytes("model", MODEL, "main", name)
        total += len(first.body)
        for _ in range(2):
            assert get(url).header("X-Cache-Status") == "HIT"
    return total


def test_hits_and_misses_are_counted_by_route_status_and_cache(mirror, fakehub):
    _download_twice_more(mirror, fakehub)
    samples = _metrics(mirror)
    hits = value(samples, "hubmirror_requests_total", route="resolve", status="200", cache="HIT")
    misses = value(samples, "hubmirror_requests_total", route="resolve", status="200", cache="MISS")
    assert (hits, misses) == (4, 2)
    assert value(samples, "hubmirror_cache_hit_ratio") == pytest.approx(4 / 6)


def test_bytes_served_from_cache_and_from_fills_are_counted_apart(mirror, fakehub):
    total = _download_twice_more(mirror, fakehub)
    samples = _metrics(mirror)
    assert value(samples, "hubmirror_served_bytes_total", cache="MISS") == total
    assert value(samples, "hubmirror_served_bytes_total", cache="HIT") == 2 * total
    assert value(samples, "hubmirror_cache_hit_bytes_ratio") == pytest.approx(2 / 3)
    upstream = _upstream(fakehub)
    assert value(samples, "hubmirror_upstream_bytes_total", upstream=upstream) == total
    assert fakehub.body_bytes() >= total


def test_cache_size_and_blob_count_come_from_the_index(mirror, fakehub):
    total = _download_twice_more(mirror, fakehub)
    samples = _metrics(mirror)
    assert value(samples, "hubmirror_cache_blobs") == len(FILES)
    assert value(samples, "hubmirror_cache_size_bytes") == total
    disk = shutil.disk_usage(mirror.data_dir)
    assert 0 < value(samples, "hubmirror_disk_free_bytes") <= disk.total
    assert value(samples, "hubmirror_disk_size_bytes") == disk.total


def test_completed_fills_are_counted_and_none_is_left_in_flight(mirror, fakehub):
    _download_twice_more(mirror, fakehub)
    samples = _metrics(mirror)
    assert value(samples, "hubmirror_fills_completed_total") == len(FILES)
    assert value(samples, "hubmirror_fills_failed_total") == 0
    assert value(samples, "hubmirror_fills_in_flight") == 0


def test_upstream_failures_count_errors_and_open_the_breaker(mirror, fakehub):
    upstream = _upstream(fakehub)
    before = _metrics(mirror)
    assert value(before, "hubmirror_upstream_up", upstream=upstream) == 1
    assert value(before, "hubmirror_upstream_breaker_open", upstream=upstream) == 0
    fakehub.faults.fail_status = 500
    for _ in range(2):  # two passes per request: four failures, past the threshold of three
        answer = get(f"{mirror.url}/api/models/{MODEL}/revision/main")
        assert answer.status >= 500
    after = _metrics(mirror)
    assert value(after, "hubmirror_upstream_failures_total", upstream=upstream) >= 3
    assert value(after, "hubmirror_upstream_breaker_open", upstream=upstream) == 1
    assert value(after, "hubmirror_upstream_breaker_state", upstream=upstream) == 2
    assert value(after, "hubmirror_upstream_up", upstream=upstream) == 0
    refused = [
        count
        for (name, labels), count in after.items()
        if name == "hubmirror_requests_total"
        and dict(labels)["route"] == "api"
        and int(dict(labels)["status"]) >= 500
    ]
    assert sum(refused) == 2


def test_latency_histogram_counts_every_answer_in_rising_buckets(mirror, fakehub):
    _download_twice_more(mirror, fakehub)
    samples = _metrics(mirror)
    upstream = _upstream(fakehub)
    name = "hubmirror_upstream_latency_seconds"
    buckets = sorted(
        (float(dict(labels)["le"]), count)
        for (sample, labels), count in samples.items()
        if sample == name + "_bucket" and dict(labels)["upstream"] == upstream
    )
    counts = [count for _, count in buckets]
    assert counts == sorted(counts)
    assert buckets[-1] == (float("inf"), value(samples, name + "_count", upstream=upstream))
    assert counts[-1] >= len(FILES)  # a metadata HEAD and a body GET per file at least
    assert value(samples, name + "_sum", upstream=upstream) > 0


def test_evictions_are_zero_without_a_quota(mirror):
    samples = _metrics(mirror)
    assert value(samples, "hubmirror_evictions_total") == 0
    assert value(samples, "hubmirror_evicted_bytes_total") == 0


def test_quota_evictions_are_counted_in_blobs_and_bytes(make_mirror, fakehub):
    size = 2 * MiB
    names = [f"quota-{i}.bin" for i in range(3)]
    for i, name in enumerate(names):
        fakehub.add_large_file("model", MODEL, name, size, seed=40 + i)
    server = make_mirror(max_size=5 * MiB)  # two fit; the third pushes the store over
    for name in names:
        assert len(get(f"{server.url}/{MODEL}/resolve/main/{name}").body) == size
    _wait_for_evictions(server)
    samples = _metrics(server)
    assert value(samples, "hubmirror_evictions_total") == 1
    assert value(samples, "hubmirror_evicted_bytes_total") == size


def _wait_for_evictions(server) -> None:
    """The quota evicts in the background: wait until one eviction ran and none runs."""
    wait_for(
        lambda: all(server.call(lambda m: (m.quota.idle, m.evictions.count), server.mirror)),
        "the quota to evict and settle",
        timeout=30,
        every=0.02,
    )


def test_every_sample_belongs_to_a_declared_family(mirror, fakehub):
    _download_twice_more(mirror, fakehub)
    fakehub.faults.fail_status = 500
    get(f"{mirror.url}/api/models/{MODEL}/revision/main")
    text = get(f"{mirror.url}/metrics").body.decode()
    samples = parse(text)
    families = {line.split(" ")[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    assert all(name.startswith("hubmirror_") for name in families)
    assert len(samples) > len(families)


def test_health_and_readiness_still_answer(mirror, fakehub):
    assert get(f"{mirror.url}/healthz").status == 200
    assert get(f"{mirror.url}/readyz").status == 200
    assert fakehub.log == []
