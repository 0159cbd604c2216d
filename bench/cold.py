"""Cold scenarios: c (one download over the capped link), d (8 clients on one cold file),
e (peak memory of the mirror under 16 concurrent 1 GiB downloads, cold then warm).

Every cold run starts a fresh server process on an empty cache, so nothing is shared
between rounds except the upstream.
"""

import shutil
import threading
from pathlib import Path

from bench.context import Context
from bench.hfclient import timed_download
from bench.load import download
from bench.procs import tree_pids
from bench.stats import rotated

COLD_TIMEOUT = 900.0
D_CLIENTS = 8
RSS_SAMPLE_S = 0.05


def capped(ctx: Context) -> None:
    ctx.hub.set_faults(bandwidth=ctx.options.bandwidth, latency=ctx.options.latency)


def uncapped(ctx: Context) -> None:
    ctx.hub.set_faults(bandwidth=None, latency=None)


def scenario_c(ctx: Context) -> None:
    configs = ["direct", "mirror"] + (["olah"] if "olah" in ctx.servers else [])
    capped(ctx)
    try:
        for round_index in range(ctx.options.rounds):
            for name in rotated(configs, round_index):
                seconds = _cold_download(ctx, name)
                ctx.record("c.seconds", name, seconds)
                print(f"  c r{round_index} {name:6} {seconds:.2f} s", flush=True)
    finally:
        uncapped(ctx)


def _cold_download(ctx: Context, name: str) -> float:
    if name == "direct":
        return _hf_download(ctx, ctx.hub.url)
    fresh = ctx.fresh_mirror() if name == "mirror" else ctx.fresh_olah()
    with fresh as (server, _):
        return _hf_download(ctx, server.url)


def _hf_download(ctx: Context, endpoint: str) -> float:
    cache = ctx.scratch_dir("hf-cache")
    file = ctx.cold_file
    try:
        seconds, size = timed_download(endpoint, file.repo_id, file.path, cache, COLD_TIMEOUT)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    if size != file.size:
        raise RuntimeError(f"cold download via {endpoint} gave {size} bytes, not {file.size}")
    return seconds


def scenario_d(ctx: Context) -> None:
    capped(ctx)
    file = ctx.cold_file
    try:
        for round_index in range(ctx.options.rounds):
            with ctx.fresh_mirror() as (mirror, _):
                ctx.hub.clear_log()
                batch = download(mirror.url + file.url_path, D_CLIENTS, COLD_TIMEOUT)
                upstream = ctx.hub.log_totals(file.sha256)
            complete = batch.ok and all(t.size == file.size for t in batch.transfers)
            ratio = upstream["body_bytes"] / file.size
            ttfb = max(t.ttfb for t in batch.transfers)
            ctx.record("d.upstream_ratio", "mirror", ratio)
            ctx.record("d.ttfb_max", "mirror", ttfb)
            ctx.record("d.wall", "mirror", batch.wall)
            ctx.record("d.upstream_requests", "mirror", upstream["requests"])
            if not complete:
                ctx.note(f"d: round {round_index} had incomplete transfers")
            ttfbs = ", ".join(f"{t.ttfb:.2f}" for t in batch.transfers)
            print(
                f"  d r{round_index} bytes {ratio:.3f}x, {upstream['requests']} upstream requests,"
                f" wall {batch.wall:.1f} s, ttfb [{ttfbs}]",
                flush=True,
            )
    finally:
        uncapped(ctx)


def scenario_e(ctx: Context) -> None:
    """Cold: a fresh mirror fills the file while 16 clients read it (upstream uncapped, or
    1 GiB at 20 MB/s would take a minute). Warm: a new process on that same data dir."""
    clients, url_path = ctx.options.rss_clients, ctx.warm_file.url_path
    for round_index in range(ctx.options.rounds):
        data = ctx.scratch_dir("mirror-rss")
        for phase in ("cold", "warm"):
            with ctx.fresh_mirror(data) as (mirror, _):
                with RssSampler(mirror.pid) as sampler:
                    batch = download(mirror.url + url_path, clients, ctx.options.max_time * 3)
                ctx.record(f"e.{phase}", "mirror", sampler.peak_mb)
                print(
                    f"  e r{round_index} {phase}: peak {sampler.peak_mb:.0f} MB over "
                    f"{len(sampler.pids)} process(es), {batch.gbps:.2f} GB/s",
                    flush=True,
                )
        shutil.rmtree(data, ignore_errors=True)


class RssSampler:
    """Peak of the summed VmRSS of a process tree, sampled every 50 ms in a thread, and the
    kernel's own VmHWM of each process (a peak between samples still shows there)."""

    def __init__(self, root: int):
        self.root, self.peak_kib, self.hwm_kib, self.pids = root, 0, {}, set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._sample()
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return max(self.peak_kib, sum(self.hwm_kib.values())) * 1024 / 1e6

    def _run(self) -> None:
        while not self._stop.wait(RSS_SAMPLE_S):
            self._sample()

    def _sample(self) -> None:
        total = 0
        for pid in tree_pids(self.root):
            fields = _status(pid)
            total += fields.get("VmRSS", 0)
            if "VmHWM" in fields:
                self.hwm_kib[pid] = fields["VmHWM"]
                self.pids.add(pid)
        self.peak_kib = max(self.peak_kib, total)


def _status(pid: int) -> dict[str, int]:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {
        k: int(v.split()[0])
        for k, _, v in (ln.partition(":") for ln in lines)
        if k in ("VmRSS", "VmHWM")
    }
