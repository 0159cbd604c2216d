"""A node under pressure: small disks, a quota shared by two workers, hot files, an outage.

Not a speed benchmark: each scenario counts what clients got and what the upstream sent,
the figures of issue 17's closing note. Run from a checkout (it uses the test hub and
mounts small tmpfs disks, so it needs root), after ``pip install -e '.[test]'``:

    python -m bench.pressure            # ~2 min; writes bench/results/pressure-<time>.md

To compare with an older version, run the same file from that version's checkout with
``PYTHONPATH=<old checkout>/src`` (the scenarios only speak HTTP to ``hubmirror serve``).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp

from bench import machine
from tests.fakehub.hub import FakeHub
from tests.support import disks
from tests.support.node import MODEL, fetch, two_workers

MiB = 1024 * 1024


def add_files(hub: FakeHub, prefix: str, count: int, size: int, seed: int) -> dict[str, str]:
    return {
        f"{prefix}-{i}.bin": hub.add_large_file("model", MODEL, f"{prefix}-{i}.bin", size, seed + i)
        for i in range(count)
    }


def outcomes(files: dict[str, str], answers: list) -> tuple[int, int, int]:
    """Complete and verified, cut short (or wrong), refused with 507."""
    good = cut = refused = 0
    for (status, body, _), sha256 in zip(answers, files.values(), strict=True):
        if status == 507:
            refused += 1
        elif status == 200 and hashlib.sha256(body).hexdigest() == sha256:
            good += 1
        else:
            cut += 1
    return good, cut, refused


def small_disk_herd(hub: FakeHub, tmp: Path) -> str:
    files = add_files(hub, "big", 8, 24 * MiB, seed=0)
    hub.faults.bandwidth = 24 * MiB
    with disks.small_disk(tmp / "disk1", 160) as disk:
        with two_workers(hub, disk / "data", tmp / "log1", min_free_mib=16) as base:
            hub.clear_log()
            with disks.Sampler(lambda: disks.free_bytes(disk)) as free:

                async def herd():
                    return await asyncio.gather(*(fetch(f"{base}/{n}") for n in files))

                answers = asyncio.run(herd())
        kept = disks.stored_bytes(disk / "data")
    good, cut, refused = outcomes(files, answers)
    return (
        f"| 1 | 8 × 24 MiB cold fills at once, 2 workers, 160 MiB disk, `min_free_mib` 16 | "
        f"{good} complete, {cut} cut short, {refused} refused 507; lowest free "
        f"{free.low / MiB:.1f} MiB; upstream sent {hub.body_bytes(host='cdn') / MiB:.0f} MiB, "
        f"store kept {kept / MiB:.0f} MiB |"
    )


def quota(hub: FakeHub, tmp: Path) -> str:
    files = add_files(hub, "q", 16, 8 * MiB, seed=50)
    hub.faults.bandwidth = 32 * MiB
    data = tmp / "data2"
    with two_workers(hub, data, tmp / "log2", max_size="64M", min_free_mib=0) as base:
        with disks.Sampler(lambda: disks.stored_bytes(data)) as stored:
            names = list(files)
            for i in range(0, len(names), 4):

                async def batch(chunk=names[i : i + 4]):
                    return await asyncio.gather(*(fetch(f"{base}/{n}") for n in chunk))

                asyncio.run(batch())
        time.sleep(1)  # a last background eviction
        final = disks.stored_bytes(data)
    return (
        f"| 2 | `max_size` 64 MiB, 2 workers, 16 × 8 MiB files in batches of 4 | store (blobs and "
        f"temp files) peaked at {stored.high / MiB:.0f} MiB, ended at {final / MiB:.0f} MiB |"
    )


def hot_files(hub: FakeHub, tmp: Path) -> str:
    hot = add_files(hub, "hot", 2, 8 * MiB, seed=200)
    cold = add_files(hub, "cold", 30, 8 * MiB, seed=300)
    hub.faults.bandwidth = 32 * MiB
    with two_workers(hub, tmp / "data3", tmp / "log3", max_size="96M", min_free_mib=0) as base:
        for name in hot:
            asyncio.run(fetch(f"{base}/{name}"))
        hub.clear_log()

        async def run() -> None:
            stop = asyncio.Event()

            async def reader() -> None:  # one keep-alive connection: one worker reads
                connector = aiohttp.TCPConnector(limit=1)
                async with aiohttp.ClientSession(connector=connector) as session:
                    while not stop.is_set():
                        for name in hot:
                            async with session.get(f"{base}/{name}") as resp:
                                await resp.read()
                        await asyncio.sleep(0.05)

            reading = asyncio.ensure_future(reader())
            for name in cold:
                await fetch(f"{base}/{name}")
            stop.set()
            await reading

        asyncio.run(run())
    again = sum(hub.body_bytes(host="cdn", path_contains=sha) for sha in hot.values())
    return (
        "| 3 | 2 hot files read every 50 ms on one connection while 30 cold 8 MiB files fill "
        f"through 2 workers, `max_size` 96 MiB | hot files fetched again: {again / MiB:.0f} MiB |"
    )


def room_by_eviction(hub: FakeHub, tmp: Path) -> str:
    files = add_files(hub, "fit", 10, 8 * MiB, seed=400)
    settings = {"max_size": "1G", "min_free_mib": 8}
    with (
        disks.small_disk(tmp / "disk4", 56) as disk,
        two_workers(hub, disk / "data", tmp / "log4", **settings) as base,
    ):
        answers = [asyncio.run(fetch(f"{base}/{name}")) for name in files]
    good, cut, refused = outcomes(files, answers)
    return (
        "| 3 | 10 × 8 MiB files one after another, 56 MiB disk, `min_free_mib` 8, `max_size` 1 GiB"
        f" | {good} served, {refused} refused 507, {cut} cut short |"
    )


def outage_mid_fill(hub: FakeHub, tmp: Path) -> str:
    size = 64 * MiB
    sha256 = hub.add_large_file("model", MODEL, "outage.bin", size, seed=500)
    hub.faults.bandwidth = 2 * MiB  # per connection: the fill takes a few seconds
    with two_workers(hub, tmp / "data5", tmp / "log5", min_free_mib=0) as base:
        hub.clear_log()

        async def run() -> tuple:
            first = asyncio.ensure_future(fetch(f"{base}/outage.bin"))
            while hub.body_bytes(host="cdn") < 24 * MiB:
                await asyncio.sleep(0.05)
            before = hub.body_bytes(host="cdn")
            hub.go_down()  # upstream (hub and CDN) gone for 20 s
            down_at = time.monotonic()
            cut = await first
            during = []
            while time.monotonic() - down_at < 20:
                during.append(await fetch(f"{base}/outage.bin"))
                await asyncio.sleep(4)
            hub.come_up()
            hub.faults.bandwidth = None
            return before, cut, during, await fetch(f"{base}/outage.bin")

        before, first, during, after = asyncio.run(run())
    seen = sorted(
        {
            f"{status} {code or ('cut short' if status == 200 else '')}".strip()
            for status, _, code in during
        }
    )
    verified = after[0] == 200 and hashlib.sha256(after[1]).hexdigest() == sha256
    fetched = hub.body_bytes(host="cdn", path_contains=sha256)
    return (
        f"| 4 | 64 MiB at 2 MiB/s per connection, upstream down for 20 s after {before / MiB:.0f}"
        f" MiB | first client: {first[0]}, {len(first[1]) / MiB:.0f} MiB then cut; "
        f"{len(during)} requests during the outage: {', '.join(seen)}; after: "
        f"{'verified' if verified else 'WRONG'}; upstream sent {fetched / size:.2f}× the file |"
    )


SCENARIOS = (small_disk_herd, quota, hot_files, room_by_eviction, outage_mid_fill)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    rows = []
    with FakeHub() as hub, tempfile.TemporaryDirectory() as scratch:
        for scenario in SCENARIOS:
            hub.reset_faults()
            rows.append(scenario(hub, Path(scratch)))
            print(rows[-1], flush=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    facts = machine.describe()
    text = "\n".join(
        [
            f"# Under pressure — {time.strftime('%Y-%m-%d %H:%M')} UTC, commit {commit}",
            "",
            "`python -m bench.pressure`: two-worker nodes (`hubmirror serve --workers 2`) in front",
            "of the test hub; small disks are tmpfs mounts.",
            "",
            "| item | scenario | result |",
            "|---|---|---|",
            *rows,
            "",
            "## Machine",
            *[f"- {key}: {value}" for key, value in facts.items()],
            "",
        ]
    )
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"pressure-{stamp}.md"
    path.write_text(text)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
