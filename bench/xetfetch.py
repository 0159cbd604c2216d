"""Cold fills through Xet upstream (xet_upstream) against plain HTTP, from the fake hub.

    python -m bench.xetfetch                       # 256 MiB, 3 rounds per mode
    python -m bench.xetfetch --size $((64*1024*1024)) --rounds 1 --bandwidth 50000000

The fake hub runs as its own process with `--xet-files` (its CAS serves the file as
uncompressed virtual xorbs), each round a fresh `hubmirror serve` with an empty data
directory. A round is one client GET of the whole file through the mirror, read to the
end and hashed; the fake hub's log tells which path the bytes took (CAS or CDN), the
mirror's /metrics the most Xet stream bytes it held at once, /proc its peak RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.procs import Child, free_port, spawn, start_server, wait_for_port
from bench.servers import MIRROR_ENV, REPO_ROOT, FakeUpstream, _large_line, _wait_for_line

REPO = "acme/xet-bench"
PATH = "weights.bin"
READ = 1024 * 1024


def start_hub(scratch: Path, size: int, bandwidth: int | None) -> FakeUpstream:
    port = free_port()
    argv = [sys.executable, "-m", "tests.fakehub", "--port", str(port), "--xet-files"]
    argv += ["--control-port", "0", "--large-file", f"model:{REPO}:{PATH}:{size}"]
    if bandwidth:
        argv += ["--bandwidth", str(bandwidth)]
    proc, log_path = spawn("fakehub", argv, scratch, cwd=REPO_ROOT)
    lines = _wait_for_line(log_path, "control: ", proc, timeout=600)
    files = [_large_line(line) for line in lines if line.startswith("large: ")]
    cdn = next(line.split(" ", 1)[1] for line in lines if line.startswith("cdn: "))
    wait_for_port(port, proc)
    return FakeUpstream(Child("fakehub", proc, port, log_path), cdn, lines[-1].split()[1], files)


def start_mirror(scratch: Path, upstream: str, xet: bool, round_no: int) -> Child:
    port = free_port()
    data = scratch / f"mirror-{'xet' if xet else 'http'}-{round_no}"
    argv = ["hubmirror", "serve", "--port", str(port), "--data", str(data)]
    argv += ["--upstream", upstream]
    env = {**MIRROR_ENV, "HUBMIRROR_XET_UPSTREAM": "true" if xet else "false"}
    return start_server(f"mirror-{round_no}-{xet}", argv, port, scratch, env=env)


def download(url: str) -> tuple[float, str, int]:
    """Seconds, sha256 and bytes of one whole GET."""
    digest, total = hashlib.sha256(), 0
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=600) as answer:
        while piece := answer.read(READ):
            digest.update(piece)
            total += len(piece)
    return time.monotonic() - started, digest.hexdigest(), total


def peak_rss(pid: int) -> int:
    """The process's peak resident memory in MiB (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


def held_peak(url: str) -> int | None:
    """The most Xet stream bytes the mirror held at once, in MiB (its /metrics)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith("hubmirror_xet_upstream_held_peak_bytes "):
                return int(float(line.split()[1])) // (1024 * 1024)
    return None  # plain HTTP (or a mirror from before the metric)


def one_round(hub: FakeUpstream, scratch: Path, xet: bool, round_no: int) -> dict:
    mirror = start_mirror(scratch, hub.url, xet, round_no)
    try:
        hub.clear_log()
        seconds, sha256, total = download(f"{mirror.url}/{REPO}/resolve/main/{PATH}")
        peak = peak_rss(mirror.pid)
        held = held_peak(mirror.url)
    finally:
        mirror.stop()
    if sha256 != hub.files[0].sha256 or total != hub.files[0].size:
        raise RuntimeError(f"wrong bytes through the mirror ({'xet' if xet else 'http'})")
    return {
        "seconds": seconds,
        "peak_mib": peak,
        "held_mib": held,
        "cas_bytes": hub.log_totals("/xorbs/")["body_bytes"],
        "cdn_bytes": hub.log_totals("/repos/")["body_bytes"],
    }


def report(size: int, results: dict[str, list[dict]]) -> str:
    rows = [
        "| upstream path | median s | MB/s | mirror peak RSS MiB | Xet held peak MiB "
        "| xorb bytes | CDN bytes |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode, runs in results.items():
        median = statistics.median(r["seconds"] for r in runs)
        held = [r["held_mib"] for r in runs if r["held_mib"] is not None]
        rows.append(
            f"| {mode} | {median:.2f} | {size / median / 1e6:.0f} | "
            f"{max(r['peak_mib'] for r in runs)} | {max(held) if held else '-'} | "
            f"{runs[-1]['cas_bytes']} | {runs[-1]['cdn_bytes']} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.xetfetch", description=__doc__)
    parser.add_argument("--size", type=int, default=256 * 1024 * 1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bandwidth", type=int, default=None, help="bytes/s per response")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="hubmirror-xetbench-"))
    hub = start_hub(scratch, args.size, args.bandwidth)
    try:
        urllib.request.urlopen(
            urllib.request.Request(f"{hub.url}/{REPO}/resolve/main/{PATH}", method="HEAD")
        ).close()  # the fake computes the file's Xet hash once, before any timing
        results: dict[str, list[dict]] = {"http": [], "xet": []}
        for round_no in range(args.rounds):
            for mode in results:
                results[mode].append(one_round(hub, scratch, mode == "xet", round_no))
        print(f"{args.size} bytes, {args.rounds} round(s), cold mirror each round")
        print(report(args.size, results))
    finally:
        hub.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
