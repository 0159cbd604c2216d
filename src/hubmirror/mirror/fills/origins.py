"""Where a fill's bytes come from: upstream, the shared object store, or another node.

A fill is the same machine whatever feeds it: segments written at their offsets
into one temp file, hashed along, verified, renamed. Only the source of each
segment's bytes differs, and it may change while the fill runs: a node that was
reading another node's fill takes it over from upstream when that node dies,
keeping every byte it already has.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import aiohttp

from hubmirror.errors import BlobMissing, LinkExpired, UpstreamUnavailable
from hubmirror.mirror.answers.flights import Flights
from hubmirror.mirror.fills.state import Fill, Segment
from hubmirror.upstream.client import HubClient
from hubmirror.upstream.peers import PeerClient
from hubmirror.upstream.pool import UpstreamPool
from hubmirror.upstream.xetfetch import (
    STREAMS_PER_FILL,
    XetFetcher,
    XetFetchError,
    XetSource,
)

if TYPE_CHECKING:  # aiobotocore loads only when an s3:// store is configured
    from hubmirror.storage.objects import ObjectStore

log = logging.getLogger(__name__)

CHUNK = 256 * 1024  # measured: larger chunks collapse under concurrent fills

Sink = Callable[[bytes], None]  # writes a chunk at the segment's position and advances it

# Failures worth another attempt (from the same origin, or the next one).
RETRYABLE = (aiohttp.ClientError, TimeoutError, ConnectionError, UpstreamUnavailable)


class Origin(Protocol):
    kind: str  # "upstream", "store" or "peer": what the fill's bytes are counted as

    async def copy(self, fill: Fill, segment: Segment, attempt: int, sink: Sink) -> None:
        """Feed the segment's missing bytes to ``sink``; raise on a failed attempt."""


class UpstreamOrigin:
    """The upstream pool: ranged GETs of the file's CDN location, with failover."""

    kind = "upstream"

    def __init__(self, pool: UpstreamPool) -> None:
        self.pool = pool
        # all segments of a fill start at once: the first asks, the others await its answer
        self.lookups = Flights()

    async def copy(self, fill: Fill, segment: Segment, attempt: int, sink: Sink) -> None:
        client = self.pool.pick(attempt)
        try:
            await self._copy(client, fill, segment, sink)
        except RETRYABLE as exc:
            self.pool.failed(client, exc)
            raise
        self.pool.succeeded(client)

    async def source(self, fill: Fill, client: HubClient) -> tuple[str, str]:
        """Where ``client`` keeps the fill's bytes (its CDN link) and the Xet hash it
        announces with them ("" for none): one HEAD per fill and upstream, however many
        segments ask at once. A failed lookup fails every segment waiting on it; the
        next attempt asks again."""
        location, xet_hash = fill.locations.get(client.name), fill.locations.get(_xet(client))
        if location is not None and xet_hash is not None:
            return location, xet_hash
        return await self.lookups.run((fill, client.name), lambda: self._look_up(fill, client))

    async def _look_up(self, fill: Fill, client: HubClient) -> tuple[str, str]:
        src = fill.source
        found = await client.file_source(src.repo, src.commit, src.entry.path, src.auth)
        xet_hash = found.xet_hash if src.entry.lfs and found.xet_hash else ""
        fill.locations[client.name] = found.location
        fill.locations[_xet(client)] = xet_hash
        return found.location, xet_hash

    async def _copy(self, client: HubClient, fill: Fill, segment: Segment, sink: Sink) -> None:
        src = fill.source
        whole = segment.position == 0 and segment.end == fill.size
        end = None if whole else segment.end - 1
        url, _ = await self.source(fill, client)
        started = time.monotonic()
        try:
            async with client.open_url(url, src.auth, start=segment.position, end=end) as resp:
                self.pool.record_latency(client, time.monotonic() - started)
                fill.upstreams.add(client.name)
                async for chunk in resp.content.iter_chunked(CHUNK):
                    sink(chunk)
                    self.pool.record_bytes(client, len(chunk))
        except LinkExpired:
            # forget this link, unless another segment already brought a fresh one:
            # one new lookup for every segment that found the link expired
            if fill.locations.get(client.name) == url:
                del fill.locations[client.name]
            raise


def _xet(client: HubClient) -> str:
    """The key of the Xet hash ``client`` announced, beside its location in ``Fill.locations``."""
    return f"xet {client.name}"


class StoreOrigin:
    """The shared object store, which holds the verified blob already (another node's fill)."""

    kind = "store"

    def __init__(self, objects: ObjectStore, digest: str) -> None:
        self.objects = objects
        self.digest = digest

    async def copy(self, fill: Fill, segment: Segment, attempt: int, sink: Sink) -> None:
        fill.upstreams.add("object store")
        try:
            async with self.objects.open_range(
                self.digest, segment.position, segment.end - 1
            ) as body:
                async for chunk in body.iter_chunks(CHUNK):
                    sink(chunk)
        except (*RETRYABLE, BlobMissing):
            raise
        except Exception as exc:  # noqa: BLE001 - any store failure is an outage here
            raise UpstreamUnavailable(f"object store: {exc}") from exc


class PeerOrigin:
    """Another node's running fill of the same blob, read as it grows."""

    kind = "peer"

    def __init__(self, peers: PeerClient, node: str, address: str) -> None:
        self.peers = peers
        self.node = node
        self.address = address

    async def copy(self, fill: Fill, segment: Segment, attempt: int, sink: Sink) -> None:
        fill.upstreams.add(f"node {self.address}")
        async with self.peers.open_fill(
            self.address, fill.key, segment.position, segment.end - 1
        ) as resp:
            async for chunk in resp.content.iter_chunked(CHUNK):
                sink(chunk)


class XetUpstreamOrigin:
    """Upstream through hf_xet for a file upstream keeps in Xet storage (setting
    ``xet_upstream``); plain HTTP for any other file and for a segment whose Xet
    fetch failed. The bytes land in the same fill either way and are verified
    there: hf_xet checks no hash of what it brings."""

    kind = "upstream"

    def __init__(self, http: UpstreamOrigin, fetcher: XetFetcher) -> None:
        self.http = http
        self.pool = http.pool
        self.fetcher = fetcher
        self.counts: Counter[str] = Counter()  # xet_segments, xet_bytes, xet_fallbacks
        self._fallen: weakref.WeakKeyDictionary[Fill, set[int]] = weakref.WeakKeyDictionary()
        # at most STREAMS_PER_FILL Xet streams per fill: memory stays bounded (xetfetch)
        self._slots: weakref.WeakKeyDictionary[Fill, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    async def copy(self, fill: Fill, segment: Segment, attempt: int, sink: Sink) -> None:
        client = self.pool.pick(attempt)
        fallen = self._fallen.setdefault(fill, set())
        xet_hash = None if segment.start in fallen else await self._xet_hash(fill, client)
        if xet_hash is None:
            return await self.http.copy(fill, segment, attempt, sink)
        slots = self._slots.setdefault(fill, asyncio.Semaphore(STREAMS_PER_FILL))
        try:
            async with slots:  # segments in order: the fill's prefix comes first
                await self._copy(client, fill, segment, xet_hash, sink)
        except XetFetchError as exc:
            fallen.add(segment.start)
            self.counts["xet_fallbacks"] += 1
            log.warning("Xet fetch of %s failed, using HTTP: %s", fill.source.entry.path, exc)
            return await self.http.copy(fill, segment, attempt, sink)
        self.pool.succeeded(client)
        self.counts["xet_segments"] += 1

    async def _xet_hash(self, fill: Fill, client: HubClient) -> str | None:
        """The file's Xet hash from the fill's one HEAD to this upstream (its CDN location
        is kept for the HTTP path too); None for a file upstream serves without Xet."""
        xet_hash = fill.locations.get(_xet(client))  # kept when a CDN link is renewed
        if xet_hash is None:
            _, xet_hash = await self.http.source(fill, client)
        return xet_hash or None

    async def _copy(
        self, client: HubClient, fill: Fill, segment: Segment, xet_hash: str, sink: Sink
    ) -> None:
        src = fill.source
        source = XetSource(
            src.repo, src.commit, src.auth, xet_hash, fill.size, segment.position, segment.end
        )
        fill.upstreams.add(f"{client.name} (xet)")
        async with contextlib.aclosing(self.fetcher.stream(client, source)) as chunks:
            async for chunk in chunks:  # a term (up to SUBRANGE bytes): written in slices
                view = memoryview(chunk)
                for start in range(0, len(view), CHUNK):
                    sink(view[start : start + CHUNK])
                    await asyncio.sleep(0)  # readers and other fills between slices
                self.pool.record_bytes(client, len(chunk))
                self.counts["xet_bytes"] += len(chunk)
