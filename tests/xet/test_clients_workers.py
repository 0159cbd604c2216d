"""hf_xet through ``hubmirror serve --workers 2``: cold files, each request on any worker.

The workers share the port, so a client's HEAD, its reconstructions and its xorb
fetches land on whichever worker the kernel picks; every file must still arrive
whole, from one upstream transfer.
"""

from __future__ import annotations

import asyncio
import signal

import pytest

from tests.fakehub.defaults import TINY_BERT
from tests.support.clients import run_client
from tests.support.commands import start_hubmirror, wait_ready
from tests.support.ports import free_port, wait_for_listeners
from tests.xet import clients_support as xc
from tests.xet.advertise_support import cold_file

pytestmark = pytest.mark.timeout(180)

FILES = [f"cold/part-{i}.bin" for i in range(4)]
SIZE = 2 * 1024 * 1024 + 5
SLOW = 4 * 1024 * 1024  # bytes per second upstream: downloads overlap their fills

DOWNLOAD = (
    xc.XET_CHECK
    + f"""
from huggingface_hub import hf_hub_download

emit([sha(hf_hub_download({TINY_BERT!r}, path)) for path in {FILES!r}])
"""
)


@pytest.fixture
def two_workers(fakehub, tmp_path):
    port = free_port()
    args = ("--port", str(port), "--workers", "2", "--data", str(tmp_path / "data"))
    proc = start_hubmirror(
        "serve", *args, "--upstream", fakehub.url, env={"HUBMIRROR_XET_SERVE": "true"}
    )
    wait_ready(f"http://127.0.0.1:{port}", proc)
    asyncio.run(wait_for_listeners(port, 2))
    yield f"http://127.0.0.1:{port}", proc
    if proc.poll() is None:  # SIGINT: the workers stop with the server, not after it
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def test_hf_xet_downloads_cold_files_whole_from_two_workers(two_workers, fakehub, tmp_path):
    endpoint, proc = two_workers
    made = [cold_file(fakehub, TINY_BERT, path, SIZE, seed=40 + i) for i, path in enumerate(FILES)]
    digests = [sha256 for sha256, _data, _hash in made]
    fakehub.faults.bandwidth = SLOW

    seen = run_client(DOWNLOAD, endpoint, tmp_path / "home", env=xc.XET_ON)

    assert seen == digests
    proc.send_signal(signal.SIGINT)
    _, log = proc.communicate(timeout=30)
    access = [line for line in log.splitlines() if "hubmirror.access:" in line]
    assert sum("/xet-cas/xorbs/" in line for line in access) >= len(FILES), log[-3000:]
    assert not [line for line in access if f"GET /{TINY_BERT}/resolve/" in line]
    assert fakehub.body_bytes(host="cdn") == SIZE * len(FILES)
