"""The public front page: how to point clients at this mirror, and how it is doing."""

from __future__ import annotations

from typing import Any

from hubmirror.dashboard.context import DashboardContext
from hubmirror.dashboard.html import esc, size, table


def home_body(ctx: DashboardContext, numbers: dict[str, Any]) -> str:
    return _usage(ctx.base_url) + _stats(numbers) + _transfers(numbers) + _upstreams(numbers)


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


def hit_ratio(requests: dict[str, Any]) -> str:
    if requests["hit_ratio"] is None:
        return "no file requests yet"
    r = requests
    return f"{r['hit_ratio'] * 100:.1f}% ({r['hits']} hits, {r['misses']} misses)"


def _stat(label: str, field: str, value: str) -> str:
    return f'<div class="stat">{label}<b data-field="{field}">{esc(value)}</b></div>'


def _stats(n: dict[str, Any]) -> str:
    cache, sent = n["cache"], n["bytes"]
    quota = size(cache["quota"]) if cache["quota"] else "no quota"
    stats = [
        _stat("Hit ratio", "hit_ratio", hit_ratio(n["requests"])),
        _stat("Served from cache (bandwidth saved)", "from_cache", size(sent["from_cache"])),
        _stat("Fetched from upstream", "upstream", size(sent["upstream"])),
        _stat("File bytes served", "served", size(sent["served"])),
        _stat("Blobs stored", "cache_blobs", str(cache["blobs"])),
        _stat("Cache size", "cache_bytes", size(cache["bytes"])),
        _stat("Quota", "quota", quota),
    ]
    return (
        '<section id="stats"><h2>Cache</h2><div class="stats">'
        + "".join(stats)
        + "</div></section>"
    )


def _transfers(n: dict[str, Any]) -> str:
    rows = [
        [
            esc(t["repo"]),
            esc(t["path"]),
            f'<progress data-key="{esc(t["key"])}" max="{t["size"]}" value="{t["done"]}">'
            "</progress>",
            f"{t['done']} / {t['size']} B",
        ]
        for t in n["transfers"]
    ]
    count = f'<span data-field="transfer_count">{len(rows)}</span>'
    return (
        f'<section id="transfers-section"><h2>Transfers in progress ({count})</h2>'
        + table(["Repo", "File", "Progress", "Bytes"], rows, body_id="transfers")
        + "</section>"
    )


def _upstreams(n: dict[str, Any]) -> str:
    rows = [
        [
            esc(u["name"]),
            f'<span class="state-{esc(u["state"])}">{esc(u["state"])}</span>',
            str(u["requests"]),
            str(u["failures"]),
            size(u["bytes"]),
        ]
        for u in n["upstreams"]
    ]
    headings = ["Upstream", "Circuit", "Requests", "Failures", "Bytes fetched"]
    return '<section id="upstreams"><h2>Upstream health</h2>' + table(headings, rows) + "</section>"
