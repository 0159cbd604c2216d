"""Xorb bytes: a blob's bytes with chunk headers put in between, read where the blob is.

The mirror's xorbs are virtual (``hub.xet``): a xorb fetch reads the blob's bytes
from its stored file, the object store, its running fill (in this process, another
worker process, or another node) and writes the chunk headers from arithmetic. Bytes
from a fill arrive as written, the last one only once verified, as for every reader.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from hubmirror.errors import HubMirrorError, IntegrityError
from hubmirror.hub import xet
from hubmirror.mirror.fills.state import Fill, open_when_readable

READ_WINDOW = 2 * 1024 * 1024  # blob bytes read per worker-thread hop for a stored blob


class BlobReads(Protocol):
    """Reads of a blob's bytes ``[start, end)``, ``window`` bytes at a time at most."""

    window: int

    async def read(self, start: int, end: int) -> bytes: ...


async def xorb_bytes(
    size: int, xorb: int, first: int, last: int, reads: BlobReads
) -> AsyncIterator[bytes]:
    """Serialized bytes ``first..last`` (inclusive) of a xorb, in pieces as they are read:
    chunk headers from arithmetic, chunk bytes from ``reads`` in windows (not per chunk),
    each header sent with the chunk after it (one write, not two)."""
    pieces = xet.xorb_pieces(size, xorb, first, last)
    blob_end = max((p[1] for p in pieces if not isinstance(p, bytes)), default=0)
    window, window_start, pending = b"", 0, b""
    for piece in pieces:
        if isinstance(piece, bytes):
            pending += piece
            continue
        start, end = piece
        if start < window_start or end > window_start + len(window):
            window_end = max(end, min(start + reads.window, blob_end))
            window, window_start = await reads.read(start, window_end), start
            if len(window) != window_end - start:
                raise IntegrityError("blob is shorter than the index says")
        yield pending + window[start - window_start : end - window_start]
        pending = b""
    if pending:
        yield pending


class FileReads:
    """Reads of a stored blob file in a worker thread: a disk read never stalls the loop."""

    window = READ_WINDOW

    def __init__(self, path) -> None:
        self.fd = os.open(path, os.O_RDONLY)  # FileNotFoundError: the blob file is gone

    async def read(self, start: int, end: int) -> bytes:
        return await asyncio.to_thread(os.pread, self.fd, end - start, start)

    def close(self) -> None:
        os.close(self.fd)


class FillReads:
    """Reads of a blob still being filled: each waits for its bytes to be written (the
    last byte for verification); a failed fill raises, and the caller aborts. Read a chunk
    at a time, so each is sent as soon as it is written."""

    window = xet.CHUNK

    def __init__(self, fill: Fill, fd: int) -> None:
        self.fill, self.fd = fill, fd

    @classmethod
    async def open(cls, fill: Fill) -> FillReads:
        """Reads of ``fill``; one run by another worker process may need a poll to open."""
        return cls(fill, await open_when_readable(fill))

    async def read(self, start: int, end: int) -> bytes:
        fill = self.fill
        while fill.readable_end(start) < end:
            if fill.error is not None:
                break
            await fill.wait_beyond(fill.readable_end(start))
        if fill.error is not None:
            error = fill.error
            if isinstance(error, HubMirrorError):
                raise error
            raise IntegrityError(f"the fill of this blob failed: {error}")
        return os.pread(self.fd, end - start, start)  # just written: in the page cache

    def close(self) -> None:
        os.close(self.fd)


class StoreReads:
    """Reads of a blob from the object store, for a node that does not keep it on disk."""

    window = READ_WINDOW

    def __init__(self, objects, sha256: str) -> None:
        self.objects, self.sha256 = objects, sha256

    async def read(self, start: int, end: int) -> bytes:
        async with self.objects.open_range(self.sha256, start, end - 1) as body:
            return b"".join([chunk async for chunk in body.iter_chunks(READ_WINDOW)])

    def close(self) -> None:
        pass


class PeerReads:
    """Reads of another node's running fill (a cold file whose fill runs there): its
    ``/_node/fills`` route sends each range as the bytes arrive, the last one verified."""

    window = READ_WINDOW

    def __init__(self, peers, address: str, key: str) -> None:
        self.peers, self.address, self.key = peers, address, key

    async def read(self, start: int, end: int) -> bytes:
        async with self.peers.open_fill(self.address, self.key, start, end - 1) as resp:
            return await resp.read()

    def close(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class XorbSource:
    """Where a blob's bytes come from for a xorb fetch: its size, and the reads."""

    key: str  # what ``Mirror.reading`` marks while the bytes are sent
    size: int
    reads: FileReads | FillReads | StoreReads | PeerReads

    @property
    def stored(self) -> bool:
        """Sent from stored bytes (a HIT), not from a fill still fetching them (a MISS)."""
        return isinstance(self.reads, FileReads | StoreReads)


async def xorb_source(mirror, sha256: str) -> XorbSource | None:
    """The blob's running fill, else its stored file or object, else a fill of it that
    another worker process or node runs (a cold file's Xet client may ask any of them).

    ``None`` when the mirror has none of them (the blob was evicted or lost): the
    client's retry then re-asks the reconstruction, which no longer finds it.
    """
    blob = mirror.index.blob_by_id(sha256)
    running = mirror.fills.running
    keys = (sha256, f"git-{blob.git_sha1}") if blob else (sha256,)
    fill = next((running[k] for k in keys if k in running), None)
    if fill is None and blob is None:
        fill = mirror.fills.follow_local(sha256)
    if fill is not None:
        return XorbSource(fill.key, fill.size, await FillReads.open(fill))
    if blob is None:
        return _peer_source(mirror, sha256)
    mirror.touch(blob)  # a read, for LRU eviction
    if not mirror.streams_from_store:
        try:
            return XorbSource(sha256, blob.size, FileReads(mirror.store.path_for(sha256)))
        except FileNotFoundError:
            pass
    if mirror.shared is not None:
        return XorbSource(sha256, blob.size, StoreReads(mirror.shared.objects, sha256))
    return None


def _peer_source(mirror, sha256: str) -> XorbSource | None:
    """The node whose lease says it fills ``sha256``, for a blob announced to Xet clients."""
    shared = mirror.shared
    cluster = shared.cluster if shared is not None else None
    pending = mirror.index.xet.announced_for(sha256) if cluster is not None else None
    holder = cluster.holder(sha256) if pending is not None else None
    if holder is None or holder.node == cluster.node:
        return None
    return XorbSource(sha256, pending.size, PeerReads(cluster.peers, holder.address, sha256))
