"""The automatic quota: when fills push the store over ``max_size``, evict the least
recently used blobs down to ``KEEP_RATIO`` of it, in the background.

The store's size is the index's sum, read again after each fill: every worker of the
node (and every node sharing an object store) writes the same index, so they share one
quota. ``room.py`` asks ``make_room`` before a fill that would not fit. Blobs
being sent or filled are skipped; when the last reader of a blob finishes while
the store is still over quota, eviction runs again.

With an object store, ``max_size`` bounds the bucket: evicted blobs leave the index
first, then the bucket and this node's disk; other nodes' local tiers let them go in
time, or fetch them again on their next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator

from hubmirror.index.queries import Index, StoredBlob
from hubmirror.mirror.cache.blob_use import AccessTimes, BlobsInUse
from hubmirror.mirror.cache.eviction import (
    Eviction,
    EvictionCounter,
    Removal,
    drop_rows,
    plan_prune,
    unlink,
)
from hubmirror.mirror.fills.shared import Shared
from hubmirror.storage.blobs import BlobStore

log = logging.getLogger(__name__)

KEEP_RATIO = 0.9  # evict down to this share of the quota, so every fill does not evict


class Quota:
    """Keeps the store under ``max_size`` bytes (0 = no quota), and a node's local tier
    within its size, looking again whenever the last reader of a blob lets go."""

    def __init__(
        self,
        index: Index,
        store: BlobStore,
        in_use: BlobsInUse,
        access_times: AccessTimes,
        *,
        max_size: int,
        clock: Callable[[], float],
        shared: Shared | None = None,
        on_evicted: Callable[[list[Eviction]], None] = lambda _evicted: None,
    ) -> None:
        """``on_evicted``: told which blobs left the index, so answers in memory forget them."""
        self.index = index
        self.store = store
        self.in_use = in_use
        self.access_times = access_times
        self.clock = clock
        self.shared = shared
        self.on_evicted = on_evicted
        self.max_size = max_size
        self.total: int | None = None
        self.evictions = EvictionCounter()
        self._task: asyncio.Task | None = None
        self._removals: set[asyncio.Task] = set()

    @property
    def idle(self) -> bool:
        """No eviction running (tests and shutdown wait for this)."""
        return self._task is None or self._task.done()

    @property
    def over(self) -> bool:
        return bool(self.max_size) and self.total is not None and self.total > self.max_size

    @contextlib.contextmanager
    def reading(self, key: str) -> Iterator[None]:
        """A blob (sha256, or a fill's key) being sent: no eviction takes it meanwhile; once
        its last reader lets go, the limits it may have held the store above apply again."""
        with self.in_use.reading(key):
            yield
        if not self.in_use.being_read(key):
            self.check()
            if self.shared is not None:
                self.shared.tier.trim()

    def stored(self, blob: StoredBlob) -> None:
        """A fill stored ``blob`` (already in the index)."""
        self.added(blob.size)

    def added(self, size: int) -> None:
        """A fill stored ``size`` bytes (already in the index): evict when over the quota.

        The total is read from the index, which every worker (and, with an object store,
        every node) writes: a quota counted per process lets N workers fill N times over.
        """
        if not self.max_size:
            return
        self.total = self.index.blob_totals()[1]
        self.check()

    def check(self) -> None:
        """Start an eviction when over the quota and none is running."""
        if self.over and self.idle:
            self._task = asyncio.get_running_loop().create_task(self.evict())

    def stored_bytes(self) -> int:
        """The store's size now, as every process sees it."""
        self.total = self.index.blob_totals()[1]
        return self.total

    def make_room(self, keep_at_most: int) -> int:
        """Evict least recently read blobs now, until the store holds at most
        ``keep_at_most`` bytes or only blobs in use are left; the bytes left.

        For a fill that would not fit (on the disk, or under the quota): it waits for
        this, so the files go before it returns (off the loop would let the fill's
        space check race the unlinks). Blobs another process is sending lose their
        name only: an open file keeps its bytes for its reader.
        """
        removal, left = self._drop(keep_at_most)
        if self.shared is not None:  # the bucket's copies go in the background
            if removal.removed:
                task = asyncio.get_running_loop().create_task(
                    self.shared.remove([blob.sha256 for blob in removal.removed])
                )
                self._removals.add(task)
                task.add_done_callback(self._removals.discard)
        else:
            unlink(removal, self.store)
        return left

    async def evict(self) -> None:
        """Plan from fresh access times, drop rows on the loop (no reader can start in
        between), unlink the files in a thread."""
        removal, _left = self._drop(int(self.max_size * KEEP_RATIO))
        if self.shared is not None:  # the quota is the object store's, for every node
            await self.shared.remove([blob.sha256 for blob in removal.removed])
        else:
            await asyncio.to_thread(unlink, removal, self.store)

    def _drop(self, keep_at_most: int) -> tuple[Removal, int]:
        """Drop the index rows of the least recently read blobs above ``keep_at_most``."""
        self.access_times.flush()
        blobs = self.index.blob_usage()
        keep = self.in_use.blobs_in_use()
        plan = plan_prune(blobs, self.clock(), max_size=max(keep_at_most, 0), keep=keep)
        removal = drop_rows(plan, self.index, self.in_use.blob_busy)
        self.on_evicted(removal.removed)
        self.evictions.record(removal.removed)
        self.total = sum(b.size for b in blobs) - removal.size
        if removal.removed or removal.skipped:
            log.info(
                "quota %d bytes: evicted %d blob(s), %d bytes; %d in use kept; store now %d",
                self.max_size,
                len(removal.removed),
                removal.size,
                len(removal.skipped),
                self.total,
            )
        return removal, self.total

    async def close(self) -> None:
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        await asyncio.gather(*self._removals, return_exceptions=True)
