"""A cold file's Xet requests may reach any worker process: each finds the running fill.

With ``--workers N`` the processes share one port, so a Xet client's HEAD (which
records upstream's hash), its reconstruction (which starts the fill) and each xorb
fetch may land on different workers. Two mirrors on one
data directory stand in for two workers here (one index, one fill lock per blob).
"""

from __future__ import annotations

import threading
import time

import pytest

from tests.fakehub import TINY_BERT
from tests.support.http import get, head
from tests.xet import cas_support as cas
from tests.xet.advertise_support import cold_file
from tests.xet.test_cold_advertise import wait_fill_over

pytestmark = pytest.mark.timeout(120)

BIG = "weights/cold.bin"
SIZE = 3 * 1024 * 1024 + 17
SLOW = 1024 * 1024  # bytes per second: the fill runs for about three seconds


@pytest.fixture
def cold(fakehub):
    return cold_file(fakehub, TINY_BERT, BIG, SIZE, seed=22)


@pytest.fixture
def workers(make_mirror):
    """Two mirrors on one data directory, like two worker processes of one server."""
    first = make_mirror(xet_serve=True)
    return first, make_mirror(xet_serve=True, data=str(first.data_dir))


def resolve(server) -> str:
    return f"{server.url}/{TINY_BERT}/resolve/main/{BIG}"


def test_a_cold_file_announced_by_one_worker_is_read_through_another(cold, fakehub, workers):
    sha256, data, true_hash = cold
    fakehub.faults.bandwidth = SLOW
    first, second = workers

    announced = head(resolve(first))
    assert announced.header("X-Xet-Hash") == true_hash
    assert sha256 not in second.mirror.fills.running

    answer = cas.reconstruction(second, true_hash, token_value=cas.token(second)[0])

    assert cas.rebuild(answer, 2, len(data)) == data
    wait_fill_over(first, sha256)
    assert first.mirror.index.xet.xet_hash_of(sha256) == true_hash
    assert fakehub.body_bytes(host="cdn") == len(data)  # one upstream transfer for both workers


def test_a_hash_one_worker_passed_on_is_passed_on_and_checked_by_another(cold, fakehub, workers):
    sha256, data, true_hash = cold
    fakehub.faults.bandwidth = SLOW
    first, second = workers

    assert head(resolve(first)).header("X-Xet-Hash") == true_hash
    assert head(resolve(second)).header("X-Xet-Hash") == true_hash  # it asked no upstream
    bodies = []
    reader = threading.Thread(target=lambda: bodies.append(get(resolve(second)).body))
    reader.start()
    checks = None
    for _ in range(600):
        fill = second.mirror.fills.running.get(sha256)
        if fill is not None or bodies:
            checks = fill.xet_check if fill is not None else None
            break
        time.sleep(0.01)
    reader.join(60)

    assert checks == true_hash  # the GET's fill on the other worker checks it
    assert bodies == [data]


def test_the_announcement_is_withdrawn_when_the_fill_ends(cold, fakehub, workers):
    sha256, _data, true_hash = cold
    fakehub.faults.bandwidth = SLOW
    first, second = workers
    head(resolve(first))
    assert cas.reconstruction(first, true_hash, token_value=cas.token(first)[0]).status == 200
    assert second.mirror.index.xet.announced_blob(true_hash).sha256 == sha256

    wait_fill_over(first, sha256)

    assert second.mirror.index.xet.announced_blob(true_hash) is None
    assert second.mirror.index.xet.blob_of(true_hash).sha256 == sha256  # stored instead


def test_a_wrong_announcement_leaves_no_way_to_the_bytes_for_other_workers(cold, fakehub, workers):
    sha256, _data, true_hash = cold
    wrong = fakehub.faults.wrong_xet_hashes = {sha256}
    assert wrong
    first, second = workers
    announced = head(resolve(first)).header("X-Xet-Hash")
    assert announced and announced != true_hash
    assert cas.reconstruction(first, announced, token_value=cas.token(first)[0]).status == 200

    wait_fill_over(first, sha256)

    answer = cas.reconstruction(second, announced, token_value=cas.token(second)[0])
    assert answer.status == 404
    assert first.mirror.index.blob_by_id(sha256) is None
