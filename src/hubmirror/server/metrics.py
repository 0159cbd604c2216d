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
from dataclasses import asdict

from aiohttp import web

from hubmirror.census import WorkerCensus
from hubmirror.mirror.service import Mirror, iso_time
from hubmirror.mirror.status import (
    FillCounts,
    MirrorStatus,
    NodeStatus,
    StoreUsage,
    TierStatus,
    UpstreamHealth,
    XetUpstreamStatus,
)
from hubmirror.server.context import CONTEXT, mirror_of
from hubmirror.upstream.pool import LATENCY_BUCKETS

_BREAKER_STATES = {"closed": 0, "half-open": 1, "open": 2}


async def handle_metrics(request: web.Request) -> web.Response:
    text = render(mirror_of(request), request[CONTEXT].census)
    return web.Response(text=text, content_type="text/plain")


async def handle_health(request: web.Request, ready: bool) -> web.Response:
    """``/healthz``: the process answers. ``/readyz``: index and data directory usable,
    and with ``--workers N`` all N workers alive; its JSON adds each upstream's state,
    which never changes the status code: a mirror serving its cache offline is ready."""
    if not ready:
        return _json({"ok": True, "problems": []}, 200)
    census = request[CONTEXT].census
    mirror = mirror_of(request)
    problems = mirror.readiness()
    if census is not None:
        problems += census.problems()
    body = {
        "ok": not problems,  # this server is ready (the status code says the same)
        "problems": problems,
        "server": {"ready": not problems, "problems": problems},
        "offline": mirror.offline,
        "upstreams": [_upstream(health) for health in mirror.upstream_health()],
    }
    return _json(body, 503 if problems else 200)


def _upstream(health: UpstreamHealth) -> dict:
    """``since`` as ISO 8601 UTC (``null``: not asked yet, or offline)."""
    since = None if health.since is None else iso_time(health.since)
    return asdict(health) | {"since": since}


def _json(body: dict, status: int) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(body).encode(), content_type="application/json"
    )


def render(mirror: Mirror, census: WorkerCensus | None = None) -> str:
    status, usage = mirror.status(), mirror.store_usage()
    lines: list[str] = []
    if census is not None:
        _workers(lines, census)
    _served(lines, status)
    _upstreams(lines, status)
    _latency(lines, status)
    _fills(lines, status)
    _xet_upstream(lines, status.xet_upstream)
    _store(lines, usage)
    return "\n".join(lines) + "\n"


def _served(lines: list[str], status: MirrorStatus) -> None:
    _family(lines, "hubmirror_requests_total", "counter", "Requests by route, status, cache.")
    for (kind, code, cache), count in sorted(status.requests.items()):
        labels = f'route="{kind}",status="{code}",cache="{cache}"'
        lines.append(f"hubmirror_requests_total{{{labels}}} {count}")
    _family(
        lines,
        "hubmirror_served_bytes_total",
        "counter",
        "Body bytes sent, by cache status (HIT/STALE: from the store; MISS: from fills).",
    )
    for cache, count in sorted(status.served_bytes.items()):
        lines.append(f'hubmirror_served_bytes_total{{cache="{cache}"}} {count}')
    _gauge(
        lines,
        "hubmirror_cache_hit_ratio",
        "File requests answered from the store (HIT or STALE) over HIT+STALE+MISS, since start.",
        status.hit_ratio,
    )
    _gauge(
        lines,
        "hubmirror_cache_hit_bytes_ratio",
        "Body bytes sent from the store over all file body bytes sent, since start.",
        status.byte_hit_ratio,
    )


def _upstreams(lines: list[str], status: MirrorStatus) -> None:
    rows = [
        ("hubmirror_upstream_requests_total", "Upstream requests.", "requests"),
        ("hubmirror_upstream_failures_total", "Upstream transport/5xx failures.", "failures"),
        ("hubmirror_upstream_bytes_total", "Blob bytes fetched from upstream.", "body_bytes"),
    ]
    for name, help_text, attr in rows:
        _family(lines, name, "counter", help_text)
        for upstream in status.upstreams:
            lines.append(f'{name}{{upstream="{upstream.name}"}} {getattr(upstream, attr)}')
    states = {upstream.name: upstream.state for upstream in status.upstreams}
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
        up = int(state == "closed" and not status.offline)
        lines.append(f'hubmirror_upstream_up{{upstream="{upstream}"}} {up}')
    _gauge(
        lines, "hubmirror_offline", "1 while the mirror is in offline mode.", int(status.offline)
    )


def _latency(lines: list[str], status: MirrorStatus) -> None:
    name = "hubmirror_upstream_latency_seconds"
    _family(lines, name, "histogram", "Time from an upstream request to its response headers.")
    for upstream in status.upstreams:
        label = f'upstream="{upstream.name}"'
        running = 0
        for bound, count in zip((*LATENCY_BUCKETS, "+Inf"), upstream.latency, strict=True):
            running += count
            lines.append(f'{name}_bucket{{{label},le="{bound}"}} {running}')
        lines.append(f"{name}_sum{{{label}}} {upstream.latency_sum:.6f}")
        lines.append(f"{name}_count{{{label}}} {running}")


def _fills(lines: list[str], status: MirrorStatus) -> None:
    fills = status.fills
    in_flight = len(status.transfers)
    _gauge(lines, "hubmirror_fills_in_flight", "Blobs being fetched right now.", in_flight)
    rows = [
        ("completed", "Fills that stored a verified blob."),
        ("failed", "Fills that gave up (upstream, integrity or disk errors)."),
        ("interrupted", "Fills cancelled at shutdown; their bytes are kept for resume."),
    ]
    for outcome, help_text in rows:
        name = f"hubmirror_fills_{outcome}_total"
        _family(lines, name, "counter", help_text)
        lines.append(f"{name} {getattr(fills, outcome)}")
    name = "hubmirror_fills_by_origin_total"
    _family(lines, name, "counter", "Completed fills by where their bytes came from at the end.")
    for origin in ("upstream", "store", "peer"):
        lines.append(f'{name}{{origin="{origin}"}} {getattr(fills, f"from_{origin}")}')
    if status.tier is not None:
        _shared(lines, status.tier, fills, status.node)


def _shared(lines: list[str], tier: TierStatus, fills: FillCounts, node: NodeStatus | None) -> None:
    """The object store's local tier and, in a cluster, this node's fill leases."""
    _gauge(lines, "hubmirror_local_tier_bytes", "Bytes of blobs on this node's disk.", tier.used)
    _gauge(lines, "hubmirror_local_tier_limit_bytes", "local_tier_size.", tier.limit)
    name = "hubmirror_local_tier_removed_total"
    _family(lines, name, "counter", "Blobs removed from this disk (the object store keeps them).")
    lines.append(f"{name} {tier.removed}")
    name = "hubmirror_fills_unshared_total"
    _family(lines, name, "counter", "Fills whose blob could not be put in the object store.")
    lines.append(f"{name} {fills.unshared}")
    if node is not None:
        held = node.leases_held
        _gauge(lines, "hubmirror_fill_leases_held", "Fill leases this node holds.", held)


def _store(lines: list[str], usage: StoreUsage) -> None:
    _gauge(lines, "hubmirror_cache_blobs", "Verified blobs in the store (index).", usage.blobs)
    _gauge(
        lines, "hubmirror_cache_size_bytes", "Bytes of verified blobs in the store.", usage.bytes
    )
    _gauge(
        lines,
        "hubmirror_disk_free_bytes",
        "Free bytes on the data directory's disk.",
        usage.disk_free,
    )
    _gauge(
        lines, "hubmirror_disk_size_bytes", "Size of the data directory's disk.", usage.disk_size
    )
    _family(lines, "hubmirror_evictions_total", "counter", "Blobs evicted to honour the quota.")
    lines.append(f"hubmirror_evictions_total {usage.evicted}")  # 0 without a quota
    _family(lines, "hubmirror_evicted_bytes_total", "counter", "Bytes evicted for the quota.")
    lines.append(f"hubmirror_evicted_bytes_total {usage.evicted_bytes}")


def _workers(lines: list[str], census: WorkerCensus) -> None:
    """With ``--workers N``: the node's workers, the same in every worker's answer."""
    _gauge(lines, "hubmirror_workers", "Server processes configured.", census.configured)
    _gauge(lines, "hubmirror_workers_alive", "Server processes running now.", census.alive)
    _family(
        lines,
        "hubmirror_worker_restarts_total",
        "counter",
        "Server processes started again after one died (its cause is in the log).",
    )
    lines.append(f"hubmirror_worker_restarts_total {census.restarts}")


def _gauge(lines: list[str], name: str, help_text: str, value: float) -> None:
    _family(lines, name, "gauge", help_text)
    lines.append(f"{name} {value}")


def _family(lines: list[str], name: str, kind: str, help_text: str) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} {kind}")


def _xet_upstream(lines: list[str], xet: XetUpstreamStatus | None) -> None:
    """Setting ``xet_upstream``: fill segments fetched through hf_xet, their bytes, the
    segments that fell back to HTTP, and the most streamed bytes held in memory at once."""
    if xet is None:
        return
    rows = [
        ("segments", xet.segments, "Fill segments fetched from upstream through hf_xet."),
        ("bytes", xet.bytes, "Blob bytes fetched from upstream through hf_xet."),
        ("fallbacks", xet.fallbacks, "Fill segments whose Xet fetch failed (then HTTP)."),
    ]
    for suffix, count, help_text in rows:
        name = f"hubmirror_xet_upstream_{suffix}_total"
        _family(lines, name, "counter", help_text)
        lines.append(f"{name} {count}")
    _gauge(
        lines,
        "hubmirror_xet_upstream_held_peak_bytes",
        "Most bytes of Xet streams held in memory at once since start (bounded).",
        xet.held_peak,
    )
