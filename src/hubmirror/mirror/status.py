"""What the mirror is doing, as plain values: ``/metrics`` and the dashboard render these.

The server and the dashboard must not read the mirror's parts (counters, pool,
fills, local tier) themselves: they ask ``Mirror.status`` and ``Mirror.store_usage``
for one snapshot and format it. A snapshot is copied out of the live objects, so a
page rendered from it is consistent and cannot change what it reads.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass

from hubmirror.mirror.cache.eviction import EvictionCounter
from hubmirror.mirror.fills.origins import XetUpstreamOrigin
from hubmirror.mirror.fills.registry import Fills
from hubmirror.mirror.fills.shared import Shared
from hubmirror.mirror.fills.state import Fill
from hubmirror.mirror.metrics import ServedCounters
from hubmirror.storage.blobs import BlobStore
from hubmirror.types import RepoId
from hubmirror.upstream.pool import UpstreamPool


@dataclass(frozen=True)
class UpstreamStatus:
    name: str
    state: str  # the circuit breaker's: closed, half-open or open
    requests: int
    failures: int
    body_bytes: int  # blob bytes fetched from it
    latency: tuple[int, ...]  # answers per bucket of LATENCY_BUCKETS, the last: slower
    latency_sum: float
    last_latency: float | None = None  # seconds to the headers of its last answer
    up_since: float | None = None  # Unix time it answers since; None: failing or never asked
    down_since: float | None = None  # Unix time it fails since; None: answering or never asked
    last_error: str = ""  # the last failure, in the error's words (host and cause)


@dataclass(frozen=True)
class UpstreamHealth:
    """One upstream's health as people read it, for ``/readyz``, the dashboard and the
    start line: ``state`` is reachable, unreachable, unknown (not asked yet) or offline."""

    name: str
    state: str
    since: float | None  # Unix time of the last change of state
    latency_ms: int | None  # of the last answer, while reachable
    why: str  # while unreachable: the last failure
    words: str  # "reachable, 45 ms" / "unreachable since 10:02 UTC: ..."


def upstream_health(upstream: UpstreamStatus, offline: bool, now: float) -> UpstreamHealth:
    """What the pool's bookkeeping says, in words; no breaker jargon."""
    name = upstream.name
    if offline:
        return UpstreamHealth(name, "offline", None, None, "", "not asked: the mirror is offline")
    if upstream.down_since is not None:
        words = f"unreachable since {_clock(upstream.down_since, now)}: {upstream.last_error}"
        return UpstreamHealth(
            name, "unreachable", upstream.down_since, None, upstream.last_error, words
        )
    if upstream.up_since is None:
        return UpstreamHealth(name, "unknown", None, None, "", "not asked yet")
    ms = None if upstream.last_latency is None else round(upstream.last_latency * 1000)
    words = "reachable" if ms is None else f"reachable, {ms} ms"
    return UpstreamHealth(name, "reachable", upstream.up_since, ms, "", words)


def _clock(when: float, now: float) -> str:
    """``10:02 UTC`` today, ``2026-12-01 10:02 UTC`` before."""
    day = time.strftime("%Y-%m-%d", time.gmtime(when))
    shown = time.strftime("%H:%M UTC", time.gmtime(when))
    return shown if day == time.strftime("%Y-%m-%d", time.gmtime(now)) else f"{day} {shown}"


@dataclass(frozen=True)
class Transfer:
    """A fill running on this node; ``repo`` is None for another worker's fill read along."""

    key: str
    repo: RepoId | None
    path: str
    size: int
    done: int  # bytes fetched so far
    elapsed: float = 0.0  # seconds since the fill started here

    @property
    def rate(self) -> float:
        """Bytes per second, on average since the fill started; 0 in its first moment."""
        return self.done / self.elapsed if self.elapsed >= 0.5 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at that rate; None while it is unknown."""
        rate = self.rate
        return (self.size - self.done) / rate if rate else None


@dataclass(frozen=True)
class FillCounts:
    """How fills ended since start; ``from_*``: where a completed fill's bytes came from."""

    completed: int
    failed: int
    interrupted: int
    from_upstream: int
    from_store: int
    from_peer: int
    unshared: int  # stored here, but not put in the object store


@dataclass(frozen=True)
class TierStatus:
    """This node's disk in front of the object store."""

    used: int
    limit: int
    removed: int


@dataclass(frozen=True)
class NodeStatus:
    """This node in a cluster: its name, where peers reach it, the fill leases it holds."""

    name: str
    address: str
    leases_held: int


@dataclass(frozen=True)
class XetUpstreamStatus:
    """Fill segments fetched through hf_xet (setting ``xet_upstream``)."""

    segments: int
    bytes: int
    fallbacks: int  # segments whose Xet fetch failed, then fetched over HTTP
    held_peak: int  # most bytes of Xet streams held in memory at once


@dataclass(frozen=True)
class MirrorStatus:
    """Counters and state kept in memory; reading them costs no I/O."""

    requests: Mapping[tuple[str, int, str], int]  # (route kind, status, cache status)
    served_bytes: Mapping[str, int]  # body bytes by cache status
    hit_ratio: float  # file requests from stored bytes; 0 before any
    byte_hit_ratio: float
    upstreams: tuple[UpstreamStatus, ...]
    offline: bool
    transfers: tuple[Transfer, ...]
    fills: FillCounts
    tier: TierStatus | None  # None without an object store
    node: NodeStatus | None  # None unless this node is in a cluster
    xet_upstream: XetUpstreamStatus | None  # None unless xet_upstream is on
    quota: int  # max_size in bytes; 0: none


@dataclass(frozen=True)
class StoreUsage:
    """The store's size from the index, the data directory's disk, and evictions."""

    blobs: int
    bytes: int
    quota: int  # max_size in bytes; 0: none
    disk_free: int
    disk_size: int
    evicted: int  # blobs evicted for the quota since start
    evicted_bytes: int


def mirror_status(
    served: ServedCounters, pool: UpstreamPool, fills: Fills, shared: Shared | None, quota: int
) -> MirrorStatus:
    return MirrorStatus(
        requests=dict(served.requests),
        served_bytes=dict(served.body_bytes),
        hit_ratio=served.hit_ratio(),
        byte_hit_ratio=served.byte_hit_ratio(),
        upstreams=_upstreams(pool),
        offline=pool.offline,
        transfers=transfers_of(list(fills.running.values())),
        fills=_fill_counts(fills),
        tier=_tier(shared),
        node=_node(shared),
        xet_upstream=_xet_upstream(fills),
        quota=quota,
    )


def store_usage(
    totals: tuple[int, int], store: BlobStore, quota: int, evicted: EvictionCounter
) -> StoreUsage:
    """``totals``: (blobs, bytes) as the index counts them."""
    disk = shutil.disk_usage(store.tmp)  # one statvfs: cheap enough for every scrape
    blobs, size = totals
    return StoreUsage(blobs, size, quota, disk.free, disk.total, evicted.count, evicted.bytes)


def _upstreams(pool: UpstreamPool) -> tuple[UpstreamStatus, ...]:
    return tuple(
        UpstreamStatus(
            name,
            pool.breakers[name].state,
            stats.requests,
            stats.failures,
            stats.body_bytes,
            tuple(stats.latency),
            stats.latency_sum,
            stats.last_latency,
            stats.up_since,
            stats.down_since,
            stats.last_error,
        )
        for name, stats in pool.stats.items()
    )


def transfers_of(running: list[Fill]) -> tuple[Transfer, ...]:
    """The fills the pages list: not those this node reads along for another node's
    request (they have no repo here; that node lists them)."""
    return tuple(_transfer(fill) for fill in running if fill.source.repo is not None)


def _transfer(fill: Fill) -> Transfer:
    done = sum(segment.position - segment.start for segment in fill.segments)
    source = fill.source
    elapsed = time.monotonic() - fill.started
    return Transfer(fill.key, source.repo, source.entry.path, fill.size, done, elapsed)


def _fill_counts(fills: Fills) -> FillCounts:
    n = fills.outcomes
    return FillCounts(
        n["completed"],
        n["failed"],
        n["interrupted"],
        n["from_upstream"],
        n["from_store"],
        n["from_peer"],
        n["unshared"],
    )


def _tier(shared: Shared | None) -> TierStatus | None:
    if shared is None:
        return None
    return TierStatus(shared.tier.used, shared.tier.limit, shared.tier.removed)


def _node(shared: Shared | None) -> NodeStatus | None:
    cluster = shared.cluster if shared is not None else None
    if cluster is None:
        return None
    return NodeStatus(cluster.node, cluster.address, len(cluster.held))


def _xet_upstream(fills: Fills) -> XetUpstreamStatus | None:
    origin = fills.upstream
    if not isinstance(origin, XetUpstreamOrigin):
        return None
    n = origin.counts
    return XetUpstreamStatus(
        n["xet_segments"], n["xet_bytes"], n["xet_fallbacks"], origin.fetcher.held.peak
    )
