"""How much anonymous made-up requests grow the mirror's index and memory.

    python -m bench.growth                 # 3,000 / 3,000 / 15,000 / 5,000 requests
    python -m bench.growth --scale 0.1     # a tenth of each, for a quick look
    python -m bench.growth --cases repos   # one case (queries, missing, repos, approvals)

Each case starts the fake hub and a fresh `python -m hubmirror serve` (its own data dir)
and sends anonymous requests nobody real would send, 32 at a time:

- queries: tree listings with a 6 KB random query parameter (and a ``token=``);
- missing: resolve requests for random 2 KB paths in a real repo (404 EntryNotFound),
  half of them as tree listings of random folders; short-missing: 24,000 of them with
  64-character paths (not run by default: ``--cases short-missing``);
- repos: repo info for random repo names (404 upstream);
- approvals: approval mode, random repo names from one address, then the admin page.

It prints, per case, the growth of the index file (with its WAL), of the mirror's RSS,
the rows of the tables concerned and the requests the fake hub saw. To measure another
checkout, put its ``src`` first: ``PYTHONPATH=/path/to/checkout/src python -m bench.growth``.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.procs import Child, free_port, start_server
from bench.servers import FakeUpstream, start_fakehub

REPO = "acme/tiny-bert"
ADMIN_TOKEN = "growth-bench-admin"
CONCURRENCY = 32
TABLES = ("api_answers", "missing_entries", "repos", "audit", "repo_approvals")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.growth")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of every count")
    parser.add_argument("--cases", default="queries,missing,repos,approvals")
    args = parser.parse_args(argv)
    counts = {"queries": 3000, "missing": 3000, "repos": 15000, "approvals": 5000}
    counts["short-missing"] = 24000  # past the default limits of remembered misses
    counts = {case: counts[case] for case in args.cases.split(",")}
    with tempfile.TemporaryDirectory(prefix="hubmirror-growth-") as scratch:
        work = Path(scratch)
        hub = start_fakehub(work, [], 0)
        try:
            for case, count in counts.items():
                result = asyncio.run(_case(case, max(1, int(count * args.scale)), hub, work))
                print(_report(case, result), flush=True)
        finally:
            hub.stop()
    return 0


async def _case(case: str, count: int, hub: FakeUpstream, work: Path) -> dict:
    data = work / case
    mirror = _start_mirror(work, data, hub.url, approval=case == "approvals")
    try:
        jar = aiohttp.CookieJar(unsafe=True)  # the admin session cookie of 127.0.0.1
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            await _get(session, f"{mirror.url}/api/models/{REPO}/revision/main")  # warm-up
            await asyncio.sleep(1.5)  # the audit log's first batch
            before = _measure(mirror, data)
            hub.clear_log()
            started = time.monotonic()
            statuses = await _send(session, _targets(case, count, mirror.url))
            seconds = time.monotonic() - started
            upstream = _upstream_requests(hub)
            page = await _admin_page_bytes(session, mirror.url) if case == "approvals" else None
            await asyncio.sleep(1.5)  # the audit log's last batch
            after = _measure(mirror, data)
    finally:
        mirror.stop()
    return {
        "count": count,
        "seconds": seconds,
        "statuses": statuses,
        "upstream": upstream,
        "before": before,
        "after": after,
        "admin_page": page,
    }


def _start_mirror(work: Path, data: Path, upstream: str, approval: bool) -> Child:
    port = free_port()
    argv = [sys.executable, "-m", "hubmirror", "serve", "--port", str(port)]
    argv += ["--data", str(data), "--upstream", upstream]
    env = {
        "HUBMIRROR_ACCESS_LOG": "false",
        "HUBMIRROR_LOG_LEVEL": "warning",
        "HUBMIRROR_ADMIN_TOKEN": ADMIN_TOKEN,
        "HUBMIRROR_ACCESS_MODE": "approval" if approval else "open",
        "HUBMIRROR_ALLOW": f"model:{REPO}",
    }
    try:
        return start_server(f"mirror-{data.name}", argv, port, work, env=env)
    except RuntimeError:
        print((work / f"mirror-{data.name}.log").read_text()[-3000:], file=sys.stderr)
        raise


def _targets(case: str, count: int, url: str):
    for n in range(count):
        if case == "queries":
            pad = secrets.token_hex(3 * 1024)
            yield (
                f"{url}/api/models/{REPO}/tree/main?recursive=true&expand=false"
                f"&pad={pad}&token=hf_{secrets.token_hex(8)}"
            )
        elif case in ("missing", "short-missing"):
            path = secrets.token_hex(1024 if case == "missing" else 32)
            if n % 2:
                yield f"{url}/api/models/{REPO}/tree/main/{path}?recursive=false&expand=false"
            else:
                yield f"{url}/{REPO}/resolve/main/{path}"
        else:
            yield f"{url}/api/models/stranger-{secrets.token_hex(6)}/repo-{n}/revision/main"


async def _send(session: aiohttp.ClientSession, targets) -> dict[int, int]:
    statuses: dict[int, int] = {}
    queue = iter(targets)

    async def worker() -> None:
        for target in queue:
            status = await _get(session, target)
            statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return dict(sorted(statuses.items()))


async def _get(session: aiohttp.ClientSession, target: str) -> int:
    async with session.get(target) as answer:
        await answer.read()
        return answer.status


async def _admin_page_bytes(session: aiohttp.ClientSession, url: str) -> int:
    """The size of the admin page an operator opens to decide the pending requests."""
    login = await session.post(f"{url}/dashboard/login", data={"token": ADMIN_TOKEN})
    await login.read()
    async with session.get(f"{url}/dashboard/admin") as answer:
        return len(await answer.read())


def _upstream_requests(hub: FakeUpstream) -> int:
    return hub.log_totals("/")["requests"]


def _measure(mirror: Child, data: Path) -> dict:
    index = data / "index.sqlite"
    size = sum(p.stat().st_size for p in data.glob("index.sqlite*"))
    wal = data / "index.sqlite-wal"
    with sqlite3.connect(f"file:{index}?mode=ro", uri=True) as db:
        rows = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        free = db.execute("PRAGMA freelist_count").fetchone()[0] * 4096
    wal_bytes = wal.stat().st_size if wal.exists() else 0
    return {
        "index_bytes": size,
        "wal_bytes": wal_bytes,
        "free_bytes": free,
        "rss_bytes": _rss(mirror.pid),
        "rows": rows,
    }


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _report(case: str, result: dict) -> str:
    before, after = result["before"], result["after"]
    mb = 1024 * 1024
    index = (after["index_bytes"] - before["index_bytes"]) / mb
    rows = ", ".join(
        f"{t} +{after['rows'][t] - before['rows'][t]}"
        for t in TABLES
        if after["rows"][t] != before["rows"][t]
    )
    line = (
        f"{case:9} {result['count']:6} requests in {result['seconds']:5.1f} s "
        f"{result['statuses']}: index +{index:.1f} MB (WAL {after['wal_bytes'] / mb:.1f} MB,"
        f" free pages {after['free_bytes'] / mb:.1f} MB),"
        f" RSS +{(after['rss_bytes'] - before['rss_bytes']) / mb:.1f} MB,"
        f" upstream requests {result['upstream']}; rows: {rows or 'none'}"
    )
    if result["admin_page"] is not None:
        line += f"; admin page {result['admin_page'] / 1024:.0f} KB"
    return line


if __name__ == "__main__":
    sys.exit(main())
