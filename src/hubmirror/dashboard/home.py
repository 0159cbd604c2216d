"""The public front page: is the mirror working, what is it saving, what is it doing now,
and how to point clients at it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from hubmirror.dashboard.chart import traffic_chart
from hubmirror.dashboard.context import DashboardContext
from hubmirror.dashboard.html import esc, table
from hubmirror.dashboard.repos import repo_link
from hubmirror.mirror.traffic import CHART_DAYS, CHART_HOURS, TrafficHistory
from hubmirror.progress import human_bytes

TOP_SHOWN = 10


def home_title(ctx: DashboardContext) -> str:
    """Says what the page is, and which mirror: several may be open in tabs."""
    host = urlsplit(ctx.base_url).netloc
    return f"Hugging Face mirror at {host}" if host else "Hugging Face mirror"


def home_body(ctx: DashboardContext, numbers: dict[str, Any], history: TrafficHistory) -> str:
    return (
        _glance(numbers, history)
        + _traffic(history)
        + _transfers(numbers)
        + _upstreams(numbers)
        + _top(ctx, history)
        + _usage(ctx.base_url)
    )


def _stat(label: str, field: str, value: str, note: str = "") -> str:
    small = f"<small>{esc(note)}</small>" if note else ""
    return (
        f'<div class="stat"><span>{esc(label)}</span>'
        f'<b data-field="{field}">{esc(value)}</b>{small}</div>'
    )


def _glance(n: dict[str, Any], history: TrafficHistory) -> str:
    """The answers first: saved, hit ratio, upstream health, the cache against its limits."""
    text, total, days = n["text"], history.total, f"last {CHART_DAYS} days"
    stats = [
        _stat("Bandwidth saved", "saved_60d", human_bytes(total.from_cache), days),
        _stat("Fetched from upstream", "upstream_60d", human_bytes(total.from_upstream), days),
        _stat("Hit ratio", "hit_ratio", text["hit_ratio"], "file requests since start"),
        _stat("Upstream", "upstream_summary", text["upstream_summary"], ""),
        _stat("Cache", "cache_bytes", text["cache_bytes"], ""),
        _stat("Files stored", "cache_blobs", text["cache_blobs"], ""),
        _stat("Quota", "quota", text["quota"], ""),
        _stat("Disk free", "disk_free", text["disk_free"], ""),
        _stat("Served from cache", "from_cache", text["from_cache"], "since start"),
        _stat("Fetched from upstream", "upstream", text["upstream"], "since start"),
        _stat("File bytes served", "served", text["served"], "since start"),
    ]  # fmt: skip
    return '<section id="stats"><div class="stats">' + "".join(stats) + "</div></section>"


def _traffic(history: TrafficHistory) -> str:
    legend = (
        '<p class="legend"><span class="swatch cache"></span> served from the cache '
        '<span class="swatch upstream"></span> fetched from upstream (times in UTC)</p>'
    )
    return (
        '<section id="traffic"><h2>Traffic</h2>'
        + legend
        + traffic_chart(history.hours, "hour", f"Per hour, last {CHART_HOURS} hours", "chart-hours")
        + traffic_chart(history.days, "day", f"Per day, last {CHART_DAYS} days", "chart-days")
        + "</section>"
    )


def _transfers(n: dict[str, Any]) -> str:
    rows = [
        [
            esc(t["repo"]),
            esc(t["path"]),
            f'<progress data-key="{esc(t["key"])}" max="{t["size"]}" value="{t["done"]}">'
            "</progress>",
            esc(t["progress_text"]),
            esc(t["rate_text"]),
            esc(t["eta_text"]),
        ]
        for t in n["transfers"]
    ]
    count = f'<span data-field="transfer_count">{len(rows)}</span>'
    headings = ["Repo", "File", "Progress", "Done", "Speed", "Time left"]
    return (
        f'<section id="transfers-section"><h2>Downloading from upstream now ({count})</h2>'
        + table(headings, rows, body_id="transfers")
        + "</section>"
    )


def _upstreams(n: dict[str, Any]) -> str:
    rows = [
        [
            esc(u["name"]),
            f'<span class="health-{esc(u["health"]["state"])}">{esc(u["health"]["words"])}</span>',
            str(u["requests"]),
            str(u["failures"]),
            esc(u["bytes_text"]),
        ]
        for u in n["upstreams"]
    ]
    headings = ["Upstream", "Health", "Requests", "Failures", "Fetched"]
    return (
        '<section id="upstreams"><h2>Upstream health</h2>'
        + table(headings, rows, body_id="upstream-rows")
        + "</section>"
    )


def _top(ctx: DashboardContext, history: TrafficHistory) -> str:
    def rows(repos):
        return [
            [repo_link(ctx, r.repo), esc(human_bytes(r.served)), str(r.requests)] for r in repos
        ]

    headings = ["Repo", "Served", "File requests"]
    empty = "<p>Nothing served yet.</p>"
    by_bytes = table(headings, rows(history.top_by_bytes), body_id="top-bytes")
    by_requests = table(headings, rows(history.top_by_requests), body_id="top-requests")
    return (
        f'<section id="top"><h2>Top repos, last {CHART_DAYS} days</h2><div class="pair">'
        f"<div><h3>By bytes served</h3>{by_bytes if history.top_by_bytes else empty}</div>"
        f"<div><h3>By requests</h3>{by_requests if history.top_by_requests else empty}</div>"
        "</div></section>"
    )


def _usage(url: str) -> str:
    u = esc(url)
    return f"""<section id="usage"><h2>Use this mirror</h2>
<p>Shell, for huggingface_hub, transformers, datasets and <code>hf</code>:</p>
<pre id="hf-endpoint">export HF_ENDPOINT={u}</pre>
<p>Python, before huggingface_hub (or transformers, datasets) is imported:</p>
<pre>import os
os.environ["HF_ENDPOINT"] = "{u}"</pre>
<p>or, in a process that imported them already:</p>
<pre>from hubmirror.client import use_mirror
use_mirror("{u}")</pre>
<p>Docker:</p>
<pre>docker run -e HF_ENDPOINT={u} IMAGE</pre>
<p>CI (GitHub Actions):</p>
<pre>env:
  HF_ENDPOINT: {u}</pre></section>
"""
