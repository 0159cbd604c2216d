"""``hubmirror stats``: the dashboard's numbers in a terminal, read from the index.

Traffic (served from the cache, fetched upstream, file requests), the top repos and
the cache's size come from the index of ``--data``, where every server process adds
its counts every few seconds: it works beside a running server, on a node of a
cluster, and on a copied data directory. What only a running server knows (transfers
now, upstream health) is on its dashboard and ``/readyz``.
"""

from __future__ import annotations

import json
import shutil
import time

import click

from hubmirror.cli.common import configure_logging, fail, settings_from, store_options

BAR = 30  # characters of the longest bar


@click.command()
@click.option("--top", type=click.IntRange(1), default=10, show_default=True, help="Top N repos.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@store_options
def stats(top, as_json, config_file, **flags) -> None:
    """Traffic per day and hour, bandwidth saved, top repos and the cache's size."""
    from hubmirror.mirror.traffic import history
    from hubmirror.runtime import open_store
    from hubmirror.storage.layout import LayoutMismatch

    settings = settings_from(flags, config_file)
    configure_logging(settings)
    try:
        with open_store(settings, existing=True) as store:
            found = history(store.index.traffic, time.time(), top)
            blobs, size = store.index.blob_totals()
    except (LayoutMismatch, OSError) as exc:
        fail(str(exc))
    disk = shutil.disk_usage(settings.data)
    cache = {"blobs": blobs, "bytes": size, "quota": settings.max_size, "disk_free": disk.free}
    if as_json:
        click.echo(json.dumps(_as_json(found, cache), indent=2))
        return
    click.echo(f"data directory {settings.data}")
    click.echo("\n".join(_report(found, cache)))


def _report(found, cache: dict) -> list[str]:
    from hubmirror.mirror.traffic import CHART_DAYS, CHART_HOURS
    from hubmirror.progress import human_bytes

    quota = f" of {human_bytes(cache['quota'])}" if cache["quota"] else " (no quota)"
    lines = [
        f"cache: {cache['blobs']} file{'' if cache['blobs'] == 1 else 's'},"
        f" {human_bytes(cache['bytes'])}{quota};"
        f" disk free {human_bytes(cache['disk_free'])}",
        f"last {CHART_DAYS} days: {_summary(found.total)}",
        f"last {CHART_HOURS} hours: {_summary(sum(found.hours[1:], found.hours[0]))}",
        "",
        f"per day (UTC; {_legend()}):",
        *_bars(found.days, "%Y-%m-%d"),
        "",
        f"per hour, last {CHART_HOURS} hours (UTC):",
        *_bars(found.hours, "%m-%d %H:00"),
        "",
        f"top repos by bytes served, last {CHART_DAYS} days:",
        *_repos(found.top_by_bytes),
        "",
        f"top repos by file requests, last {CHART_DAYS} days:",
        *_repos(found.top_by_requests),
    ]
    return lines


def _summary(total) -> str:
    from hubmirror.progress import human_bytes

    ratio = f", {100 * total.hits / total.requests:.1f}% from the cache" if total.requests else ""
    return (
        f"{human_bytes(total.from_cache)} served from the cache (bandwidth saved),"
        f" {human_bytes(total.from_upstream)} fetched upstream,"
        f" {total.requests} file requests{ratio}"
    )


def _legend() -> str:
    return "# served from the cache, + fetched upstream"


def _bars(periods, pattern: str) -> list[str]:
    """Periods that carried anything, each with a bar scaled to the busiest one."""
    from hubmirror.progress import human_bytes

    busy = [p for p in periods if p.from_cache or p.from_upstream]
    if not busy:
        return ["  no traffic yet"]
    peak = max(p.from_cache + p.from_upstream for p in busy)
    lines = []
    for p in busy:
        cached = round(BAR * p.from_cache / peak)
        fetched = round(BAR * p.from_upstream / peak)
        when = time.strftime(pattern, time.gmtime(p.start))
        lines.append(
            f"  {when}  {human_bytes(p.from_cache):>10} {human_bytes(p.from_upstream):>10}"
            f"  {'#' * cached}{'+' * fetched}"
        )
    return lines


def _repos(repos) -> list[str]:
    from hubmirror.progress import human_bytes

    if not repos:
        return ["  nothing served yet"]
    width = max(len(r.repo.key) for r in repos)
    return [
        f"  {r.repo.key:<{width}}  {human_bytes(r.served):>10}  {r.requests} file requests"
        for r in repos
    ]


def _as_json(found, cache: dict) -> dict:
    from dataclasses import asdict

    def repos(found_repos):
        return [
            {"repo": r.repo.key, "bytes": r.served, "requests": r.requests} for r in found_repos
        ]

    return {
        "cache": cache,
        "total": asdict(found.total) | {"start": None},
        "days": [asdict(p) for p in found.days],
        "hours": [asdict(p) for p in found.hours],
        "top_by_bytes": repos(found.top_by_bytes),
        "top_by_requests": repos(found.top_by_requests),
    }
