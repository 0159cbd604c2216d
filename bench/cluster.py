"""python -m bench.cluster [--quick] [--rounds N] [--size BYTES] [--cold-size BYTES] [--keep]

The cluster mode measured against the embedded default, on loopback: the fake hub,
PostgreSQL, moto's S3 server and every hubmirror node are separate processes. Measures
aggregate warm throughput and HEAD rate for one embedded node, one cluster node and two
cluster nodes (load spread round-robin); the object store against the local tier (a node
with ``local_tier_size=0``, a node with an empty disk); and the time a cold fill's upload
to the store adds before the blob is in the index. Prints the table and writes
bench/results/cluster-<stamp>.md and .json.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from bench import clusterreport as report
from bench import machine
from bench.clusterenv import (
    BUCKET,
    IndexWatch,
    NodePlan,
    SharedStore,
    create_database,
    postgres_version,
    start_node,
    start_postgres,
    start_s3,
    stop_postgres,
)
from bench.clusterload import spread_download, spread_head, timed_get
from bench.clusterreport import EMBEDDED, FIRST, FIRST_ONE, LOCAL, NODES, ONE, STREAMED, TWO
from bench.pagecache import mirror_blob, preload
from bench.procs import Child
from bench.servers import FakeUpstream, LargeFile, start_fakehub
from bench.setup import wait_hashed
from bench.stats import rotated

MiB = 1024 * 1024
LARGE_REPO = "bench/large"
CONFIG_PATH = f"/{LARGE_REPO}/resolve/main/config.json"
PRIME_TIMEOUT = 900.0


@dataclass
class Options:
    rounds: int = 5
    size: int = 1024 * MiB  # the warm file
    cold_size: int = 256 * MiB  # one fresh cold file per round and deployment
    clients: int = 8
    connections: int = 64
    head_seconds: float = 5.0
    max_time: float = 120.0  # per curl transfer


QUICK = dict(rounds=1, size=128 * MiB, cold_size=32 * MiB, head_seconds=3.0)


@dataclass
class Run:
    options: Options
    scratch: Path
    hub: FakeUpstream | None = None
    warm: LargeFile | None = None
    colds: dict[str, list[LargeFile]] = field(default_factory=dict)  # per deployment
    shared: SharedStore | None = None
    s3: Child | None = None
    nodes: dict[str, Child] = field(default_factory=dict)
    watch: IndexWatch | None = None
    series: dict[str, dict[str, list]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def logs(self) -> Path:
        return self.scratch / "logs"

    def record(self, metric: str, config: str, value: float) -> None:
        self.series.setdefault(metric, {}).setdefault(config, []).append(value)

    def note(self, text: str) -> None:
        print(f"note: {text}", flush=True)
        self.notes.append(text)

    def fresh_dir(self, name: str) -> Path:
        path = self.scratch / f"{name}-{time.monotonic_ns()}"
        path.mkdir(parents=True)
        return path


# services ----------------------------------------------------------------------
def start_services(run: Run) -> None:
    """Fake hub (warm file + cold files), PostgreSQL with an empty database, moto S3."""
    o = run.options
    specs = [f"model:{LARGE_REPO}:model.bin:{o.size}:1"]
    for deployment in ("embedded", "cluster"):
        for i in range(o.rounds):
            seed = 100 + len(specs)
            specs.append(f"model:bench/cold-{deployment}-{i}:model.bin:{o.cold_size}:{seed}")
    print(f"generating {o.size >> 20} MiB + {len(specs) - 1} × {o.cold_size >> 20} MiB files")
    run.hub = start_fakehub(run.logs, specs, 0)
    run.warm, *colds = run.hub.files
    run.colds = {EMBEDDED: colds[: o.rounds], ONE: colds[o.rounds :]}
    server = start_postgres(run.scratch / "postgres")
    index = create_database(server, "hubmirror_bench")
    run.s3 = start_s3(run.logs)
    run.shared = SharedStore(index, f"s3://{BUCKET}/mirror", run.s3.url)
    run.watch = IndexWatch(index)


def start_nodes(run: Run) -> None:
    """The embedded node, cluster nodes A and B, and C (tier 0); each holds the warm file."""
    upstream = run.hub.url
    plans = {
        "embedded": NodePlan(upstream),
        "node-a": NodePlan(upstream, run.shared),
        "node-b": NodePlan(upstream, run.shared),
        "node-c": NodePlan(upstream, run.shared, tier=0),
    }
    for name, plan in plans.items():
        run.nodes[name] = start_node(name, run.logs, run.fresh_dir(name), plan)
        begun = time.monotonic()
        prime(run, run.nodes[name])
        print(f"{name} primed in {time.monotonic() - begun:.1f} s", flush=True)
        if name == "node-a":  # B must read the store, not A's running upload
            run.watch.wait_for(run.warm.sha256, PRIME_TIMEOUT)
    run.note("nodes: " + " ".join(run.nodes["node-a"].extra["argv"][1:]) + " (access log off)")


def prime(run: Run, node: Child) -> None:
    batch = spread_download([node.url + run.warm.url_path], 1, PRIME_TIMEOUT)
    if not batch.ok or batch.bytes != run.warm.size:
        raise RuntimeError(f"priming {node.name} got {batch.bytes} bytes")
    spread_download([node.url + CONFIG_PATH], 1, 60)
    wait_hashed(node.url + run.warm.url_path)  # the shared index keeps it: once per blob


def stop_all(run: Run) -> None:
    for node in run.nodes.values():
        node.stop()
    if run.watch is not None:
        run.watch.close()
    if run.s3 is not None:
        run.s3.stop()
    if (run.scratch / "postgres").exists():
        stop_postgres(run.scratch / "postgres")
    if run.hub is not None:
        run.hub.stop()


# measurements ------------------------------------------------------------------
def deployment(run: Run, config: str) -> list[Child]:
    names = {EMBEDDED: ["embedded"], ONE: ["node-a"], TWO: ["node-a", "node-b"]}[config]
    return [run.nodes[name] for name in names]


def warm_copies(run: Run, nodes: list[Child]) -> None:
    """Every node's copy of the warm file in the page cache (one untimed read)."""
    paths = [mirror_blob(node.extra["data"], run.warm.sha256) for node in nodes]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        run.note(f"not on the node's disk (page cache not warmed): {missing}")
    preload([p for p in paths if p.exists()])


def measure_throughput(run: Run, round_index: int) -> None:
    o = run.options
    for config in rotated(list(NODES), round_index):
        nodes = deployment(run, config)
        warm_copies(run, nodes)
        urls = [node.url + run.warm.url_path for node in nodes]
        spread_download(urls, len(urls), o.max_time)  # untimed warm-up of each node
        batch = spread_download(urls, o.clients, o.max_time)
        if not batch.ok or batch.bytes != o.clients * run.warm.size:
            run.note(f"{config}: a download failed or was cut ({batch.bytes} bytes)")
        run.record("warm.gbps", config, batch.gbps)


def measure_heads(run: Run, round_index: int) -> None:
    o = run.options
    for config in rotated(list(NODES), round_index):
        urls = [node.url + CONFIG_PATH for node in deployment(run, config)]
        rate = spread_head(urls, o.connections, o.head_seconds)
        if rate.failed:
            run.note(f"{config}: {rate.failed} HEAD requests failed")
        run.record("head.rps", config, rate.rps)
        run.record("head.p99", config, rate.p99_ms)


def measure_tiers(run: Run, round_index: int) -> None:
    """One client: node A's local tier against node C streaming from the store."""
    nodes = {LOCAL: run.nodes["node-a"], STREAMED: run.nodes["node-c"]}
    warm_copies(run, [nodes[LOCAL]])
    for config in rotated([LOCAL, STREAMED], round_index):
        one_download(run, config, nodes[config])
    for config in rotated([FIRST, FIRST_ONE], round_index):
        first_read(run, config)


def one_download(run: Run, config: str, node: Child) -> None:
    batch = spread_download([node.url + run.warm.url_path], 1, run.options.max_time)
    transfer = batch.transfers[0]
    if not batch.ok or transfer.size != run.warm.size:
        run.note(f"{config}: the download failed or was cut ({transfer.size} bytes)")
    run.record("tier.seconds", config, transfer.total)
    run.record("tier.gbps", config, transfer.size / transfer.total / 1e9)
    run.record("tier.ttfb_ms", config, transfer.ttfb * 1000)


def first_read(run: Run, config: str) -> None:
    """A new node on an empty disk serves a blob only the store has (through its tier);
    with one segment, the fill reads the store in one stream instead of 16 ranges."""
    data = run.fresh_dir("node-fresh")
    env = (("HUBMIRROR_FILL_SEGMENTS", "1"),) if config == FIRST_ONE else ()
    node = start_node("node-fresh", run.logs, data, NodePlan(run.hub.url, run.shared, env=env))
    try:
        spread_download([node.url + CONFIG_PATH], 1, 60)  # metadata, as a client asks first
        one_download(run, config, node)
    finally:
        node.stop()
        shutil.rmtree(data, ignore_errors=True)


def measure_cold(run: Run, round_index: int) -> None:
    """A cold fill through each deployment; for the cluster, the lag until it is indexed."""
    for config in rotated([EMBEDDED, ONE], round_index):
        cold = run.colds[config][round_index]
        node = deployment(run, config)[0]
        received, seconds, last_byte = timed_get(node.url + cold.url_path, PRIME_TIMEOUT)
        if received != cold.size:
            run.note(f"{config}: cold fill got {received} of {cold.size} bytes")
        run.record("cold.client_s", config, seconds)
        if config == ONE:
            indexed = run.watch.wait_for(cold.sha256, PRIME_TIMEOUT)
            run.record("cold.index_lag_s", config, max(0.0, indexed - last_byte))


MEASURES = (measure_throughput, measure_heads, measure_tiers, measure_cold)


def run_rounds(run: Run) -> list[str]:
    failures = []
    for round_index in range(run.options.rounds):
        for measure in MEASURES:
            begun = time.monotonic()
            try:
                measure(run, round_index)
            except Exception as error:  # noqa: BLE001 - one failed measure is a note
                traceback.print_exc()
                run.note(f"round {round_index + 1} {measure.__name__} failed: {error!r}"[:400])
                failures.append(measure.__name__)
            took = time.monotonic() - begun
            print(f"round {round_index + 1}: {measure.__name__} {took:.0f} s", flush=True)
    return failures


# entry point -------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1 round, 128 MiB (~1 min)")
    parser.add_argument("--rounds", type=int, help="rounds per figure (default 5)")
    parser.add_argument("--size", type=int, help="warm file bytes (default 1 GiB)")
    parser.add_argument("--cold-size", type=int, help="cold file bytes (default 256 MiB)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch dir and logs")
    return parser.parse_args(argv)


def options_from(args: argparse.Namespace) -> Options:
    chosen = {"rounds": args.rounds, "size": args.size, "cold_size": args.cold_size}
    values = {**(QUICK if args.quick else {}), **{k: v for k, v in chosen.items() if v}}
    return Options(**values)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run = Run(options_from(args), Path(tempfile.mkdtemp(prefix="hubmirror-cluster-bench-")))
    run.logs.mkdir()
    os.chmod(run.scratch, 0o755)  # PostgreSQL runs as its own user, below the scratch dir
    started = time.monotonic()
    run.note(f"load average at the start: {os.getloadavg()}")
    failures = ["setup"]
    try:
        start_services(run)
        start_nodes(run)
        failures = run_rounds(run)
    finally:
        stop_all(run)
        if args.keep:
            print(f"kept {run.scratch}")
        else:
            shutil.rmtree(run.scratch, ignore_errors=True)
    finish(run, argv, time.monotonic() - started)
    return 1 if failures else 0


def finish(run: Run, argv: list[str] | None, wall: float) -> None:
    o = run.options
    table = report.build(
        run.series, report.rows(_size(o.size), _size(o.cold_size), o.clients, o.connections)
    )
    print()
    print(report.markdown_tables(table))
    for text in run.notes:
        print(f"note: {text}")
    meta = {
        "caveats": report.CAVEATS,
        "command": " ".join(["python -m bench.cluster", *(argv or sys.argv[1:])]),
        "options": dataclasses.asdict(o),
        "wall_seconds": round(wall, 1),
        "machine": describe(),
    }
    path = report.write(table, meta, run.notes)
    print(f"\nwrote {path} and {path.with_suffix('.json')} ({wall:.0f} s)")


def describe() -> dict:
    """The machine, and the versions of what the cluster mode runs on."""
    found = machine.describe()
    for name in ("nginx", "olah"):
        found.pop(name, None)
    for package in ("moto", "psycopg", "aiobotocore"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "absent"
    found["postgresql"] = postgres_version()
    return found


def _size(size: int) -> str:
    return f"{size / 1024**3:g} GiB" if size >= 1024**3 else f"{size // MiB} MiB"


if __name__ == "__main__":
    sys.exit(main())
