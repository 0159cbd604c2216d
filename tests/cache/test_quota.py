"""The automatic quota: least recently used blobs go, never one being read."""

from __future__ import annotations

import asyncio
import hashlib
import socket

import aiohttp
import pytest

from tests.cache.support import indexed_blobs, stored_files
from tests.support.waiting import wait_for

MODEL = "acme/tiny-bert"
MiB = 1024 * 1024
SIZE = 24 * MiB  # larger than the socket buffers: a paused reader keeps its send open
QUOTA = 60 * MiB  # two of them fit; a third pushes the store over


async def _download(session, url: str) -> bytes:
    async with session.get(url) as resp:
        assert resp.status == 200
        return await resp.read()


async def _paused_read(session, url: str, started: asyncio.Event, go_on: asyncio.Event) -> bytes:
    """Read the first MiB, then nothing until ``go_on``: the server is mid-send meanwhile."""
    async with session.get(url) as resp:
        head = await resp.content.readexactly(MiB)
        started.set()
        await go_on.wait()
        return head + await resp.read()


def _small_receive_buffer(addr_info) -> socket.socket:
    """A client socket whose receive buffer cannot grow: loopback autotuning may grow it to
    tcp_rmem's maximum (32 MiB here), enough to take a whole paused download, which would
    then no longer be "being read" on the server."""
    family, kind, proto, _, _ = addr_info
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 * 1024)
    return sock


def _settled(server, evictions: int) -> None:
    """Wait until the mirror evicted ``evictions`` times in all and no eviction runs."""

    def settled() -> bool:
        idle, count = server.call(lambda m: (m.quota.idle, m.evictions.count), server.mirror)
        return idle and count >= evictions

    wait_for(settled, f"{evictions} evictions, then none running", timeout=30)


@pytest.mark.timeout(120)
async def test_quota_evicts_lru_blobs_but_never_one_being_read(make_mirror, fakehub):
    shas = {
        name: fakehub.add_large_file("model", MODEL, f"{name}.bin", SIZE, seed=20 + i)
        for i, name in enumerate("abc")
    }
    server = make_mirror(max_size=QUOTA)
    url = {name: f"{server.url}/{MODEL}/resolve/main/{name}.bin" for name in shas}
    connector = aiohttp.TCPConnector(socket_factory=_small_receive_buffer)
    async with aiohttp.ClientSession(connector=connector) as session:
        assert hashlib.sha256(await _download(session, url["a"])).hexdigest() == shas["a"]
        go_on = asyncio.Event()
        started = [asyncio.Event() for _ in range(4)]
        readers = [
            asyncio.ensure_future(_paused_read(session, url["a"], s, go_on)) for s in started
        ]
        await asyncio.gather(*(s.wait() for s in started))
        for name in "bc":  # the third blob pushes the store over the quota
            assert hashlib.sha256(await _download(session, url[name])).hexdigest() == shas[name]
        await asyncio.to_thread(_settled, server, 1)

        data = server.data_dir
        assert shas["a"] in stored_files(data) and shas["a"] in indexed_blobs(data)  # being read
        assert shas["b"] not in stored_files(data)  # the least recently used of the others
        assert server.call(lambda m: m.in_use.readers[shas["a"]], server.mirror) == 4
        go_on.set()
        bodies = await asyncio.gather(*readers)
        assert all(hashlib.sha256(body).hexdigest() == shas["a"] for body in bodies)
        assert sum(stored_files(data).values()) <= QUOTA

        fakehub.clear_log()  # b again: refetched, and now a (read long ago, no readers) goes
        assert hashlib.sha256(await _download(session, url["b"])).hexdigest() == shas["b"]
        assert fakehub.body_bytes(host="cdn") >= SIZE
        await asyncio.to_thread(_settled, server, 2)

    assert set(stored_files(data)) == indexed_blobs(data) == {shas["b"], shas["c"]}
    assert sum(stored_files(data).values()) <= QUOTA
    evicted = server.call(lambda m: (m.evictions.count, m.evictions.bytes), server.mirror)
    assert evicted == (2, 2 * SIZE)
