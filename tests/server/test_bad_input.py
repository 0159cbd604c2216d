"""Malformed requests get a Hub-style 4xx, reach no upstream and write nothing."""

from __future__ import annotations

import pytest

from tests.support.http import get, request

BAD = [
    ("GET", "/acme/tiny-bert/resolve/main/../../etc/passwd", 400),
    ("GET", "/acme/tiny-bert/resolve/main/a/%2e%2e/b", 400),
    ("GET", "/acme/tiny-bert/resolve/..%2F..%2Fx/config.json", 400),
    ("GET", "/ac$me/tiny-bert/resolve/main/config.json", 400),
    ("GET", "/acme/tiny..bert/resolve/main/config.json", 400),
    ("GET", "/acme/tiny-bert/resolve/main/%ff%fe", 400),
    ("GET", "/acme/tiny-bert/resolve/main/a%00b", 400),
    ("GET", "/acme/tiny-bert/resolve/ma%0Ain/config.json", 400),
    ("GET", "/api/models/acme/tiny-bert/tree/a..b", 400),
    ("GET", "/api/models/acme/tiny-bert/nope/main", 404),
    ("GET", "/whatever", 404),
    ("DELETE", "/acme/tiny-bert/resolve/main/config.json", 400),
]


@pytest.mark.parametrize(("method", "target", "status"), BAD)
def test_bad_request_gets_error_code_and_touches_nothing(mirror, fakehub, method, target, status):
    answer = request(method, mirror.url + target)
    assert answer.status == status
    assert answer.header("X-Error-Code") in ("BadRequest", "NotFound")
    assert answer.header("X-Error-Message")
    assert not [e for e in fakehub.log if "tiny-bert" in e.target or "whatever" in e.target]
    assert _stored_files(mirror) == []


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=9-1", "pages=1-2", "bytes=0-1,4-5"])
def test_broken_range_is_400_before_any_upstream_request(mirror, fakehub, header):
    answer = get(f"{mirror.url}/acme/tiny-bert/resolve/main/config.json", headers={"Range": header})
    assert (answer.status, answer.header("X-Error-Code")) == (400, "BadRequest")
    assert fakehub.log == []


def test_huge_header_is_refused_cleanly(mirror):
    answer = get(
        f"{mirror.url}/acme/tiny-bert/resolve/main/config.json", headers={"X-Big": "a" * 20000}
    )
    assert 400 <= answer.status < 500
    assert answer.header("X-Error-Code") == "BadRequest"
    assert b"error" in answer.body


def _stored_files(mirror) -> list:
    return [p for p in (mirror.data_dir / "blobs").rglob("*") if p.is_file()] + [
        p for p in (mirror.data_dir / "tmp").iterdir()
    ]
