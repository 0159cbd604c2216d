"""Setting xet_upstream: files upstream keeps in Xet storage are fetched with hf_xet.

The fake hub's CAS (tests/fakehub/xetcas.py) serves its LFS files as Xet; its request log
tells which path the mirror took: reconstructions and xorb ranges on host "cas", or the
plain CDN link on host "cdn". Either way the bytes go through the mirror's verified fill.
"""

from __future__ import annotations

import hashlib
import http.client

import pytest

from tests.fakehub import GATED_MODEL, OWNER_TOKEN, TINY_BERT
from tests.support.http import get

pytestmark = pytest.mark.timeout(90)

MODEL = "model"
BIG = "weights/xet.bin"
SIZE = 3 * 1024 * 1024 + 17  # three fill segments, the last chunk short


@pytest.fixture
def xet_hub(fakehub):
    """The fake hub with Xet-backed LFS files and a multi-MiB file on tiny-bert."""
    fakehub.xet_files = True
    fakehub.add_large_file(MODEL, TINY_BERT, BIG, SIZE, seed=9)
    fakehub.clear_log()
    return fakehub


def fetch(url: str, token: str | None = None) -> tuple[int, bytes] | str:
    """``(status, body)``, or ``"aborted"`` when the answer broke off before its end."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        answer = get(url, headers=headers, timeout=60)
    except (http.client.IncompleteRead, ConnectionError):
        return "aborted"
    return answer.status, answer.body


def requests_to(hub, host: str, text: str = "") -> list:
    return [e for e in hub.log if e.host == host and text in e.target]


def stored_blobs(mirror) -> list:
    return [p for p in (mirror.data_dir / "blobs").rglob("*") if p.is_file()]


def test_a_xet_file_comes_through_xet_byte_exact_with_no_cdn_bytes(xet_hub, make_mirror):
    mirror = make_mirror(xet_upstream=True, fill_segment_mib=1)
    expected = xet_hub.file_bytes(MODEL, TINY_BERT, "main", BIG)

    assert fetch(f"{mirror.url}/{TINY_BERT}/resolve/main/{BIG}") == (200, expected)

    assert requests_to(xet_hub, "cas", "/reconstructions/")
    xorbs = requests_to(xet_hub, "cas", "/xorbs/")
    assert xorbs and all(e.status == 206 for e in xorbs)
    assert xet_hub.body_bytes(host="cas", path_contains="/xorbs/") >= SIZE
    assert xet_hub.body_bytes(host="cdn") == 0
    assert len(requests_to(xet_hub, "hub", "/xet-read-token/")) == 1  # cached per commit


def test_a_xet_fill_asks_upstream_for_the_xet_hash_with_one_head(xet_hub, make_mirror):
    mirror = make_mirror(xet_upstream=True, fill_segment_mib=1)
    expected = xet_hub.file_bytes(MODEL, TINY_BERT, "main", BIG)
    commit = xet_hub.commit_of(MODEL, TINY_BERT, "main")

    assert fetch(f"{mirror.url}/{TINY_BERT}/resolve/main/{BIG}") == (200, expected)

    assert len(requests_to(xet_hub, "cas", "/reconstructions/")) == 3  # one per segment
    heads = [e for e in requests_to(xet_hub, "hub", f"/resolve/{commit}/") if e.method == "HEAD"]
    assert len(heads) == 1


def test_without_xet_upstream_the_mirror_fetches_over_http(xet_hub, make_mirror):
    mirror = make_mirror()
    expected = xet_hub.file_bytes(MODEL, TINY_BERT, "main", BIG)

    assert fetch(f"{mirror.url}/{TINY_BERT}/resolve/main/{BIG}") == (200, expected)

    assert requests_to(xet_hub, "cas") == []
    assert requests_to(xet_hub, "hub", "/xet-read-token/") == []
    assert xet_hub.body_bytes(host="cdn") == SIZE


def test_corrupt_xorb_bytes_abort_the_client_and_nothing_is_stored(xet_hub, make_mirror):
    mirror = make_mirror(xet_upstream=True)
    url = f"{mirror.url}/{TINY_BERT}/resolve/main/{BIG}"
    xet_hub.faults.corrupt_xorbs = True

    outcome = fetch(url)

    assert outcome == "aborted" or outcome[0] >= 500
    assert stored_blobs(mirror) == []
    assert xet_hub.body_bytes(host="cdn") == 0  # bad bytes are no Xet failure to fall back on
    xet_hub.faults.corrupt_xorbs = False
    assert fetch(url) == (200, xet_hub.file_bytes(MODEL, TINY_BERT, "main", BIG))
    assert len(stored_blobs(mirror)) == 1


def test_a_cas_that_is_down_makes_the_fill_fall_back_to_http(xet_hub, make_mirror):
    mirror = make_mirror(xet_upstream=True)
    xet_hub.cas_down()
    try:
        outcome = fetch(f"{mirror.url}/{TINY_BERT}/resolve/main/{BIG}")
    finally:
        xet_hub.cas_up()

    assert outcome == (200, xet_hub.file_bytes(MODEL, TINY_BERT, "main", BIG))
    assert requests_to(xet_hub, "cas") == []  # connection refused: never logged
    assert xet_hub.body_bytes(host="cdn") == SIZE


def test_a_gated_xet_file_needs_access_before_any_xet(xet_hub, make_mirror):
    mirror = make_mirror(xet_upstream=True)
    url = f"{mirror.url}/{GATED_MODEL}/resolve/main/model.safetensors"
    expected = xet_hub.file_bytes(MODEL, GATED_MODEL, "main", "model.safetensors")

    refused = get(url, timeout=30)

    assert refused.status == 401
    assert refused.header("X-Error-Code") == "GatedRepo"
    assert requests_to(xet_hub, "cas") == []
    assert requests_to(xet_hub, "hub", "/xet-read-token/") == []
    assert fetch(url, OWNER_TOKEN) == (200, expected)
    tokens = requests_to(xet_hub, "hub", "/xet-read-token/")
    assert [e.headers.get("authorization") for e in tokens] == [f"Bearer {OWNER_TOKEN}"]
    assert requests_to(xet_hub, "cas", "/xorbs/")
    assert xet_hub.body_bytes(host="cdn") == 0


def test_the_fill_verifies_xet_bytes_against_the_sha256(xet_hub, make_mirror):
    mirror = make_mirror(xet_upstream=True)

    status, body = fetch(f"{mirror.url}/{TINY_BERT}/resolve/main/{BIG}")

    assert status == 200
    assert hashlib.sha256(body).hexdigest() == xet_hub.file_sha256(MODEL, TINY_BERT, "main", BIG)
    assert [p.name for p in stored_blobs(mirror)] == [hashlib.sha256(body).hexdigest()]
