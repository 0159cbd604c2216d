"""The traffic chart: stacked bars drawn as inline SVG on the server.

No script and no library: the page is complete when it arrives, and a bar's
``<title>`` is its tooltip. Each bar is one period (an hour, a day): bytes served
from the cache at the bottom, bytes fetched from upstream on top.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from hubmirror.dashboard.html import esc
from hubmirror.index.traffic import TrafficCounts
from hubmirror.progress import human_bytes

WIDTH, HEIGHT = 720, 170
LEFT, BOTTOM, TOP = 64, 20, 8  # room for the axis labels
TICKS = 6  # labels along the time axis


def traffic_chart(periods: Sequence[TrafficCounts], unit: str, caption: str, ident: str) -> str:
    """``unit``: "hour" or "day" (how each bar's start is written)."""
    peak = max((p.from_cache + p.from_upstream for p in periods), default=0)
    plot = HEIGHT - BOTTOM - TOP
    step = (WIDTH - LEFT) / max(len(periods), 1)
    bars = [_bar(p, LEFT + i * step, step, plot, peak, unit) for i, p in enumerate(periods)]
    every = max(len(periods) // TICKS, 1)
    labels = [
        f'<text class="axis" x="{LEFT + i * step:.1f}" y="{HEIGHT - 5}">'
        f"{esc(_when(p.start, unit, short=True))}</text>"
        for i, p in enumerate(periods)
        if i % every == 0
    ]
    empty = (
        f'<text class="empty" x="{(WIDTH + LEFT) / 2:.0f}" y="{TOP + plot / 2:.0f}"'
        ' text-anchor="middle">no traffic yet</text>'
        if peak == 0
        else ""
    )
    return (
        f'<figure class="chart"><svg id="{esc(ident)}" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' role="img" aria-label="{esc(caption)}">'
        f'<text class="axis" x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end">'
        f"{esc(human_bytes(peak))}</text>"
        f'<text class="axis" x="{LEFT - 6}" y="{HEIGHT - BOTTOM}" text-anchor="end">0</text>'
        f'<line class="base" x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}"'
        f' y2="{HEIGHT - BOTTOM}"/>' + "".join(bars) + "".join(labels) + empty + "</svg>"
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def _bar(p: TrafficCounts, x: float, step: float, plot: float, peak: int, unit: str) -> str:
    if peak == 0 or p.from_cache + p.from_upstream == 0:
        return ""
    cached = plot * p.from_cache / peak
    fetched = plot * p.from_upstream / peak
    base = HEIGHT - BOTTOM
    tip = (
        f"{_when(p.start, unit)}: {human_bytes(p.from_cache)} from the cache, "
        f"{human_bytes(p.from_upstream)} fetched upstream, {p.requests} file requests"
    )
    width = max(step - 1, 1)
    return (
        f"<g><title>{esc(tip)}</title>"
        f'<rect class="cache" x="{x:.1f}" y="{base - cached:.1f}" width="{width:.1f}"'
        f' height="{cached:.1f}"/>'
        f'<rect class="upstream" x="{x:.1f}" y="{base - cached - fetched:.1f}"'
        f' width="{width:.1f}" height="{fetched:.1f}"/></g>'
    )


def _when(start: int, unit: str, short: bool = False) -> str:
    moment = time.gmtime(start)
    if unit == "hour":
        return time.strftime("%H:%M" if short else "%a %d %b, %H:%M UTC", moment)
    return time.strftime("%d %b" if short else "%a %d %b %Y", moment)
