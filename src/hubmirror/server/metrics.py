"""``GET /metrics``: Prometheus text format, written by hand (no client library needed).

Counters are per server process: with ``--workers N`` each scrape reaches one
worker, so scrape each worker or read rates, not absolute values. The cache size
and blob count come from the shared index and are the same in every worker.
Hit ratio over a window: ``sum(rate(hubmirror_requests_total{route="resolve",
cache=~"HIT|STALE"}[5m])) / sum(rate(hubmirror_requests_total{route="resolve",
cache=~"HIT|STALE|MISS"}[5m]))``; ``hubmirror_cache_hit_ratio`` is the same since start.
"""

from __future__ import annotations

import json
import shutil

from aiohttp import web

from hubmirror.mirror.fills.origins import XetUpstreamOrigin
from hubmirror.mirror.service import Mirror
from hubmirror.server.context import mirror_of
from hubmirror.upstream.pool import LATENCY_BUCKETS

_BREAKER_STATES = {"closed": 0, "half-open": 1, "open": 2}


async def handle_metrics(request: web.Request) -> web.Response:
    return web.Response(text=render(mirror_of(request)), content_type="text/plain")


async def handle_health(request: web.Request, ready: bool) -> web.Response:
    """``/healthz``: the process answers. ``/readyz``: index and data directory usable."""
    problems = mirror_of(request).readiness() if ready else []
    body = json.dumps({"ok": not problems, "problems": problems}).encode()
    return web.Response(status=503 if problems else 200, body=body, content_type="application/json")


def render(mirror: Mirror) -> str:
    lines: list[str] = []
    _served(lines, mirror)
    _upstreams(lines, mirror)
    _latency(lines, mirror)
    _fills(lines, mirror)
    _xet_upstream(lines, mirror)
    _store(lines, mirror)
    return "\n".join(lines) + "\n"


def _served(lines: list[str], mirror: Mirror) -> None:
    served = mirror.served
    _family(lines, "hubmirror_requests_total", "counter", "Requests by route, status, cache.")
    for (kind, status, cache), count in sorted(served.requests.items()):
        labels = f'route="{kind}",status="{status}",cache="{cache}"'
        lines.append(f"hubmirror_requests_total{{{labels}}} {count}")
    _family(
        lines,
        "hubmirror_served_bytes_total",
        "counter",
        "Body bytes sent, by cache status (HIT/STALE: from the store; MISS: from fills).",
    )
    for cache, count in sorted(served.body_bytes.items()):
        lines.append(f'hubmirror_served_bytes_total{{cache="{cache}"}} {count}')
    _gauge(
        lines,
        "hubmirror_cache_hit_ratio",
        "File requests answered from the store (HIT or STALE) over HIT+STALE+MISS, since start.",
        served.hit_ratio(),
    )
    _gauge(
        lines,
        "hubmirror_cache_hit_bytes_ratio",
        "Body bytes sent from the store over all file body bytes sent, since start.",
        served.byte_hit_ratio(),
    )


def _upstreams(lines: list[str], mirror: Mirror) -> None:
    pool = mirror.pool
    rows = [
        ("hubmirror_upstream_requests_total", "Upstream requests.", "requests"),
        ("hubmirror_upstream_failures_total", "Upstream transport/5xx failures.", "failures"),
        ("hubmirror_upstream_bytes_total", "Blob bytes fetched from upstream.", "body_bytes"),
    ]
    for name, help_text, attr in rows:
        _family(lines, name, "counter", help_text)
        for upstream, stats in pool.stats.items():
            lines.append(f'{name}{{upstream="{upstream}"}} {getattr(stats, attr)}')
    states = {name: breaker.state for name, breaker in pool.breakers.items()}
    _family(lines, "hubmirror_upstream_breaker_state", "gauge", "0 closed, 1 half-open, 2 open.")
    for upstream, state in states.items():
        lines.append(
            f'hubmirror_upstream_breaker_state{{upstream="{upstream}"}} {_BREAKER_STATES[state]}'
        )
    _family(lines, "hubmirror_upstream_breaker_open", "gauge", "1 while the breaker is not closed.")
    for upstream, state in states.items():
        lines.append(
            f'hubmirror_upstream_breaker_open{{upstream="{upstream}"}} {int(state != "closed")}'
        )
    _family(
        lines,
        "hubmirror_upstream_up",
        "gauge",
        "1 when the upstream is used: breaker closed and the mirror not offline.",
    )
    for upstream, state in states.items():
        up = int(state == "closed" and not pool.offline)
        lines.append(f'hubmirror_upstream_up{{upstream="{upstream}"}} {up}')
    _gauge(lines, "hubmirror_offline", "1 while the mirror is in offline mode.", int(pool.offline))


def _latency(lines: list[str], mirror: Mirror) -> None:
    name = "hubmirror_upstream_latency_seconds"
    _family(lines, name, "histogram", "Time from an upstream request to its response headers.")
    for upstream, stats in mirror.pool.stats.items():
        running = 0
        for bound, count in zip((*LATENCY_BUCKETS, "+Inf"), stats.latency, strict=True):
            running += count
            lines.append(f'{name}_bucket{{upstream="{upstream}",le="{bound}"}} {running}')
        lines.append(f'{name}_sum{{upstream="{upstream}"}} {stats.latency_sum:.6f}')
        lines.append(f'{name}_count{{upstream="{upstream}"}} {running}')


def _fills(lines: list[str], mirror: Mirror) -> None:
    fills = mirror.fills
    _gauge(lines, "hubmirror_fills_in_flight", "Blobs being fetched right now.", len(fills.running))
    rows = [
        ("completed", "Fills that stored a verified blob."),
        ("failed", "Fills that gave up (upstream, integrity or disk errors)."),
        ("interrupted", "Fills cancelled at shutdown; their bytes are kept for resume."),
    ]
    for outcome, help_text in rows:
        name = f"hubmirror_fills_{outcome}_total"
        _family(lines, name, "counter", help_text)
        lines.append(f"{name} {fills.outcomes[outcome]}")
    name = "hubmirror_fills_by_origin_total"
    _family(lines, name, "counter", "Completed fills by where their bytes came from at the end.")
    for origin in ("upstream", "store", "peer"):
        lines.append(f'{name}{{origin="{origin}"}} {fills.outcomes[f"from_{origin}"]}')
    if mirror.shared is not None:
        _shared(lines, mirror)


def _shared(lines: list[str], mirror: Mirror) -> None:
    """The object store's local tier and, in a cluster, this node's fill leases."""
    shared, fills = mirror.shared, mirror.fills
    _gauge(
        lines, "hubmirror_local_tier_bytes", "Bytes of blobs on this node's disk.", shared.tier.used
    )
    _gauge(lines, "hubmirror_local_tier_limit_bytes", "local_tier_size.", shared.tier.limit)
    name = "hubmirror_local_tier_removed_total"
    _family(lines, name, "counter", "Blobs removed from this disk (the object store keeps them).")
    lines.append(f"{name} {shared.tier.removed}")
    name = "hubmirror_fills_unshared_total"
    _family(lines, name, "counter", "Fills whose blob could not be put in the object store.")
    lines.append(f"{name} {fills.outcomes['unshared']}")
    if shared.cluster is not None:
        held = len(shared.cluster.held)
        _gauge(lines, "hubmirror_fill_leases_held", "Fill leases this node holds.", held)


def _store(lines: list[str], mirror: Mirror) -> None:
    blobs, size = mirror.store_totals.get()
    _gauge(lines, "hubmirror_cache_blobs", "Verified blobs in the store (index).", blobs)
    _gauge(lines, "hubmirror_cache_size_bytes", "Bytes of verified blobs in the store.", size)
    disk = shutil.disk_usage(mirror.store.tmp)  # one statvfs: cheap enough for every scrape
    _gauge(
        lines, "hubmirror_disk_free_bytes", "Free bytes on the data directory's disk.", disk.free
    )
    _gauge(lines, "hubmirror_disk_size_bytes", "Size of the data directory's disk.", disk.total)
    count, freed = mirror.evictions.count, mirror.evictions.bytes  # both 0 without a quota
    _family(lines, "hubmirror_evictions_total", "counter", "Blobs evicted to honour the quota.")
    lines.append(f"hubmirror_evictions_total {count}")
    _family(lines, "hubmirror_evicted_bytes_total", "counter", "Bytes evicted for the quota.")
    lines.append(f"hubmirror_evicted_bytes_total {freed}")


def _gauge(lines: list[str], name: str, help_text: str, value: float) -> None:
    _family(lines, name, "gauge", help_text)
    lines.append(f"{name} {value}")


def _family(lines: list[str], name: str, kind: str, help_text: str) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} {kind}")


def _xet_upstream(lines: list[str], mirror: Mirror) -> None:
    """Setting ``xet_upstream``: fill segments fetched through hf_xet, their bytes, the
    segments that fell back to HTTP, and the most streamed bytes held in memory at once."""
    origin = mirror.fills.upstream
    if not isinstance(origin, XetUpstreamOrigin):
        return
    rows = [
        ("segments", "xet_segments", "Fill segments fetched from upstream through hf_xet."),
        ("bytes", "xet_bytes", "Blob bytes fetched from upstream through hf_xet."),
        ("fallbacks", "xet_fallbacks", "Fill segments whose Xet fetch failed (then HTTP)."),
    ]
    for suffix, key, help_text in rows:
        name = f"hubmirror_xet_upstream_{suffix}_total"
        _family(lines, name, "counter", help_text)
        lines.append(f"{name} {origin.counts[key]}")
    _gauge(
        lines,
        "hubmirror_xet_upstream_held_peak_bytes",
        "Most bytes of Xet streams held in memory at once since start (bounded).",
        origin.fetcher.held.peak,
    )
