"""The bridge from hf_xet's blocking streams to the event loop (upstream/xetfetch.py)."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import pytest

from hubmirror.types import RepoId, RepoType
from hubmirror.upstream.client import HubClient, create_session
from hubmirror.upstream.xetfetch import QUEUE_CHUNKS, XetFetchError, _Pump
from tests.fakehub import TINY_BERT

pytestmark = pytest.mark.timeout(30)


async def _drain(pump: _Pump, opener, limit: int | None = None) -> list[bytes]:
    asyncio.get_running_loop().run_in_executor(None, pump.run, opener)
    got: list[bytes] = []
    async with contextlib.aclosing(pump.chunks()) as chunks:
        async for chunk in chunks:
            got.append(chunk)
            if limit is not None and len(got) == limit:
                break
    pump.stop()
    return got


def test_chunks_arrive_in_order_and_a_stream_error_becomes_a_xet_fetch_error():
    def failing():
        yield b"a"
        yield b"b"
        raise RuntimeError("Task error: CAS Client Error: 404")

    async def main():
        pump = _Pump(asyncio.get_running_loop())
        asyncio.get_running_loop().run_in_executor(None, pump.run, failing)
        got = []
        with pytest.raises(XetFetchError, match="404"):
            async for chunk in pump.chunks():
                got.append(chunk)
        return got

    assert asyncio.run(main()) == [b"a", b"b"]


def test_a_reader_that_stops_ends_the_worker_within_the_queue_bound():
    produced = []
    ended = threading.Event()

    def endless():
        try:
            while True:
                produced.append(1)
                yield b"x" * 10
        finally:
            ended.set()

    async def main():
        return await _drain(_Pump(asyncio.get_running_loop()), endless, limit=2)

    assert asyncio.run(main()) == [b"x" * 10] * 2
    assert ended.wait(10)
    assert len(produced) <= 2 + QUEUE_CHUNKS + 1


def test_the_upstream_head_names_the_xet_hash_of_an_lfs_file(fakehub):
    fakehub.xet_files = True
    expected = fakehub.xet_hash_of(fakehub.blob("model", TINY_BERT, "main", "model.safetensors"))

    async def main():
        async with create_session(5.0) as session:
            client = HubClient(session, fakehub.url)
            repo = RepoId(RepoType.MODEL, TINY_BERT)
            meta = await client.file_metadata(repo, "main", "model.safetensors", None)
            config = await client.file_metadata(repo, "main", "config.json", None)
            source = await client.file_source(repo, meta.commit, "model.safetensors", None)
            return meta.xet_hash, config.xet_hash, source.xet_hash

    assert asyncio.run(main()) == (expected, None, expected)
