"""Load generators: curl for downloads, ab (or an aiohttp loop) for HEAD rates.

One client for every server, so ratios compare servers, not clients. curl writes to
/dev/null and reports its own byte counts and timings; every transfer has --max-time, so a
slow contender gives a throughput over a bounded window instead of an unbounded wait.
"""

import asyncio
import re
import shutil
import subprocess
import time
from dataclasses import dataclass

CURL_FORMAT = "%{http_code} %{size_download} %{time_starttransfer} %{time_total}\n"


@dataclass(frozen=True)
class Transfer:
    status: int
    size: int
    ttfb: float
    total: float


@dataclass(frozen=True)
class Batch:
    """N concurrent downloads; `wall` from the first start to the last end."""

    transfers: list[Transfer]
    wall: float

    @property
    def bytes(self) -> int:
        return sum(t.size for t in self.transfers)

    @property
    def gbps(self) -> float:
        """Aggregate rate over curl's own clock (the slowest transfer), so process start-up
        of the clients, which matters next to a 40 ms transfer, is not counted."""
        slowest = max(t.total for t in self.transfers)
        return self.bytes / slowest / 1e9 if slowest > 0 else float("nan")

    @property
    def ok(self) -> bool:
        return all(200 <= t.status < 300 for t in self.transfers)


def download(url: str, clients: int, max_time: float) -> Batch:
    """`clients` parallel curls of `url` to /dev/null, each stopped after max_time seconds."""
    argv = ["curl", "-s", "-L", "-o", "/dev/null", "-w", CURL_FORMAT, "--max-time", str(max_time)]
    start = time.monotonic()
    procs = [
        subprocess.Popen(argv + [url], stdout=subprocess.PIPE, text=True) for _ in range(clients)
    ]
    outputs = [proc.communicate(timeout=max_time + 30)[0] for proc in procs]
    wall = time.monotonic() - start
    return Batch([_parse_curl(out) for out in outputs], wall)


def _parse_curl(line: str) -> Transfer:
    status, size, ttfb, total = line.split()
    return Transfer(int(status), int(size), float(ttfb), float(total))


@dataclass(frozen=True)
class Rate:
    rps: float
    p50_ms: float
    p99_ms: float
    failed: int
    tool: str


def head_rate(url: str, connections: int, seconds: float) -> Rate:
    """HEAD requests per second at `connections` keep-alive connections for `seconds`."""
    if shutil.which("ab"):
        return _ab(url, connections, seconds)
    return asyncio.run(_aiohttp_head(url, connections, seconds))


def _ab(url: str, connections: int, seconds: float) -> Rate:
    """ab -i -k: HEAD over keep-alive; -n after -t lifts ab's implied 50,000 cap."""
    argv = ["ab", "-q", "-i", "-k", "-c", str(connections), "-t", str(seconds), "-n", "10000000"]
    out = subprocess.run(argv + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(_field(out, r"Requests per second:\s+([\d.]+)"))
    failed = int(_field(out, r"Failed requests:\s+(\d+)")) + _non_2xx(out)
    return Rate(rps, _percent(out, 50), _percent(out, 99), failed, "ab -i -k")


def _field(text: str, pattern: str) -> str:
    found = re.search(pattern, text)
    if not found:
        raise RuntimeError(f"ab output lacks {pattern!r}: {text[-500:]}")
    return found.group(1)


def _non_2xx(text: str) -> int:
    found = re.search(r"Non-2xx responses:\s+(\d+)", text)
    return int(found.group(1)) if found else 0


def _percent(text: str, pct: int) -> float:
    found = re.search(rf"^\s+{pct}%\s+(\d+)", text, re.MULTILINE)
    return float(found.group(1)) if found else float("nan")


async def _aiohttp_head(url: str, connections: int, seconds: float) -> Rate:
    """Fallback generator when ab is absent: `connections` workers, each on one keep-alive."""
    import aiohttp

    latencies: list[float] = []
    failed = [0]
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while time.monotonic() < deadline:
                start = time.perf_counter()
                async with session.head(url) as response:
                    failed[0] += response.status >= 300
                latencies.append(time.perf_counter() - start)

        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.monotonic() - start
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return Rate(len(latencies) / elapsed, pick(0.5), pick(0.99), failed[0], "aiohttp")
