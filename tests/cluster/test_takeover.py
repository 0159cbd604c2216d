"""A node dies mid-fill: its lease runs out, and the node still reading takes the fill over.

The surviving node keeps every byte it already read from the dead one and fetches
only the rest from upstream; its client sees a pause, not an error, and the blob
still ends up verified in the object store and the index.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.clients import TINY_BERT
from tests.support.commands import start_hubmirror, wait_ready
from tests.support.http import get
from tests.support.ports import free_port

from .conftest import BIG, BIG_SIZE, settled

pytestmark = pytest.mark.timeout(120)
SLOW = 1024 * 1024  # bytes per second upstream: a whole fill would take 6 s


@pytest.fixture
def node_process(cluster_settings, fakehub, tmp_path):
    """A node of the cluster in its own process, to be killed."""
    port = free_port()
    env = {f"HUBMIRROR_{k.upper()}": str(v) for k, v in cluster_settings.items()}
    proc = start_hubmirror(
        "serve",
        *("--port", str(port), "--data", str(tmp_path / "doomed"), "--upstream", fakehub.url),
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, proc)
    yield url, proc
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=10)


def test_a_node_takes_over_the_fill_of_a_node_that_died(
    node_process, make_node, fakehub, big_file, s3_admin, s3_store_url
):
    doomed_url, doomed = node_process
    survivor = make_node()
    fakehub.faults.bandwidth = SLOW
    fakehub.clear_log()
    fakehub.faults.bandwidth = SLOW

    with ThreadPoolExecutor(2) as pool:
        pool.submit(_get_quietly, f"{doomed_url}/{TINY_BERT}/resolve/main/{BIG}")
        time.sleep(1.0)  # the doomed node holds the lease and is filling
        reading = pool.submit(get, f"{survivor.url}/{TINY_BERT}/resolve/main/{BIG}")
        time.sleep(1.0)  # the survivor reads the doomed node's fill
        os.kill(doomed.pid, signal.SIGKILL)
        resp = reading.result(timeout=90)

    assert resp.status == 200 and hashlib.sha256(resp.body).hexdigest() == big_file
    settled(survivor)
    assert survivor.call(lambda: survivor.mirror.fills.outcomes["from_upstream"]) == 1
    stored = survivor.call(lambda: survivor.mirror.index.blob_by_id(big_file))
    assert stored is not None and stored.size == BIG_SIZE
    bucket = s3_store_url.removeprefix("s3://").split("/")[0]
    key = f"mirror/blobs/sha256/{big_file[:2]}/{big_file[2:4]}/{big_file}"
    assert s3_admin.head_object(Bucket=bucket, Key=key)["ContentLength"] == BIG_SIZE
    moved = fakehub.body_bytes(host="cdn")
    assert moved < 2 * BIG_SIZE  # the survivor kept what it had read


def _get_quietly(url: str) -> None:
    with contextlib.suppress(OSError):  # its node is killed mid-body
        get(url)
