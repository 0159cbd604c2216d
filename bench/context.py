"""The run's shared state: options, scratch dirs, the fake upstream, the warm servers, results.

Warm servers (mirror, nginx, olah) are started once and primed with the large file; cold
scenarios start their own fresh mirror/olah processes through `fresh_*`.
"""

import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.procs import Child
from bench.servers import FakeUpstream, LargeFile, start_mirror, start_olah

MiB = 1024 * 1024


@dataclass
class Options:
    rounds: int = 3
    size: int = 1024 * MiB  # warm large file (a, e)
    cold_size: int = 256 * MiB  # cold large file (c, d)
    bandwidth: int = 20_000_000  # bytes/s per upstream response, cold scenarios
    latency: float = 0.05  # seconds per upstream request, cold scenarios
    head_seconds: float = 6.0
    max_time: float = 20.0  # per curl transfer
    many_files: int = 200
    rss_clients: int = 16
    mirror_workers: int = 0
    scenarios: tuple[str, ...] = ("a", "b", "c", "d", "e", "f")
    olah: bool = True
    nginx: bool = True


@dataclass
class Context:
    options: Options
    scratch: Path
    logs: Path
    hub: FakeUpstream | None = None
    warm_file: LargeFile | None = None
    cold_file: LargeFile | None = None
    servers: dict[str, Child] = field(default_factory=dict)  # warm: mirror, nginx, olah
    paths: dict[str, Path] = field(default_factory=dict)  # their data dirs / docroot
    notes: list[str] = field(default_factory=list)
    series: dict[str, dict[str, list]] = field(default_factory=dict)

    def record(self, metric: str, config: str, value) -> None:
        """Append this round's value; rounds line up by position for paired ratios."""
        self.series.setdefault(metric, {}).setdefault(config, []).append(value)

    def note(self, text: str) -> None:
        print(f"note: {text}", flush=True)
        self.notes.append(text)

    def scratch_dir(self, name: str) -> Path:
        path = self.scratch / f"{name}-{time.monotonic_ns()}"
        path.mkdir(parents=True)
        return path

    @contextmanager
    def fresh_mirror(self, data: Path | None = None):
        """A mirror process on an empty data dir (or `data`), removed afterwards if ours."""
        own = data is None
        data = data or self.scratch_dir("mirror-cold")
        child = start_mirror(self.logs, data, self.hub.url, self.options.mirror_workers)
        try:
            yield child, data
        finally:
            child.stop()
            if own:
                shutil.rmtree(data, ignore_errors=True)

    @contextmanager
    def fresh_olah(self):
        repos = self.scratch_dir("olah-cold")
        child = start_olah(self.logs, repos, self.hub)
        try:
            yield child, repos
        finally:
            child.stop()
            shutil.rmtree(repos, ignore_errors=True)
