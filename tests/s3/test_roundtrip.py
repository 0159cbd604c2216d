"""Blobs go up whole and verified, come back byte for byte, and go away on delete."""

from __future__ import annotations

import asyncio
import hashlib

from hubmirror.storage.objects import ObjectStore
from tests.s3.conftest import bucket_of, open_store, pending_uploads, stored_keys

MiB = 1024 * 1024


async def _read(store, digest: str) -> bytes:
    async with store.open_range(digest) as body:
        return b"".join([chunk async for chunk in body.iter_chunks()])


async def test_small_file_goes_up_in_one_put_and_reads_back(store, blob_file, s3_log):
    blob = blob_file(300 * 1024)
    await store.upload(blob.path, blob.digest, blob.size)
    data = await _read(store, blob.digest)
    assert data == blob.data and hashlib.sha256(data).hexdigest() == blob.digest
    puts = [r for r in s3_log if r.method == "PUT"]
    path = f"/{store.location.bucket}/{store.key_for(blob.digest)}"
    assert [(r.path, r.query) for r in puts] == [(path, "")]
    assert puts[0].content_md5


async def test_multipart_file_goes_up_in_parts_and_reads_back(store, blob_file, s3_log):
    blob = blob_file(12 * MiB + 123)
    await store.upload(blob.path, blob.digest, blob.size)
    data = await _read(store, blob.digest)
    assert data == blob.data and hashlib.sha256(data).hexdigest() == blob.digest
    part_puts = [r for r in s3_log if r.method == "PUT" and "partNumber=" in r.query]
    assert len(part_puts) == 3  # 5 MiB + 5 MiB + the rest
    assert all(r.content_md5 for r in part_puts)
    assert [r.query for r in s3_log if r.method == "POST"][0] == "uploads"


async def test_empty_file_round_trips(store, blob_file):
    blob = blob_file(0)
    await store.upload(blob.path, blob.digest, 0)
    assert await store.size_of(blob.digest) == 0
    assert await _read(store, blob.digest) == b""


async def test_key_is_the_local_layout_below_the_prefix(store, blob_file, s3_admin, s3_store_url):
    blob = blob_file(10)
    await store.upload(blob.path, blob.digest, blob.size)
    d = blob.digest
    assert stored_keys(s3_admin, s3_store_url) == [f"mirror/blobs/sha256/{d[:2]}/{d[2:4]}/{d}"]


async def test_stored_object_carries_its_sha256(store, blob_file, s3_admin, s3_store_url):
    blob = blob_file(6 * MiB)
    await store.upload(blob.path, blob.digest, blob.size)
    head = s3_admin.head_object(Bucket=bucket_of(s3_store_url), Key=store.key_for(blob.digest))
    assert head["Metadata"] == {"sha256": blob.digest}
    assert head["ContentLength"] == blob.size


async def test_reupload_of_a_stored_blob_sends_no_bytes(store, blob_file, s3_log):
    blob = blob_file(6 * MiB)
    await store.upload(blob.path, blob.digest, blob.size)
    s3_log.clear()
    await store.upload(blob.path, blob.digest, blob.size)
    assert [r.method for r in s3_log] == ["HEAD"]


async def test_four_parts_travel_at_once_and_no_more(s3_server, s3_store_url, blob_file):
    class Counting(ObjectStore):
        """Holds every part until four are on their way: a fifth would raise the peak."""

        now = peak = 0
        four_in_flight = asyncio.Event()

        async def _send_part(self, key, upload_id, part):
            Counting.now += 1
            Counting.peak = max(Counting.peak, Counting.now)
            if Counting.now == 4:
                Counting.four_in_flight.set()
            await Counting.four_in_flight.wait()
            try:
                return await super()._send_part(key, upload_id, part)
            finally:
                Counting.now -= 1

    store = await open_store(s3_server, s3_store_url, cls=Counting)
    blob = blob_file(7 * 5 * MiB)
    try:
        await store.upload(blob.path, blob.digest, blob.size)
        assert await store.size_of(blob.digest) == blob.size
    finally:
        await store.close()
    assert Counting.peak == 4


async def test_delete_removes_the_object(store, blob_file, s3_admin, s3_store_url):
    blob = blob_file(1000)
    await store.upload(blob.path, blob.digest, blob.size)
    await store.delete(blob.digest)
    assert await store.size_of(blob.digest) is None
    assert stored_keys(s3_admin, s3_store_url) == []
    await store.delete(blob.digest)  # already gone: still fine
    assert pending_uploads(s3_admin, s3_store_url) == []


async def test_size_of_an_absent_blob_is_none(store):
    assert await store.size_of("0" * 64) is None
