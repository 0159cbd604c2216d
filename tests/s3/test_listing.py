"""list_blobs walks every page of the listing and yields only blobs of this store."""

from __future__ import annotations

import hashlib

from tests.s3.conftest import bucket_of


def _digest(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


def _put(admin, store_url, key, size):
    admin.put_object(Bucket=bucket_of(store_url), Key=key, Body=b"x" * size)


async def test_list_blobs_pages_through_every_blob(store, s3_admin, s3_store_url, s3_log):
    expected = {_digest(n): n for n in range(23)}
    for digest, size in expected.items():
        _put(s3_admin, s3_store_url, store.key_for(digest), size)
    s3_log.clear()
    listed = [item async for item in store.list_blobs(page_size=5)]
    assert dict(listed) == expected and len(listed) == 23
    assert sum(r.method == "GET" and "list-type=2" in r.query for r in s3_log) == 5


async def test_list_blobs_skips_keys_that_are_not_blobs_of_this_store(
    store, s3_admin, s3_store_url
):
    d = _digest(1)
    _put(s3_admin, s3_store_url, store.key_for(d), 3)
    for foreign in (
        f"other/blobs/sha256/{d[:2]}/{d[2:4]}/{d}",  # another prefix
        f"mirror/blobs/sha256/{d[:2]}/{d[2:4]}/{d}.part",
        f"mirror/blobs/sha256/00/00/{d}",  # not where this digest lives
        "mirror/blobs/sha256/README",
    ):
        _put(s3_admin, s3_store_url, foreign, 1)
    assert [item async for item in store.list_blobs()] == [(d, 3)]


async def test_an_empty_store_lists_nothing(store):
    assert [item async for item in store.list_blobs()] == []
