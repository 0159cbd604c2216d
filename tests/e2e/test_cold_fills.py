"""Cold files: the mirror streams a fill to its callers and fetches each blob upstream once.

A client gives up on 10 s of silence (HEAD and body reads alike), so a mirror that downloads a
whole cold file before answering breaks large downloads; and two users asking for the same
cold file at once must not make the mirror pull it twice. Each test starts a cold mirror and
slows the fake hub's bodies down so that the fill is still running while clients read.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.support.clients import MODEL, TINY_BERT, client_env, curl
from tests.support.hashing import sha256_of

pytestmark = pytest.mark.timeout(180)

BIG = "big/weights.bin"
BIG_SIZE = 6 * 1024 * 1024
SLOW = 1024 * 1024  # bytes per second upstream: the fill takes about 6 s

DOWNLOAD_BIG = f"""
import json
from huggingface_hub import hf_hub_download
print(json.dumps(hf_hub_download({TINY_BERT!r}, {BIG!r})))
"""


@pytest.fixture
def big_file(fakehub) -> str:
    """A 6 MiB LFS file on main of tiny-bert; its sha256."""
    return fakehub.add_large_file(MODEL, TINY_BERT, BIG, BIG_SIZE, seed=7)


def start_download(endpoint, home) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", DOWNLOAD_BIG],
        env=client_env(endpoint, home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-4000:]
    return out.strip().splitlines()[-1].strip('"')


def test_concurrent_downloads_of_a_cold_file_share_one_upstream_fill(
    cold_endpoint, new_home, fakehub, big_file
):
    """Three clients at once get the whole file; upstream sends its bytes only once."""
    fakehub.faults.bandwidth = SLOW
    fakehub.clear_log()

    procs = [start_download(cold_endpoint, new_home()) for _ in range(3)]
    try:
        paths = [finish(proc) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    assert [sha256_of(path) for path in paths] == [big_file] * 3
    moved = fakehub.body_bytes(host="cdn") + fakehub.body_bytes(host="hub", path_contains=BIG)
    assert moved == BIG_SIZE, f"upstream sent {moved} bytes for one {BIG_SIZE}-byte file"


def test_cold_large_file_streams_before_the_fill_completes(cold_endpoint, fakehub, big_file):
    """The first bytes reach curl long before the upstream transfer (about 6 s) is over."""
    fakehub.faults.bandwidth = SLOW
    url = f"{cold_endpoint}/{TINY_BERT}/resolve/main/{BIG}"

    proc = curl(["-f", "-o", "/dev/null", "-w", "%{time_starttransfer} %{size_download}", url])

    first_byte, size = proc.stdout.decode().split()
    assert int(size) == BIG_SIZE
    assert float(first_byte) < 3.0, f"first byte after {first_byte} s: the fill is not streamed"


def test_head_of_cold_large_file_does_not_wait_for_the_bytes(cold_endpoint, fakehub, big_file):
    """HEAD is answered from upstream metadata, in well under the client's 10 s timeout."""
    fakehub.faults.bandwidth = SLOW // 8  # a full fill would take about 50 s
    url = f"{cold_endpoint}/{TINY_BERT}/resolve/main/{BIG}"

    started = time.monotonic()
    proc = curl(["-f", "-I", url])
    elapsed = time.monotonic() - started

    assert elapsed < 3.0, f"HEAD took {elapsed:.1f} s"
    headers = proc.stdout.decode().lower()
    assert f"content-length: {BIG_SIZE}" in headers
    assert f'x-linked-etag: "{big_file}"' in headers or f'etag: "{big_file}"' in headers


def test_range_of_a_cold_file_being_filled_is_exact(cold_endpoint, fakehub, big_file):
    """Ranges asked while the fill is still running give exactly the bytes asked for."""
    fakehub.faults.bandwidth = SLOW
    data = fakehub.file_bytes(MODEL, TINY_BERT, "main", BIG)
    url = f"{cold_endpoint}/{TINY_BERT}/resolve/main/{BIG}"
    near_end = BIG_SIZE - 1000

    head = curl(["-f", "-r", "0-99", url]).stdout
    tail = curl(["-f", "-r", f"{near_end}-{near_end + 99}", url]).stdout

    assert head == data[:100]
    assert tail == data[near_end : near_end + 100]
