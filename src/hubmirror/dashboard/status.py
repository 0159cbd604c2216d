"""The numbers of the front page, from the mirror's status snapshot (``Mirror.status``).

One function builds them for both the server-rendered page and the JSON the page polls,
so the two can never disagree: every number comes with the words the page shows for it
(``text``, human units), formatted here once; the page's script only copies them in.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from hubmirror.mirror.service import Mirror, Viewer
from hubmirror.mirror.status import MirrorStatus, StoreUsage, Transfer
from hubmirror.progress import human_bytes, human_duration, human_rate

_HITS = ("HIT", "STALE")  # bytes that came off local disk
_FILE_STATUSES = ("HIT", "STALE", "MISS")


def status(mirror: Mirror, viewer: Viewer) -> dict[str, Any]:
    """Hit ratio, bytes, cache size against the quota, transfers and upstream health.

    Totals count every repo; the transfers list only those of repos ``viewer`` may see named.
    """
    now = mirror.status()
    usage = mirror.store_usage(fresh=True)
    requests, sent, upstreams = _requests(now), _bytes(now), _upstreams(mirror, now)
    text = _text(requests, sent, usage) | {"upstream_summary": _summary(upstreams, now.offline)}
    return {
        "requests": requests,
        "bytes": sent,
        "cache": {
            "blobs": usage.blobs,
            "bytes": usage.bytes,
            "quota": usage.quota,  # 0: none
            "disk_free": usage.disk_free,
        },
        "transfers": [_transfer(t) for t in now.transfers if mirror.may_see(viewer, t.repo)],
        "upstreams": upstreams,
        "offline": now.offline,
        "text": text,
    }


def hit_ratio(requests: dict[str, Any]) -> str:
    if requests["hit_ratio"] is None:
        return "no file requests yet"
    r = requests
    return f"{r['hit_ratio'] * 100:.1f}% ({r['hits']} hits, {r['misses']} misses)"


def _text(requests: dict, sent: dict, usage: StoreUsage) -> dict[str, str]:
    """What the stat tiles say, keyed like their ``data-field``."""
    quota = human_bytes(usage.quota) if usage.quota else "no quota"
    cache = human_bytes(usage.bytes) + (f" of {quota}" if usage.quota else "")
    return {
        "hit_ratio": hit_ratio(requests),
        "from_cache": human_bytes(sent["from_cache"]),
        "upstream": human_bytes(sent["upstream"]),
        "served": human_bytes(sent["served"]),
        "cache_blobs": f"{usage.blobs} file{'' if usage.blobs == 1 else 's'}",
        "cache_bytes": cache,
        "quota": quota,
        "disk_free": human_bytes(usage.disk_free),
    }


def _summary(upstreams: list[dict[str, Any]], offline: bool) -> str:
    """The upstreams in a word or three, for the tile at the top."""
    if offline:
        return "offline: serving the cache only"
    states = [u["health"]["state"] for u in upstreams]
    down = states.count("unreachable")
    if not down:
        if "reachable" not in states:
            return "not asked yet"
        return "all reachable" if "unknown" not in states else "reachable"
    return "unreachable" if down == len(states) else f"{down} of {len(states)} unreachable"


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
    eta = transfer.eta
    return {
        "key": transfer.key,
        "repo": repo.name,
        "repo_type": repo.repo_type.value,
        "path": transfer.path,
        "size": transfer.size,
        "done": transfer.done,
        "rate": transfer.rate,  # bytes per second, on average since it started
        "eta": eta,  # seconds left; null while unknown
        "progress_text": f"{human_bytes(transfer.done)} of {human_bytes(transfer.size)}",
        "rate_text": human_rate(transfer.rate) if transfer.rate else "starting",
        "eta_text": human_duration(eta) + " left" if eta is not None else "",
    }


def _upstreams(mirror: Mirror, now: MirrorStatus) -> list[dict[str, Any]]:
    """Each upstream's health in words (``health``) and what it carried."""
    health = {h.name: h for h in mirror.upstream_health()}
    return [
        {
            "name": u.name,
            "health": asdict(health[u.name]),
            "requests": u.requests,
            "failures": u.failures,
            "bytes": u.body_bytes,
            "bytes_text": human_bytes(u.body_bytes),
        }
        for u in now.upstreams
    ]
