"""Cold files: upstream's Xet hash is passed on, and the fill that brings the bytes checks it.

A HEAD passes the hash on and starts nothing (test_cold_probes). The fill of a file
whose Xet hash upstream announced hashes the verified bytes as Xet does before
releasing the last byte; a wrong announcement fails the fill for every reader, like a
wrong sha256, and nothing is stored or recorded.
"""

from __future__ import annotations

import http.client
import threading
import time

import pytest

from tests.fakehub import TINY_BERT
from tests.support.http import get, head
from tests.support.waiting import wait_for
from tests.xet.advertise_support import cold_file, head_once_hashed

pytestmark = pytest.mark.timeout(120)

BIG = "weights/cold.bin"
SIZE = 3 * 1024 * 1024 + 17
SLOW = 2 * 1024 * 1024  # bytes per second: the fill runs for about a second and a half


@pytest.fixture
def cold(fakehub):
    """A Xet-backed LFS file upstream, its bytes and its true Xet hash."""
    return cold_file(fakehub, TINY_BERT, BIG, SIZE, seed=21)


def fetch(url: str) -> bytes | str:
    """The body, or ``"aborted"`` when the answer broke off before its end."""
    try:
        return get(url, timeout=60).body
    except (http.client.IncompleteRead, ConnectionError):
        return "aborted"


def wait_fill_over(mirror, sha256: str) -> None:
    wait_for(
        lambda: sha256 not in mirror.mirror.fills.running,
        f"the fill of {sha256} to end",
        timeout=30,
    )


def test_a_cold_files_head_announces_upstreams_hash_and_the_fill_of_a_get_records_it(
    cold, fakehub, make_mirror
):
    sha256, data, true_hash = cold
    fakehub.faults.bandwidth = SLOW
    mirror = make_mirror(xet_serve=True)
    url = f"{mirror.url}/{TINY_BERT}/resolve/main/{BIG}"

    answer = head(url)
    bodies = []
    reader = threading.Thread(target=lambda: bodies.append(fetch(url)))
    reader.start()
    pending = None
    for _ in range(600):
        pending = mirror.call(lambda: mirror.mirror.announced.pending_blob(true_hash))
        if pending is not None or bodies:
            break
        time.sleep(0.01)
    reader.join(60)

    assert answer.header("X-Xet-Hash") == true_hash
    assert pending is not None and pending.sha256 == sha256  # the GET's fill checks it
    assert bodies == [data]
    assert mirror.mirror.index.xet.xet_hash_of(sha256) == true_hash
    assert head(url).header("X-Xet-Hash") == true_hash  # now the verified one


def test_a_wrong_announced_hash_fails_the_fill_for_every_reader_and_stores_nothing(
    cold, fakehub, make_mirror
):
    sha256, data, true_hash = cold
    fakehub.faults.wrong_xet_hashes = {sha256}
    fakehub.faults.bandwidth = SLOW
    mirror = make_mirror(xet_serve=True)
    url = f"{mirror.url}/{TINY_BERT}/resolve/main/{BIG}"

    announced = head(url).header("X-Xet-Hash")
    bodies = []
    reader = threading.Thread(target=lambda: bodies.append(fetch(url)))
    reader.start()
    reader.join(60)

    assert announced == true_hash[::-1]
    assert bodies == ["aborted"]  # a plain client of the same fill gets no last byte
    wait_fill_over(mirror, sha256)
    assert mirror.mirror.index.blob_by_id(sha256) is None
    assert mirror.mirror.index.xet.xet_hash_of(sha256) is None
    assert not [p for p in (mirror.data_dir / "blobs").rglob("*") if p.is_file()]


def test_after_a_wrong_announcement_the_file_is_served_plain_then_with_its_own_hash(
    cold, fakehub, make_mirror
):
    sha256, data, true_hash = cold
    fakehub.faults.wrong_xet_hashes = {sha256}
    mirror = make_mirror(xet_serve=True)
    url = f"{mirror.url}/{TINY_BERT}/resolve/main/{BIG}"
    assert fetch(url) == "aborted"
    wait_fill_over(mirror, sha256)
    fakehub.faults.wrong_xet_hashes = set()

    assert head(url).header("X-Xet-Hash") is None  # the announcement was dropped
    assert fetch(url) == data
    assert head_once_hashed(url).header("X-Xet-Hash") == true_hash


def test_with_xet_serve_off_a_cold_head_announces_nothing_and_starts_no_fill(
    cold, fakehub, make_mirror
):
    sha256, _data, _true_hash = cold
    mirror = make_mirror(xet_serve=False)
    url = f"{mirror.url}/{TINY_BERT}/resolve/main/{BIG}"

    answer = head(url)

    assert answer.status == 200 and answer.header("X-Xet-Hash") is None
    assert "Link" not in answer.headers or "xet" not in answer.header("Link")
    assert sha256 not in mirror.mirror.fills.running
    assert not [e for e in fakehub.log if e.host == "cdn"]


def test_an_empty_lfs_file_is_never_announced(fakehub, make_mirror):
    fakehub.add_large_file("model", TINY_BERT, "empty.bin", 0)
    mirror = make_mirror(xet_serve=True)

    answer = head(f"{mirror.url}/{TINY_BERT}/resolve/main/empty.bin")

    assert answer.status == 200 and answer.header("X-Xet-Hash") is None
