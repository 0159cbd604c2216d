"""``GET /metrics``: Prometheus text format, written by hand (no client library needed)."""

from __future__ import annotations

import json

from aiohttp import web

from hubmirror.mirror.service import Mirror
from hubmirror.server.context import mirror_of

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
    _family(lines, "hubmirror_requests_total", "counter", "Requests by route, status, cache.")
    for (kind, status, cache), count in sorted(mirror.served.requests.items()):
        labels = f'route="{kind}",status="{status}",cache="{cache}"'
        lines.append(f"hubmirror_requests_total{{{labels}}} {count}")
    _family(lines, "hubmirror_served_bytes_total", "counter", "Body bytes sent, by cache status.")
    for cache, count in sorted(mirror.served.body_bytes.items()):
        lines.append(f'hubmirror_served_bytes_total{{cache="{cache}"}} {count}')
    _upstreams(lines, mirror)
    _family(lines, "hubmirror_fills_in_flight", "gauge", "Blobs being fetched right now.")
    lines.append(f"hubmirror_fills_in_flight {len(mirror.fills.running)}")
    return "\n".join(lines) + "\n"


def _upstreams(lines: list[str], mirror: Mirror) -> None:
    pool = mirror.pool
    rows = [
        ("hubmirror_upstream_requests_total", "counter", "Upstream requests.", "requests"),
        (
            "hubmirror_upstream_failures_total",
            "counter",
            "Upstream transport/5xx failures.",
            "failures",
        ),
        (
            "hubmirror_upstream_bytes_total",
            "counter",
            "Blob bytes fetched from upstream.",
            "body_bytes",
        ),
    ]
    for name, kind, help_text, attr in rows:
        _family(lines, name, kind, help_text)
        for upstream, stats in pool.stats.items():
            lines.append(f'{name}{{upstream="{upstream}"}} {getattr(stats, attr)}')
    _family(lines, "hubmirror_upstream_breaker_state", "gauge", "0 closed, 1 half-open, 2 open.")
    for upstream, breaker in pool.breakers.items():
        state = _BREAKER_STATES[breaker.state]
        lines.append(f'hubmirror_upstream_breaker_state{{upstream="{upstream}"}} {state}')


def _family(lines: list[str], name: str, kind: str, help_text: str) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} {kind}")
