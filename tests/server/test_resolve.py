"""The /resolve/ route over real HTTP: headers, bodies, ranges, cache state, errors."""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from tests.support.http import get, head

MODEL = "acme/tiny-bert"


def url(mirror, path: str, revision: str = "main", repo: str = MODEL) -> str:
    return f"{mirror.url}/{repo}/resolve/{revision}/{path}"


def test_regular_file_is_served_inline_with_hub_metadata(mirror, fakehub):
    answer = get(url(mirror, "config.json"))
    assert answer.status == 200
    assert answer.body == fakehub.file_bytes("model", MODEL, "main", "config.json")
    assert answer.header("X-Repo-Commit") == fakehub.commit_of("model", MODEL, "main")
    data = answer.body
    git_sha1 = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    assert answer.header("ETag") == f'"{git_sha1}"'
    assert answer.header("Content-Length") == str(len(data))
    assert answer.header("Accept-Ranges") == "bytes"
    assert answer.header("X-Cache-Status") == "MISS"
    assert answer.header("Location") is None


def test_second_get_is_a_hit_without_upstream_body(mirror, fakehub):
    get(url(mirror, "model.safetensors"))
    fakehub.clear_log()
    answer = get(url(mirror, "model.safetensors"))
    assert answer.header("X-Cache-Status") == "HIT"
    assert hashlib.sha256(answer.body).hexdigest() == fakehub.file_sha256(
        "model", MODEL, "main", "model.safetensors"
    )
    assert fakehub.body_bytes() == 0


def test_lfs_file_is_served_inline_without_xet_or_cdn_headers(make_mirror, fakehub):
    mirror = make_mirror(xet_serve=False)
    answer = get(url(mirror, "model.safetensors"))
    sha256 = fakehub.file_sha256("model", MODEL, "main", "model.safetensors")
    assert answer.status == 200
    assert hashlib.sha256(answer.body).hexdigest() == sha256
    assert answer.header("X-Linked-Etag") == f'"{sha256}"'
    assert answer.header("X-Linked-Size") == str(len(answer.body))
    assert answer.header("Location") is None
    assert not [k for k in answer.headers if k.lower().startswith("x-xet")]
    assert "xet" not in (answer.header("Link") or "")
    assert answer.header("Content-Encoding") is None


def test_head_answers_from_metadata_without_fetching_the_body(mirror, fakehub):
    answer = head(url(mirror, "model.safetensors"))
    assert answer.status == 200
    assert answer.header("X-Cache-Status") == "MISS"
    assert int(answer.header("Content-Length")) > 0
    assert fakehub.body_bytes(host="cdn") == 0


@pytest.mark.parametrize(
    ("revision", "path"),
    [("v1.0", "config.json"), ("refs%2Fpr%2F1", "pr-only.txt"), ("refs/pr/1", "pr-only.txt")],
)
def test_tags_and_pr_refs_resolve_to_their_commit(mirror, fakehub, revision, path):
    answer = get(url(mirror, path, revision))
    plain = revision.replace("%2F", "/")
    assert answer.status == 200
    assert answer.body == fakehub.file_bytes("model", MODEL, plain, path)
    assert answer.header("X-Repo-Commit") == fakehub.commit_of("model", MODEL, plain)


def test_commit_sha_revision_is_served(mirror, fakehub):
    sha = fakehub.commit_of("model", MODEL, "v1.0")
    answer = get(url(mirror, "config.json", sha))
    assert answer.body == fakehub.file_bytes("model", MODEL, sha, "config.json")
    assert answer.header("X-Repo-Commit") == sha


def test_missing_file_is_entry_not_found_with_commit(mirror, fakehub):
    answer = head(url(mirror, "nope.json"))
    assert answer.status == 404
    assert answer.header("X-Error-Code") == "EntryNotFound"
    assert answer.header("X-Repo-Commit") == fakehub.commit_of("model", MODEL, "main")


def test_unknown_revision_and_repo_keep_their_error_codes(mirror):
    assert head(url(mirror, "config.json", "v9")).header("X-Error-Code") == "RevisionNotFound"
    answer = head(url(mirror, "config.json", repo="acme/nope"))
    assert (answer.status, answer.header("X-Error-Code")) == (401, "RepoNotFound")


@pytest.mark.parametrize(
    ("header", "span"), [("bytes=10-19", (10, 19)), ("bytes=-8", None), ("bytes=5-", None)]
)
def test_range_on_cached_and_uncached_file_is_exact(mirror, fakehub, header, span):
    data = fakehub.file_bytes("model", MODEL, "main", "model.safetensors")
    for _ in range(2):  # first uncached (from the fill), then cached
        answer = get(url(mirror, "model.safetensors"), headers={"Range": header})
        first, last = span or _span(header, len(data))
        assert answer.status == 206
        assert answer.body == data[first : last + 1]
        assert answer.header("Content-Range") == f"bytes {first}-{last}/{len(data)}"


def _span(header: str, size: int) -> tuple[int, int]:
    first, last = header[6:].split("-")
    if not first:
        return size - int(last), size - 1
    return int(first), size - 1


def test_range_past_end_is_416(mirror):
    answer = get(url(mirror, "config.json"), headers={"Range": "bytes=999999-"})
    assert answer.status == 416
    assert answer.header("X-Error-Code") == "RangeNotSatisfiable"
    size = len(get(url(mirror, "config.json")).body)
    assert answer.header("Content-Range") == f"bytes */{size}"


def test_gzip_from_upstream_is_never_passed_on(mirror, fakehub):
    fakehub.faults.gzip = True
    answer = get(url(mirror, "config.json"), headers={"Accept-Encoding": "gzip"})
    assert answer.header("Content-Encoding") is None
    assert answer.body == fakehub.file_bytes("model", MODEL, "main", "config.json")


def _evict(path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def test_blob_evicted_from_page_cache_is_served_whole_and_by_range(mirror, fakehub):
    size = 6 * 1024 * 1024 + 123
    sha256 = fakehub.add_large_file("model", MODEL, "evict.bin", size, seed=9)
    target = url(mirror, "evict.bin")
    data = get(target).body
    assert hashlib.sha256(data).hexdigest() == sha256
    blob = next((mirror.data_dir / "blobs").rglob(sha256))
    _evict(blob)
    answer = get(target)
    assert answer.header("X-Cache-Status") == "HIT"
    assert hashlib.sha256(answer.body).hexdigest() == sha256
    _evict(blob)
    ranged = get(target, headers={"Range": "bytes=3000000-5000000"})
    assert ranged.body == data[3000000:5000001]


def test_file_missing_at_a_branch_is_asked_again_after_the_ttl(make_mirror, fakehub):
    server = make_mirror(metadata_ttl=0.5)
    target = url(server, "late.txt")
    old_commit = fakehub.commit_of("model", MODEL, "main")
    missing = head(target)
    assert (missing.status, missing.header("X-Repo-Commit")) == (404, old_commit)
    new_commit = fakehub.move_branch("model", MODEL, "main", {"late.txt": b"here now\n"})
    assert head(target).status == 404  # within the TTL: the answer upstream gave
    time.sleep(0.6)
    found = get(target)
    assert (found.status, found.body) == (200, b"here now\n")
    assert found.header("X-Repo-Commit") == new_commit
    gone = head(url(server, "late.txt", old_commit))
    assert gone.status == 404  # still missing at the old commit, for ever


@pytest.mark.parametrize("size", [1000, 2 * 1024 * 1024 + 7], ids=["from-memory", "from-disk"])
def test_stored_blob_deleted_behind_the_mirrors_back_is_fetched_again(mirror, fakehub, size):
    name = f"deleted-{size}.bin"
    sha256 = fakehub.add_large_file("model", MODEL, name, size, seed=size % 251)
    target = url(mirror, name)
    data = get(target).body
    assert hashlib.sha256(data).hexdigest() == sha256
    next((mirror.data_dir / "blobs").rglob(sha256)).unlink()  # before its first HIT read
    fakehub.clear_log()
    answer = get(target, headers={"Range": "bytes=10-"})
    assert (answer.status, answer.body) == (206, data[10:])
    assert hashlib.sha256(get(target).body).hexdigest() == sha256
    assert fakehub.body_bytes() == size  # fetched once more, then stored again
    assert next((mirror.data_dir / "blobs").rglob(sha256)).stat().st_size == size
