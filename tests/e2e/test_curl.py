"""Plain HTTP tools (curl, wget, aria2c in hfd.sh) against the mirror's /resolve/ URLs.

They see exactly what the mirror sends: the body must be the file's bytes, inline, never
compressed, with the Hub's metadata headers, honouring Range, and without any upstream
`Location` that would send the user around the mirror. With Xet stripped (``xet_serve=False``,
`strip_endpoint`) they also see no Xet signal at all.
"""

from __future__ import annotations

import pytest

from tests.support.clients import MODEL, TINY_BERT, curl, curl_fetch, git_blob_sha1

pytestmark = pytest.mark.timeout(60)

FILES = ["config.json", "model.safetensors"]


def resolve_url(endpoint, name, revision="main"):
    return f"{endpoint}/{TINY_BERT}/resolve/{revision}/{name}"


def assert_no_escape_hatch(headers: dict[str, str], names: set[str]) -> None:
    """No redirect elsewhere, no Xet, no compression."""
    assert "location" not in names
    assert not [n for n in names if n.startswith("x-xet-")], names
    assert "xet" not in headers.get("link", "").lower()
    assert headers.get("content-encoding", "identity") == "identity"


@pytest.mark.parametrize("name", FILES)
def test_curl_get_resolve_returns_the_file_bytes(endpoint, fakehub, name):
    """`curl -sf URL` (no -L) gets the bytes straight from the mirror."""
    body = curl(["-f", resolve_url(endpoint, name)]).stdout

    assert body == fakehub.file_bytes(MODEL, TINY_BERT, "main", name)


@pytest.mark.parametrize("name", FILES)
def test_curl_head_resolve_has_hub_metadata_headers(strip_endpoint, fakehub, name):
    """HEAD carries X-Repo-Commit, ETag, real size, Accept-Ranges and the cache status."""
    data = fakehub.file_bytes(MODEL, TINY_BERT, "main", name)
    response = curl_fetch(resolve_url(strip_endpoint, name), method="HEAD")

    headers = response.headers
    assert response.status == 200
    assert headers["x-repo-commit"] == fakehub.commit_of(MODEL, TINY_BERT, "main")
    etag = headers.get("x-linked-etag") or headers["etag"]
    expected_etag = (
        fakehub.file_sha256(MODEL, TINY_BERT, "main", name)
        if name == "model.safetensors"
        else git_blob_sha1(data)
    )
    assert etag.removeprefix("W/").strip('"') == expected_etag
    assert "etag" in headers
    assert int(headers["content-length"]) == len(data)
    assert headers["accept-ranges"] == "bytes"
    assert headers.get("x-cache-status")
    assert_no_escape_hatch(headers, response.header_names())


@pytest.mark.parametrize("name", FILES)
def test_curl_get_with_gzip_accepted_is_still_identity(strip_endpoint, fakehub, name):
    """Even when the client offers gzip, /resolve/ bodies go out uncompressed and whole."""
    response = curl_fetch(resolve_url(strip_endpoint, name), "-H", "Accept-Encoding: gzip, deflate")

    assert response.status == 200
    assert response.body == fakehub.file_bytes(MODEL, TINY_BERT, "main", name)
    assert int(response.headers["content-length"]) == len(response.body)
    assert_no_escape_hatch(response.headers, response.header_names())


@pytest.mark.parametrize("name", FILES)
def test_curl_range_returns_exactly_those_bytes(strip_endpoint, fakehub, name):
    """`-r 10-19` gives 206 with the ten bytes at offset 10 and a full Content-Range."""
    data = fakehub.file_bytes(MODEL, TINY_BERT, "main", name)
    response = curl_fetch(resolve_url(strip_endpoint, name), "-r", "10-19")

    assert response.status == 206
    assert response.body == data[10:20]
    assert response.headers["content-range"] == f"bytes 10-19/{len(data)}"
    assert response.headers["content-length"] == "10"
    assert_no_escape_hatch(response.headers, response.header_names())


@pytest.mark.parametrize("name", FILES)
def test_curl_suffix_range_returns_the_tail(endpoint, fakehub, name):
    """`Range: bytes=-8` (what a parquet footer read does) gives the last 8 bytes."""
    data = fakehub.file_bytes(MODEL, TINY_BERT, "main", name)
    response = curl_fetch(resolve_url(endpoint, name), "-H", "Range: bytes=-8")

    assert response.status == 206
    assert response.body == data[-8:]
    assert response.headers["content-range"] == f"bytes {len(data) - 8}-{len(data) - 1}/{len(data)}"


@pytest.mark.parametrize("name", FILES)
def test_curl_range_past_end_is_416(endpoint, fakehub, name):
    """A range that starts past the end is 416, never the whole file."""
    size = len(fakehub.file_bytes(MODEL, TINY_BERT, "main", name))
    response = curl_fetch(resolve_url(endpoint, name), "-r", f"{size + 10}-{size + 20}")

    assert response.status == 416


def test_curl_resolve_at_pr_ref_spread_over_segments_works(endpoint, fakehub):
    """Other tools send refs/pr/1 unencoded, over three path segments; accept that too."""
    expected = fakehub.file_bytes(MODEL, TINY_BERT, "refs/pr/1", "pr-only.txt")

    encoded = curl(["-f", resolve_url(endpoint, "pr-only.txt", "refs%2Fpr%2F1")]).stdout
    spread = curl(["-f", resolve_url(endpoint, "pr-only.txt", "refs/pr/1")]).stdout

    assert encoded == spread == expected


def test_curl_missing_file_is_404_entry_not_found_with_commit(endpoint, fakehub):
    """A missing file is 404 EntryNotFound with X-Repo-Commit, so clients cache the miss."""
    response = curl_fetch(resolve_url(endpoint, "missing.json"), method="HEAD")

    assert response.status == 404
    assert response.headers["x-error-code"] == "EntryNotFound"
    assert response.headers["x-repo-commit"] == fakehub.commit_of(MODEL, TINY_BERT, "main")
