"""Two nodes behind one load balancer: one upstream transfer per blob, whoever asks where.

The nodes share PostgreSQL and the object store. The node that takes a blob's
fill lease fetches it; the other reads that fill as it grows, over signed
node-to-node requests, and never waits for the whole file.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

import pytest

from hubmirror.hub.nodeauth import sign
from tests.support.clients import TINY_BERT
from tests.support.http import get
from tests.support.mirror import MirrorThread
from tests.support.waiting import wait_for

from .conftest import BIG, BIG_SIZE, settled

pytestmark = pytest.mark.timeout(120)
SLOW = 2 * 1024 * 1024  # bytes per second upstream: a fill takes about 3 s


def _url(node, path: str) -> str:
    return f"{node.url}/{TINY_BERT}/resolve/main/{path}"


def test_eight_clients_on_two_nodes_make_one_upstream_transfer(make_node, fakehub, big_file):
    nodes = [make_node(), make_node()]
    fakehub.faults.bandwidth = SLOW
    fakehub.clear_log()

    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda i: get(_url(nodes[i % 2], BIG)).body, range(8)))

    assert [hashlib.sha256(b).hexdigest() for b in bodies] == [big_file] * 8
    for node in nodes:
        settled(node)
    moved = fakehub.body_bytes(host="cdn") + fakehub.body_bytes(host="hub", path_contains=BIG)
    assert moved == BIG_SIZE, f"upstream sent {moved} bytes for one {BIG_SIZE}-byte file"


def test_a_node_reads_the_other_nodes_fill_while_it_runs(make_node, fakehub, big_file):
    first, second = make_node(), make_node()
    fakehub.faults.bandwidth = SLOW
    with ThreadPoolExecutor(2) as pool:
        leading = pool.submit(get, _url(first, BIG))
        _wait_for_fill(first)
        following = pool.submit(get, _url(second, BIG), headers={"Range": "bytes=100-199"})
        part = following.result(timeout=60)
        whole = leading.result(timeout=60)

    assert part.status == 206 and part.body == whole.body[100:200]
    settled(first)
    settled(second)
    assert second.call(lambda: second.mirror.fills.outcomes["from_peer"]) == 1
    assert fakehub.body_bytes(host="cdn") == BIG_SIZE


def test_node_routes_refuse_unsigned_and_wrongly_signed_requests(make_node, big_file):
    node = make_node()
    assert get(_url(node, BIG)).status == 200
    path = f"/_node/fills/{big_file}"

    unsigned = get(node.url + path)
    forged = get(node.url + path, headers=sign("not-the-secret", "intruder", "GET", path, _now()))
    secret = node.call(lambda: node.mirror.shared.cluster.peers.secret)
    signed = get(
        node.url + path, headers=sign(secret, "peer", "GET", path, _now()) | {"Range": "bytes=0-9"}
    )

    assert unsigned.status == 401 and forged.status == 401
    assert signed.status == 206 and len(signed.body) == 10


def _now() -> float:
    import time

    return time.time()


def _wait_for_fill(node, timeout: float = 10.0) -> None:
    wait_for(
        lambda: node.call(lambda: bool(node.mirror.fills.running)),
        "the fill to start",
        timeout=timeout,
        every=0.02,
    )


def test_any_worker_of_a_node_serves_the_fill_another_worker_runs(make_node, fakehub, big_file):
    worker = make_node()
    other_worker = MirrorThread(worker.settings).start()  # same data directory, same port role
    try:
        fakehub.faults.bandwidth = SLOW
        with ThreadPoolExecutor(1) as pool:
            leading = pool.submit(get, _url(worker, BIG))
            _wait_for_fill(worker)
            path = f"/_node/fills/{big_file}"
            secret = other_worker.call(lambda: other_worker.mirror.shared.cluster.peers.secret)
            headers = sign(secret, "peer", "GET", path, _now()) | {"Range": "bytes=0-99"}
            part = get(other_worker.url + path, headers=headers)
            whole = leading.result(timeout=60)
    finally:
        other_worker.stop()

    assert part.status == 206 and part.body == whole.body[:100]
