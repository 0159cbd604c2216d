"""Where a fill's bytes come from: upstream, the shared object store, or another node.

A fill is the same machine whatever feeds it: segments written at their offsets
into one temp file, hashed along, verified, renamed. Only the source of each
segment's bytes differs, and it may change while the fill runs: a node that was
reading another node's fill takes it over from upstream when that node dies,
keeping every byte it already has.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import aiohttp

from hubmirror.errors import BlobMissing, LinkExpired, UpstreamUnavailable
from hubmirror.mirror.fillstate import Fill, Segment
from hubmirror.upstream.client import HubClient
from hubmirror.upstream.peers import PeerClient
from hubmirror.upstream.pool import UpstreamPool

if TYPE_CHECKING:  # aiobotocore loads only when an s3:// store is configured
    from hubmirror.storage.objects import ObjectStore

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

    async def copy(self, fill: Fill, segment: Segment, attempt: int, sink: Sink) -> None:
        client = self.pool.pick(attempt)
        try:
            await self._copy(client, fill, segment, sink)
        except RETRYABLE as exc:
            self.pool.failed(client, exc)
            raise
        self.pool.succeeded(client)

    async def _copy(self, client: HubClient, fill: Fill, segment: Segment, sink: Sink) -> None:
        src = fill.source
        whole = segment.position == 0 and segment.end == fill.size
        end = None if whole else segment.end - 1
        url = fill.locations.get(client.name)
        if url is None:  # one redirect lookup per fill, not one per segment and retry
            url = await client.file_location(src.repo, src.commit, src.entry.path, src.auth)
            fill.locations[client.name] = url
        started = time.monotonic()
        try:
            async with client.open_url(url, src.auth, start=segment.position, end=end) as resp:
                self.pool.record_latency(client, time.monotonic() - started)
                fill.upstreams.add(client.name)
                async for chunk in resp.content.iter_chunked(CHUNK):
                    sink(chunk)
                    self.pool.record_bytes(client, len(chunk))
        except LinkExpired:
            fill.locations.pop(client.name, None)
            raise


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
