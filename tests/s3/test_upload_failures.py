"""A failed upload leaves nothing behind: no object, no unfinished multipart upload."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from hubmirror.errors import IntegrityError
from hubmirror.storage.objects import ObjectStore
from tests.s3.conftest import open_store, pending_uploads, stored_keys

MiB = 1024 * 1024


def _nothing_left(admin, store_url) -> bool:
    return stored_keys(admin, store_url) == [] and pending_uploads(admin, store_url) == []


async def test_size_differing_from_the_file_is_refused_before_any_request(
    store, blob_file, s3_log, s3_admin, s3_store_url
):
    blob = blob_file(12 * MiB)
    with pytest.raises(IntegrityError, match="expected"):
        await store.upload(blob.path, blob.digest, blob.size + 1)
    assert s3_log == []
    assert _nothing_left(s3_admin, s3_store_url)


@pytest.mark.parametrize("size", [1000, 12 * MiB])
async def test_bytes_not_hashing_to_the_digest_are_never_completed(
    store, blob_file, s3_admin, s3_store_url, size
):
    blob = blob_file(size)
    with pytest.raises(IntegrityError, match="does not hash"):
        await store.upload(blob.path, "0" * 64, blob.size)
    assert _nothing_left(s3_admin, s3_store_url)


class Shrinking(ObjectStore):
    """Holds parts until four are on their way (so parts 6 and 7 are not read yet), then
    truncates the file: a later read comes up short."""

    async def _send_part(self, key, upload_id, part):
        self.in_flight += 1
        if self.in_flight == 4:
            self.path.write_bytes(b"")
            self.four_in_flight.set()
        await self.four_in_flight.wait()
        return await super()._send_part(key, upload_id, part)


async def test_file_shrinking_mid_upload_aborts_the_multipart_upload(
    s3_server, s3_store_url, s3_admin, blob_file, s3_log
):
    store = await open_store(s3_server, s3_store_url, cls=Shrinking)
    blob = blob_file(7 * 5 * MiB)
    store.path, store.in_flight, store.four_in_flight = blob.path, 0, asyncio.Event()
    try:
        with pytest.raises(IntegrityError, match="ended at"):
            await store.upload(blob.path, blob.digest, blob.size)
    finally:
        await store.close()
    assert _nothing_left(s3_admin, s3_store_url)
    assert [r.method for r in s3_log if "uploadId=" in r.query][-1] == "DELETE"  # the abort


class CorruptingPart2(ObjectStore):
    """Flips a byte of part 2 after its MD5 was taken: what a bad link or proxy would do."""

    async def _send_part(self, key, upload_id, part):
        if part.number == 2:
            flipped = bytes([part.data[0] ^ 0xFF]) + part.data[1:]
            part = dataclasses.replace(part, data=flipped)
        return await super()._send_part(key, upload_id, part)


async def test_part_changed_after_its_md5_fails_on_the_etag_and_aborts(
    s3_server, s3_store_url, s3_admin, blob_file
):
    store = await open_store(s3_server, s3_store_url, cls=CorruptingPart2)
    blob = blob_file(12 * MiB)
    try:
        with pytest.raises(IntegrityError, match="part 2") as caught:
            await store.upload(blob.path, blob.digest, blob.size)
        assert await store.size_of(blob.digest) is None
    finally:
        await store.close()
    assert "not the MD5" in caught.value.message
    assert _nothing_left(s3_admin, s3_store_url)


class Stalling(ObjectStore):
    """Part 2 never finishes: the upload is cancelled while parts are in flight."""

    async def _send_part(self, key, upload_id, part):
        if part.number == 2:
            self.stalled.set()
            await asyncio.Event().wait()
        return await super()._send_part(key, upload_id, part)


async def test_cancelled_upload_is_aborted(s3_server, s3_store_url, s3_admin, blob_file):
    store = await open_store(s3_server, s3_store_url, cls=Stalling)
    store.stalled = asyncio.Event()
    blob = blob_file(12 * MiB)
    try:
        task = asyncio.create_task(store.upload(blob.path, blob.digest, blob.size))
        await store.stalled.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        await store.close()
    assert _nothing_left(s3_admin, s3_store_url)
