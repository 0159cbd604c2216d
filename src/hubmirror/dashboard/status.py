"""The numbers of the front page, read from the mirror's counters, fills, pool and index.

One function builds them for both the server-rendered page and the JSON the page polls,
so the two can never disagree.
"""

from __future__ import annotations

from typing import Any

from hubmirror.mirror.access.disclosure import Viewer
from hubmirror.mirror.fills.state import Fill
from hubmirror.mirror.service import Mirror

_HITS = ("HIT", "STALE")  # bytes that came off local disk
_FILE_STATUSES = ("HIT", "STALE", "MISS")


def status(mirror: Mirror, viewer: Viewer) -> dict[str, Any]:
    """Hit ratio, bytes, cache size against the quota, transfers and upstream health.

    Totals count every repo; the transfers list only those of repos ``viewer`` may see named.
    """
    fills = list(mirror.fills.running.values())
    return {
        "requests": _requests(mirror),
        "bytes": _bytes(mirror),
        "cache": _cache(mirror),
        "transfers": [_transfer(f) for f in fills if mirror.may_see(viewer, f.source.repo)],
        "upstreams": _upstreams(mirror),
        "offline": mirror.offline,
    }


def _requests(mirror: Mirror) -> dict[str, Any]:
    """File requests answered from the cache vs. from upstream (HEADs too: both count)."""
    hits = misses = 0
    for (kind, _status, cache), count in mirror.served.requests.items():
        if kind != "resolve":
            continue
        if cache in _HITS:
            hits += count
        elif cache in _FILE_STATUSES:
            misses += count
    total = hits + misses
    return {"hits": hits, "misses": misses, "hit_ratio": hits / total if total else None}


def _bytes(mirror: Mirror) -> dict[str, int]:
    """Bandwidth saved: every byte served from the cache is one not fetched upstream."""
    served = mirror.served.body_bytes
    from_cache = sum(served[c] for c in _HITS)
    return {
        "served": sum(served[c] for c in _FILE_STATUSES),
        "from_cache": from_cache,
        "upstream": sum(s.body_bytes for s in mirror.pool.stats.values()),
        "saved": from_cache,
    }


def _cache(mirror: Mirror) -> dict[str, int]:
    blobs, size = mirror.index.blob_totals()
    return {"blobs": blobs, "bytes": size, "quota": mirror.quota_bytes}  # 0: no quota


def _transfer(fill: Fill) -> dict[str, Any]:
    done = sum(segment.position - segment.start for segment in fill.segments)
    return {
        "key": fill.key,
        "repo": fill.source.repo.name,
        "repo_type": fill.source.repo.repo_type.value,
        "path": fill.source.entry.path,
        "size": fill.size,
        "done": done,
    }


def _upstreams(mirror: Mirror) -> list[dict[str, Any]]:
    pool = mirror.pool
    return [
        {
            "name": client.name,
            "state": "offline" if pool.offline else pool.breakers[client.name].state,
            "requests": pool.stats[client.name].requests,
            "failures": pool.stats[client.name].failures,
            "bytes": pool.stats[client.name].body_bytes,
        }
        for client in pool.clients
    ]
