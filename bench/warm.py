"""Warm scenarios: a (large file from cache), b (HEAD rate), f (snapshot of many files).

Configs run in rotated order each round; an untimed warm-up pass comes first, because the
first round after a pause is an outlier on this machine.
"""

from pathlib import Path

from bench.context import Context, MiB
from bench.hfclient import timed_download
from bench.load import download, head_rate
from bench.pagecache import big_files, evict, mirror_blob, preload
from bench.setup import LARGE_REPO
from bench.stats import rotated

WARM_CONFIGS = ("mirror", "nginx", "olah")
MODES = ("page", "disk")
CLIENT_COUNTS = (1, 8)
HEAD_CONNECTIONS = 64
SNAPSHOT_TIMEOUT = 600.0


def present(ctx: Context, configs=WARM_CONFIGS) -> list[str]:
    return [name for name in configs if name in ctx.servers]


def blob_copies(ctx: Context, name: str) -> list[Path]:
    """The files holding the warm blob's bytes in server `name`'s cache."""
    if name == "mirror":
        return [mirror_blob(ctx.paths["mirror"], ctx.warm_file.sha256)]
    if name == "nginx":
        return [ctx.paths["nginx"]]
    return big_files(ctx.paths["olah"], min(ctx.warm_file.size, MiB))


def scenario_a(ctx: Context) -> None:
    configs = present(ctx)
    every_copy = [p for name in configs for p in blob_copies(ctx, name)]
    for name in configs:
        _one_a(ctx, name, 1, "page", every_copy)  # warm-up, not recorded
    for round_index in range(ctx.options.rounds):
        for name in rotated(configs, round_index):
            for mode in MODES:
                for clients in CLIENT_COUNTS:
                    gbps = _one_a(ctx, name, clients, mode, every_copy)
                    ctx.record(f"a.{mode}.{clients}", name, gbps)
                    print(
                        f"  a r{round_index} {name:6} {mode} x{clients}: {gbps:.2f} GB/s",
                        flush=True,
                    )


def _one_a(ctx: Context, name: str, clients: int, mode: str, every_copy: list[Path]) -> float:
    if mode == "disk":
        evict(every_copy)
    else:
        preload(blob_copies(ctx, name))
    url = ctx.servers[name].url + ctx.warm_file.url_path
    batch = download(url, clients, ctx.options.max_time)
    if not batch.ok:
        ctx.note(f"a: {name} answered {[t.status for t in batch.transfers]}")
        return float("nan")
    return batch.gbps


def scenario_b(ctx: Context) -> None:
    configs = present(ctx)
    path = f"/{LARGE_REPO}/resolve/main/config.json"
    for name in configs:
        head_rate(ctx.servers[name].url + path, HEAD_CONNECTIONS, 1)  # warm-up
    for round_index in range(ctx.options.rounds):
        for name in rotated(configs, round_index):
            ctx.hub.clear_log()
            url = ctx.servers[name].url + path
            rate = head_rate(url, HEAD_CONNECTIONS, ctx.options.head_seconds)
            ctx.record("b.upstream_requests", name, ctx.hub.log_totals("")["requests"])
            ctx.record("b.rps", name, rate.rps)
            ctx.record("b.p99", name, rate.p99_ms)
            ctx.record("b.p50", name, rate.p50_ms)
            if rate.failed:
                ctx.note(f"b: {name} had {rate.failed} failed/non-2xx HEADs in round {round_index}")
            print(
                f"  b r{round_index} {name:6} {rate.rps:,.0f} req/s p99 {rate.p99_ms} ms",
                flush=True,
            )


def scenario_f(ctx: Context) -> None:
    configs = present(ctx, ("mirror", "olah"))
    repo = f"bench/files-{ctx.options.many_files}"
    for name in configs:  # prime: the servers fetch the repo once from upstream
        _snapshot(ctx, name, repo)
    for round_index in range(ctx.options.rounds):
        for name in rotated(configs, round_index):
            seconds = _snapshot(ctx, name, repo)
            ctx.record("f.seconds", name, seconds)
            print(f"  f r{round_index} {name:6} {seconds:.2f} s", flush=True)


def _snapshot(ctx: Context, name: str, repo: str) -> float:
    cache = ctx.scratch_dir("hf-cache")
    seconds, count = timed_download(ctx.servers[name].url, repo, None, cache, SNAPSHOT_TIMEOUT)
    if count < ctx.options.many_files:
        ctx.note(f"f: {name} snapshot held {count} files, expected {ctx.options.many_files}+")
    return seconds
