"""Xorb bytes: a blob's bytes with chunk headers put in between, read where the blob is.

The mirror's xorbs are virtual (``hub.xet``): a xorb fetch reads the blob's bytes
from its stored file, the object store, its running fill (in this process, another
worker process, or another node) and writes the chunk headers from arithmetic. Bytes
from a fill arrive as written, the last one only once verified, as for every reader.
``XorbSources`` picks where, from collaborators passed in; ``xorb_bytes`` is arithmetic.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from hubmirror.errors import HubMirrorError, IntegrityError
from hubmirror.hub import xet
from hubmirror.index.leases import Lease
from hubmirror.index.records import StoredBlob
from hubmirror.index.xet import Announced
from hubmirror.mirror.fills.state import Fill, open_when_readable
from hubmirror.upstream.peers import PeerClient

if TYPE_CHECKING:  # botocore loads only with an object store
    from hubmirror.storage.objectrange import ObjectRange

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

    def __init__(self, objects: ObjectRanges, sha256: str) -> None:
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

    def __init__(self, peers: PeerClient, address: str, key: str) -> None:
        self.peers, self.address, self.key = peers, address, key

    async def read(self, start: int, end: int) -> bytes:
        async with self.peers.open_fill(self.address, self.key, start, end - 1) as resp:
            return await resp.read()

    def close(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class XorbSource:
    """Where a blob's bytes come from for a xorb fetch: its size, and the reads."""

    key: str  # what ``BlobReading.reading`` marks while the bytes are sent
    size: int
    reads: FileReads | FillReads | StoreReads | PeerReads

    @property
    def stored(self) -> bool:
        """Sent from stored bytes (a HIT), not from a fill still fetching them (a MISS)."""
        return isinstance(self.reads, FileReads | StoreReads)


@dataclass(frozen=True, slots=True)
class XorbRead:
    """One xorb of a blob, open for a fetch: its serialized length, and its bytes."""

    source: XorbSource
    xorb: int

    @property
    def length(self) -> int:
        return xet.xorb_length(self.source.size, self.xorb)

    @property
    def stored(self) -> bool:
        return self.source.stored

    def pieces(self, first: int, last: int) -> AsyncIterator[bytes]:
        """Serialized bytes ``first..last`` (inclusive), as they are read."""
        return xorb_bytes(self.source.size, self.xorb, first, last, self.source.reads)


class StoredBlobs(Protocol):
    """The index's word on a stored blob."""

    def blob_by_id(self, blob_id: str) -> StoredBlob | None: ...


class AnnouncedFills(Protocol):
    """The index's word on a blob some node fills for Xet clients (``index.xet``)."""

    def announced_for(self, sha256: str) -> Announced | None: ...


class RunningFills(Protocol):
    """This process's running fills, and those another worker process runs on this disk."""

    @property
    def running(self) -> Mapping[str, Fill]: ...

    def follow_local(self, key: str) -> Fill | None: ...


class BlobFiles(Protocol):
    """This node's blob files."""

    def path_for(self, digest: str) -> Path: ...

    def has(self, digest: str) -> bool: ...


class BlobReading(Protocol):
    """What eviction must know of a read: when it happened, and while it runs."""

    def touch(self, blob: StoredBlob) -> None: ...

    def reading(self, key: str) -> AbstractContextManager: ...


class ObjectRanges(Protocol):
    """The object store, read by range."""

    def open_range(
        self, digest: str, start: int = 0, end: int | None = None
    ) -> AbstractAsyncContextManager[ObjectRange]: ...


class FillNodes(Protocol):
    """Which node leads a fill, and how this node reads another's."""

    node: str
    peers: PeerClient

    def holder(self, key: str) -> Lease | None: ...


class XorbSources:
    """Where a xorb fetch reads a blob's bytes on this node: the running fill, the stored
    file or object, or another worker's or node's fill (a cold file's Xet client may ask
    any of them). ``objects`` and ``cluster`` are ``None`` without an object store or a
    cluster; ``streams_from_store``: no local tier, stored blobs are read from the store."""

    def __init__(
        self,
        *,
        index: StoredBlobs,
        announced: AnnouncedFills,
        fills: RunningFills,
        files: BlobFiles,
        use: BlobReading,
        objects: ObjectRanges | None = None,
        cluster: FillNodes | None = None,
        streams_from_store: bool = False,
    ) -> None:
        self.index, self.announced = index, announced
        self.fills, self.files, self.use = fills, files, use
        self.objects, self.cluster = objects, cluster
        self.streams_from_store = streams_from_store

    def only_in_object_store(self, sha256: str) -> bool:
        """The object store holds the blob, this node's disk does not (and should: without a
        local tier, ``local_tier_size=0``, xorbs are read from the store itself)."""
        shared_only = self.objects is not None and not self.streams_from_store
        return shared_only and not self.files.has(sha256)

    @contextlib.asynccontextmanager
    async def open(self, sha256: str, xorb: int) -> AsyncIterator[XorbRead | None]:
        """Xorb ``xorb`` of the blob, read where it is; eviction leaves the blob alone
        meanwhile. ``None`` when the mirror has none of it (the blob was evicted or lost):
        the client's retry then re-asks the reconstruction, which no longer finds it."""
        source = await self._source(sha256)
        if source is None:
            yield None
            return
        with self.use.reading(source.key):
            try:
                yield XorbRead(source, xorb)
            finally:
                source.reads.close()

    async def _source(self, sha256: str) -> XorbSource | None:
        """The blob's running fill, else its stored file or object, else a fill of it that
        another worker process or node runs."""
        blob = self.index.blob_by_id(sha256)
        running = self.fills.running
        keys = (sha256, f"git-{blob.git_sha1}") if blob else (sha256,)
        fill = next((running[k] for k in keys if k in running), None)
        if fill is None and blob is None:
            fill = self.fills.follow_local(sha256)
        if fill is not None:
            return XorbSource(fill.key, fill.size, await FillReads.open(fill))
        if blob is None:
            return self._peer_source(sha256)
        self.use.touch(blob)  # a read, for LRU eviction
        if not self.streams_from_store:
            try:
                return XorbSource(sha256, blob.size, FileReads(self.files.path_for(sha256)))
            except FileNotFoundError:
                pass
        if self.objects is not None:
            return XorbSource(sha256, blob.size, StoreReads(self.objects, sha256))
        return None

    def _peer_source(self, sha256: str) -> XorbSource | None:
        """The node whose lease says it fills ``sha256``, for a blob announced to Xet clients."""
        cluster = self.cluster
        pending = self.announced.announced_for(sha256) if cluster is not None else None
        holder = cluster.holder(sha256) if pending is not None else None
        if holder is None or holder.node == cluster.node:
            return None
        return XorbSource(sha256, pending.size, PeerReads(cluster.peers, holder.address, sha256))
