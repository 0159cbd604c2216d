"""Ranged reads: HTTP's inclusive ranges, the whole object's size, clear errors."""

from __future__ import annotations

import pytest

from hubmirror.errors import BlobMissing, RangeNotSatisfiable

SIZE = 1_000_000


@pytest.fixture
async def stored(store, blob_file):
    blob = blob_file(SIZE)
    await store.upload(blob.path, blob.digest, blob.size)
    return blob


async def _read(store, digest, start=0, end=None, chunk_size=256 * 1024):
    async with store.open_range(digest, start, end) as body:
        chunks = [chunk async for chunk in body.iter_chunks(chunk_size)]
        return body, chunks


async def test_start_and_end_are_inclusive(store, stored):
    body, chunks = await _read(store, stored.digest, 1000, 1999)
    assert b"".join(chunks) == stored.data[1000:2000]
    assert (body.size, body.start, body.length) == (SIZE, 1000, 1000)


async def test_open_ended_range_reads_to_the_end(store, stored):
    body, chunks = await _read(store, stored.digest, 999_000)
    assert b"".join(chunks) == stored.data[999_000:]
    assert (body.size, body.start, body.length) == (SIZE, 999_000, 1000)


async def test_whole_object_without_a_range(store, stored):
    body, chunks = await _read(store, stored.digest)
    assert b"".join(chunks) == stored.data
    assert (body.size, body.start, body.length) == (SIZE, 0, SIZE)


async def test_end_past_the_size_stops_at_the_last_byte(store, stored):
    body, chunks = await _read(store, stored.digest, SIZE - 10, SIZE + 500)
    assert b"".join(chunks) == stored.data[-10:]
    assert body.length == 10


async def test_chunks_are_at_most_the_size_asked(store, stored):
    _, chunks = await _read(store, stored.digest, chunk_size=64 * 1024)
    assert b"".join(chunks) == stored.data
    assert max(map(len, chunks)) <= 64 * 1024


async def test_start_past_the_end_is_not_satisfiable_and_says_the_size(store, stored):
    with pytest.raises(RangeNotSatisfiable) as caught:
        await _read(store, stored.digest, SIZE)
    assert caught.value.size == SIZE


async def test_missing_blob_is_blob_missing(store):
    with pytest.raises(BlobMissing) as caught:
        await _read(store, "ab" * 32, 10, 20)
    assert caught.value.digest == "ab" * 32


async def test_missing_blob_whole_read_is_blob_missing(store):
    with pytest.raises(BlobMissing):
        await _read(store, "cd" * 32)


async def test_a_range_read_left_early_frees_its_connection(store, stored):
    for _ in range(80):  # more than the pool's 64 connections
        async with store.open_range(stored.digest) as body:
            async for _chunk in body.iter_chunks(1024):
                break
    _, chunks = await _read(store, stored.digest, 5, 9)
    assert b"".join(chunks) == stored.data[5:10]


async def test_a_backwards_range_is_refused_before_any_request(store, s3_log):
    with pytest.raises(ValueError):
        async with store.open_range("ab" * 32, 10, 5):
            pass
    assert s3_log == []
