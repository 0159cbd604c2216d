"""Xorb bytes from a blob still being filled: as they are written, the last only once verified."""

from __future__ import annotations

import asyncio

import pytest

from hubmirror.errors import IntegrityError, UpstreamUnavailable
from hubmirror.hub import xet
from hubmirror.index.queries import StoredBlob
from hubmirror.mirror.fills.state import Fill, FillPlan, FillSource
from hubmirror.mirror.xet import xorbs
from hubmirror.storage.blobs import FillPaths
from hubmirror.types import FileEntry, RepoId, RepoType

SIZE = 3 * xet.CHUNK + 10
DATA = bytes(range(256)) * (SIZE // 256) + bytes(SIZE % 256)


def _fill(tmp_path) -> Fill:
    entry = FileEntry("w.bin", SIZE, "ab" * 32, True, "ab" * 32)
    source = FillSource(RepoId(RepoType.MODEL, "acme/bert"), "c" * 40, entry, None)
    paths = FillPaths(tmp_path / "part", tmp_path / "lock", tmp_path / "progress")
    paths.part.write_bytes(bytes(SIZE))
    return Fill(entry.sha256, source, paths, FillPlan(segments=1, segment_min=1))


def _write(fill: Fill, upto: int) -> None:
    with open(fill.temp, "r+b") as out:
        out.seek(fill.segments[0].position)
        out.write(DATA[fill.segments[0].position : upto])
    fill.segments[0].position = upto
    fill.advance()


async def _xorb(fill: Fill, received: list[bytes]) -> bytes:
    reads = await xorbs.FillReads.open(fill)
    try:
        length = xet.xorb_length(SIZE, 0)
        async for piece in xorbs.xorb_bytes(SIZE, 0, 0, length - 1, reads):
            received.append(piece)
        return b"".join(received)
    finally:
        reads.close()


async def _pending(task: asyncio.Task) -> bool:
    for _ in range(5):
        await asyncio.sleep(0)
    return not task.done()


def test_a_xorb_is_sent_from_a_fill_as_its_bytes_arrive_and_verified_last(tmp_path):
    received: list[bytes] = []

    async def run():
        fill = _fill(tmp_path)
        task = asyncio.ensure_future(_xorb(fill, received))
        assert await _pending(task)
        assert received == []
        _write(fill, 2 * xet.CHUNK + 5)
        assert await _pending(task)
        assert len(received) == 2  # the chunks written so far went out
        _write(fill, SIZE)  # every byte written, the last held back until verified
        assert await _pending(task)
        assert len(received) == 3
        fill.finish(StoredBlob("ab" * 32, "cd" * 20, SIZE), fill.temp)
        return await task

    records = asyncio.run(run())
    assert records == b"".join(
        xet.header(len(DATA[i : i + xet.CHUNK])) + DATA[i : i + xet.CHUNK]
        for i in range(0, SIZE, xet.CHUNK)
    )


@pytest.mark.parametrize(
    ("error", "raised"),
    [(UpstreamUnavailable("gone"), UpstreamUnavailable), (OSError("disk"), IntegrityError)],
)
def test_a_fill_that_fails_ends_the_xorb_with_an_error(tmp_path, error, raised):
    async def run():
        fill = _fill(tmp_path)
        task = asyncio.ensure_future(_xorb(fill, []))
        _write(fill, xet.CHUNK)
        assert await _pending(task)
        fill.fail(error)
        return await task

    with pytest.raises(raised):
        asyncio.run(run())
