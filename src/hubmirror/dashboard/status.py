"""The numbers of the front page, from the mirror's status snapshot (``Mirror.status``).

One function builds them for both the server-rendered page and the JSON the page polls,
so the two can never disagree.
"""

from __future__ import annotations

from typing import Any

from hubmirror.mirror.service import Mirror, Viewer
from hubmirror.mirror.status import MirrorStatus, Transfer

_HITS = ("HIT", "STALE")  # bytes that came off local disk
_FILE_STATUSES = ("HIT", "STALE", "MISS")


def status(mirror: Mirror, viewer: Viewer) -> dict[str, Any]:
    """Hit ratio, bytes, cache size against the quota, transfers and upstream health.

    Totals count every repo; the transfers list only those of repos ``viewer`` may see named.
    """
    now = mirror.status()
    usage = mirror.store_usage(fresh=True)
    return {
        "requests": _requests(now),
        "bytes": _bytes(now),
        "cache": {"blobs": usage.blobs, "bytes": usage.bytes, "quota": usage.quota},  # 0: none
        "transfers": [_transfer(t) for t in now.transfers if mirror.may_see(viewer, t.repo)],
        "upstreams": _upstreams(now),
        "offline": now.offline,
    }


def _requests(now: MirrorStatus) -> dict[str, Any]:
    """File requests answered from the cache vs. from upstream (HEADs too: both count)."""
    hits = misses = 0
    for (kind, _status, cache), count in now.requests.items():
        if kind != "resolve":
            continue
        if cache in _HITS:
            hits += count
        elif cache in _FILE_STATUSES:
            misses += count
    total = hits + misses
    return {"hits": hits, "misses": misses, "hit_ratio": hits / total if total else None}


def _bytes(now: MirrorStatus) -> dict[str, int]:
    """Bandwidth saved: every byte served from the cache is one not fetched upstream."""
    served = now.served_bytes
    from_cache = sum(served.get(c, 0) for c in _HITS)
    return {
        "served": sum(served.get(c, 0) for c in _FILE_STATUSES),
        "from_cache": from_cache,
        "upstream": sum(u.body_bytes for u in now.upstreams),
        "saved": from_cache,
    }


def _transfer(transfer: Transfer) -> dict[str, Any]:
    repo = transfer.repo
    return {
        "key": transfer.key,
        "repo": repo.name,
        "repo_type": repo.repo_type.value,
        "path": transfer.path,
        "size": transfer.size,
        "done": transfer.done,
    }


def _upstreams(now: MirrorStatus) -> list[dict[str, Any]]:
    return [
        {
            "name": u.name,
            "state": "offline" if now.offline else u.state,
            "requests": u.requests,
            "failures": u.failures,
            "bytes": u.body_bytes,
        }
        for u in now.upstreams
    ]
