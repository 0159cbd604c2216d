"""Room for a fill, taken before its first byte: on the disk, and under the quota.

A fill asks once, when it starts, for its whole size (the upstream's answer). Under
one lock for every process on the data directory it checks the disk's free space
(leaving ``min_free`` to the index and the system) and, with a quota, the store plus
the other fills in flight; when either falls short and a quota lets the mirror evict,
it evicts the least recently read blobs until the fill fits. It then preallocates the
fill's temp file, so the next fill sees the space as taken and no fill runs out of
space half-way. A fill that cannot have its room is refused (507) before any byte.

With an object store, the quota bounds the bucket (counted from the shared index);
fills in flight on other nodes count once they land. The disk here holds temp files
and the local tier only, so eviction from the bucket cannot make room on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from hubmirror.errors import StorageFull
from hubmirror.mirror.cache.quota import KEEP_RATIO
from hubmirror.storage.space import (
    allocated_bytes,
    free_bytes,
    parts_bytes,
    preallocate,
    space_lock,
)


class Evicting(Protocol):
    """The quota, as a fill's room needs it."""

    max_size: int  # 0: no quota, and no eviction to make room

    def stored_bytes(self) -> int: ...

    def make_room(self, keep_at_most: int) -> int: ...


class _NoQuota:
    max_size = 0

    def stored_bytes(self) -> int:
        return 0

    def make_room(self, keep_at_most: int) -> int:
        return 0


NO_QUOTA = _NoQuota()  # fills built without a quota still keep the disk's reserve


class Room:
    """Takes a fill's space before it starts, or refuses it (``StorageFull``)."""

    def __init__(self, quota: Evicting, tmp: Path, min_free: int, *, disk_evicts: bool) -> None:
        """``tmp``: where fills write (the data directory's disk); ``disk_evicts``: the
        store's blobs are on that disk (no object store), so evicting frees it."""
        self.quota = quota
        self.tmp = tmp
        self.min_free = min_free
        self.disk_evicts = disk_evicts

    def reserve(self, part: Path, size: int, *, fresh: bool) -> None:
        """Make room for ``size`` bytes at ``part`` and allocate them; ``fresh``: not a
        resumed fill (its old bytes, if any, go)."""
        with space_lock(self.tmp):
            needed = size if fresh else max(size - allocated_bytes(part), 0)
            self._fit(part, size, needed)
            preallocate(part, size, fresh=fresh)

    def _fit(self, part: Path, size: int, needed: int) -> None:
        quota = self.quota
        if quota.max_size and size > quota.max_size:
            raise StorageFull(
                f"a {size}-byte file is larger than the whole cache quota (max_size "
                f"{quota.max_size} bytes): raise max_size to serve it"
            )
        disk_short = needed + self.min_free - free_bytes(self.tmp)
        over = self._over_quota(part, size)
        evict = disk_short if disk_short > 0 and self.disk_evicts and quota.max_size else 0
        if over > 0:  # with headroom, so each following fill does not evict again
            evict = max(evict, over + int(quota.max_size * (1 - KEEP_RATIO)))
        if evict > 0:
            quota.make_room(quota.stored_bytes() - evict)
            disk_short = needed + self.min_free - free_bytes(self.tmp)
            over = self._over_quota(part, size)
        if disk_short > 0:
            raise StorageFull(self._disk_full(size, disk_short))
        if over > 0:
            raise StorageFull(
                f"no room for a {size}-byte file under the cache quota (max_size "
                f"{quota.max_size} bytes): the rest of the cache is being read or filled "
                "right now. Retry in a moment, or raise max_size."
            )

    def _over_quota(self, part: Path, size: int) -> int:
        """Bytes by which store + fills in flight + this fill exceed the quota (<= 0: fits)."""
        if not self.quota.max_size:
            return 0
        flying = parts_bytes(self.tmp, besides=part)
        return self.quota.stored_bytes() + flying + size - self.quota.max_size

    def _disk_full(self, size: int, short: int) -> str:
        advice = (
            "free space there, run 'hubmirror cache prune', or set max_size so the mirror "
            "evicts the least recently read files to make room"
        )
        if self.quota.max_size:
            advice = "the rest of the cache is in use right now: retry in a moment, or free space"
        return (
            f"not enough disk space in {self.tmp} for a {size}-byte file: {short} bytes short "
            f"(min_free_mib keeps {self.min_free} bytes free). {advice}"
        )
