"""A flaky or odd upstream must not change what clients get: the hub's exact bytes, or an error.

The fake hub is told to gzip, to cut bodies short or to fail once; each test uses a cold mirror
so the fault hits the mirror's own fill.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.clients import MODEL, TINY_BERT, curl_fetch, git_blob_sha1, run_client
from tests.support.hashing import sha256_of

pytestmark = pytest.mark.timeout(180)

DOWNLOAD = """
from huggingface_hub import hf_hub_download
emit(hf_hub_download({repo!r}, {name!r}))
"""


def download(endpoint, home, name, repo=TINY_BERT) -> Path:
    return Path(run_client(DOWNLOAD.format(repo=repo, name=name), endpoint, home))


@pytest.mark.parametrize("name", ["config.json", "tokenizer.json", "vocab.txt"])
def test_gzipped_upstream_bodies_are_served_plain_with_real_size(
    cold_endpoint, home, fakehub, name
):
    """Upstream gzip is undone: curl sees identity, the real Content-Length and git-sha1 ETag."""
    fakehub.faults.gzip = True
    data = fakehub.file_bytes(MODEL, TINY_BERT, "main", name)
    url = f"{cold_endpoint}/{TINY_BERT}/resolve/main/{name}"

    path = download(cold_endpoint, home, name)
    head = curl_fetch(url, "-H", "Accept-Encoding: gzip", method="HEAD")
    body = curl_fetch(url, "-H", "Accept-Encoding: gzip")

    assert path.read_bytes() == data
    for response in (head, body):
        assert response.headers.get("content-encoding", "identity") == "identity"
        assert int(response.headers["content-length"]) == len(data)
        assert response.headers["etag"].strip('"') == git_blob_sha1(data)
    assert body.body == data


def test_upstream_body_cut_short_never_reaches_clients_as_the_file(
    cold_endpoint, new_home, fakehub
):
    """A truncated fill is never stored or served as the file; the next try is whole."""
    big = "big/cut.bin"
    sha256 = fakehub.add_large_file(MODEL, TINY_BERT, big, 3 * 1024 * 1024, seed=11)
    fakehub.faults.drop_after = 100_000
    fakehub.faults.drop_count = 1
    code = f"""
    import hashlib
    from huggingface_hub import hf_hub_download
    try:
        path = hf_hub_download({TINY_BERT!r}, {big!r})
        emit(hashlib.sha256(open(path, "rb").read()).hexdigest())
    except Exception as exc:
        emit(type(exc).__name__)
    """

    first = run_client(code, cold_endpoint, new_home())
    assert fakehub.faults.drop_after is None, "the fake hub never cut a body: test is void"
    fakehub.reset_faults()
    second = run_client(code, cold_endpoint, new_home())

    assert first == sha256 or len(first) != 64, f"wrong bytes delivered: {first}"
    assert second == sha256


def test_one_upstream_503_is_absorbed(cold_endpoint, home, fakehub):
    """A single upstream 503 ends with the right bytes (mirror or client retries)."""
    fakehub.faults.fail_status = 503
    fakehub.faults.fail_count = 1
    fakehub.faults.retry_after = 1

    path = download(cold_endpoint, home, "model.safetensors")

    assert [e.status for e in fakehub.log].count(503) == 1
    assert sha256_of(path) == fakehub.file_sha256(MODEL, TINY_BERT, "main", "model.safetensors")
