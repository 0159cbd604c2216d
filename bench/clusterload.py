"""Load spread over several nodes, as a round-robin load balancer would spread it.

Downloads: ``clients`` parallel ``curl -o /dev/null``, client i on node i mod N (the same
curl line as ``bench.load``). HEAD rates: two generators at once (``ab -i -k`` when
installed), round-robin over the nodes, the connections split evenly, rates summed. A
single timed GET in Python for the cold fill: the moment its last byte arrives is what the
index lag is measured from.
"""

from __future__ import annotations

import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from bench.load import CURL_FORMAT, Batch, Rate, Transfer, head_rate

READ = 1024 * 1024
GENERATORS = 2  # HEAD load generators, whatever the number of nodes


def spread_download(urls: list[str], clients: int, max_time: float) -> Batch:
    """``clients`` concurrent curls, round-robin over ``urls``, each bounded by max_time."""
    argv = ["curl", "-s", "-o", "/dev/null", "-w", CURL_FORMAT, "--max-time", str(max_time)]
    start = time.monotonic()
    procs = [
        subprocess.Popen(argv + [urls[i % len(urls)]], stdout=subprocess.PIPE, text=True)
        for i in range(clients)
    ]
    outputs = [proc.communicate(timeout=max_time + 30)[0] for proc in procs]
    wall = time.monotonic() - start
    return Batch([_transfer(out) for out in outputs], wall)


def _transfer(line: str) -> Transfer:
    status, size, ttfb, total = line.split()
    return Transfer(int(status), int(size), float(ttfb), float(total))


def spread_head(urls: list[str], connections: int, seconds: float) -> Rate:
    """HEAD rate of ``urls`` driven at once by GENERATORS load generators (round-robin over
    the urls), ``connections`` split among them: one node or two, the same client side
    (one ab process is single-threaded and can be the limit itself)."""
    targets = [urls[i % len(urls)] for i in range(max(GENERATORS, len(urls)))]
    each = max(1, connections // len(targets))
    with ThreadPoolExecutor(len(targets)) as pool:
        rates = list(pool.map(lambda url: head_rate(url, each, seconds), targets))
    return Rate(
        rps=sum(r.rps for r in rates),
        p50_ms=max(r.p50_ms for r in rates),
        p99_ms=max(r.p99_ms for r in rates),
        failed=sum(r.failed for r in rates),
        tool=rates[0].tool,
    )


def timed_get(url: str, timeout: float) -> tuple[int, float, float]:
    """(bytes, seconds, monotonic time of the last byte) of one GET read to the end."""
    start = time.monotonic()
    received = 0
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        while chunk := answer.read(READ):
            received += len(chunk)
    end = time.monotonic()
    return received, end - start, end
