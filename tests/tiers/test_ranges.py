"""Range through two tiers, as curl and the streaming clients send it: exact 206 answers,
suffix ranges, 416 past the end; on cold and warm tiers, and while the site's fill runs.
"""

from __future__ import annotations

import hashlib
import http.client
from urllib.parse import urlsplit

import pytest

from tests.support.clients import MODEL, TINY_BERT, curl_fetch
from tests.support.http import get

pytestmark = pytest.mark.timeout(60)

WEIGHTS = "model.safetensors"
LARGE = "weights/large.bin"
LARGE_SIZE = 4 * 1024 * 1024

RANGES = [  # Range header → slice of the file, or None for 416
    ("bytes=0-9", slice(0, 10)),
    ("bytes=100-", slice(100, None)),
    ("bytes=-16", slice(-16, None)),
    ("bytes=1000-1999", slice(1000, 2000)),
    ("bytes=999999-", None),
]


def assert_range_answer(answer, header: str, expected: slice | None, data: bytes) -> None:
    if expected is None:
        assert (answer.status, answer.header("X-Error-Code")) == (416, "RangeNotSatisfiable")
        return
    body = data[expected]
    start = expected.start if expected.start >= 0 else len(data) + expected.start
    assert answer.status == 206, header
    assert answer.body == body
    assert answer.header("Content-Range") == f"bytes {start}-{start + len(body) - 1}/{len(data)}"


@pytest.mark.parametrize(("header", "expected"), RANGES, ids=[r for r, _ in RANGES])
def test_range_on_cold_tiers_is_exact(chain, fakehub, header, expected):
    data = fakehub.file_bytes(MODEL, TINY_BERT, "main", WEIGHTS)

    answer = get(chain.url(f"/{TINY_BERT}/resolve/main/{WEIGHTS}"), headers={"Range": header})

    assert_range_answer(answer, header, expected, data)


def test_ranges_on_warm_tiers_are_exact_with_curl(chain, fakehub):
    data = fakehub.file_bytes(MODEL, TINY_BERT, "main", WEIGHTS)
    url = chain.url(f"/{TINY_BERT}/resolve/main/{WEIGHTS}")
    assert get(url).body == data

    for header, expected in RANGES:
        seen = curl_fetch(url, "-H", f"Range: {header}")
        if expected is None:
            assert seen.status == 416
            continue
        assert seen.status == 206
        assert seen.body == data[expected]
        assert seen.headers["x-cache-status"] == "HIT"


def test_a_range_asked_while_the_site_fills_the_file_gets_exact_bytes(chain, fakehub):
    """A whole-file reader keeps the site's fill running (the Hub is slow); a Range request
    in the middle of it is answered exactly, and the Hub still sends the file once."""
    digest = fakehub.add_large_file(MODEL, TINY_BERT, LARGE, LARGE_SIZE, seed=5)
    data = fakehub.file_bytes(MODEL, TINY_BERT, "main", LARGE)
    fakehub.faults.bandwidth = 8 * 1024 * 1024  # about half a second for the whole file
    url = chain.url(f"/{TINY_BERT}/resolve/main/{LARGE}")
    parts = urlsplit(url)
    reader = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    reader.request("GET", parts.path)
    whole = reader.getresponse()
    head = whole.read(64 * 1024)  # the fill is under way

    tail = get(url, headers={"Range": f"bytes={LARGE_SIZE - 1000}-"}, timeout=30)
    middle = get(url, headers={"Range": "bytes=1048576-1049599"}, timeout=30)
    rest = whole.read()
    reader.close()

    assert whole.status == 200
    assert hashlib.sha256(head + rest).hexdigest() == digest
    assert (tail.status, tail.body) == (206, data[-1000:])
    assert (middle.status, middle.body) == (206, data[1048576:1049600])
    assert fakehub.body_bytes(host="cdn", path_contains=digest) == LARGE_SIZE
