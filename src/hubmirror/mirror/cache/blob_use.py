"""Which blobs are in use: being sent or filled now, and when each was last read.

Eviction (the quota, the local tier) must leave alone a blob a client is being
sent or a fill is writing, and removes the least recently read first. Reads are
noted in memory and written to the index in batches, so a HIT costs no write.

``BlobsInUse`` depends on nothing but the store, so every part that asks "is this
blob busy?" (the local tier, the quota, the fills that register themselves in it)
is given the same one when it is built.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol

from hubmirror.index.queries import Index, StoredBlob
from hubmirror.mirror.cache.eviction import Eviction, fill_running
from hubmirror.storage.blobs import BlobStore

if TYPE_CHECKING:
    from hubmirror.mirror.fills.state import Fill

log = logging.getLogger(__name__)

TOUCH_BATCH = 1000  # reads noted before they are written to the index
TOUCH_INTERVAL = 1.0  # seconds a read waits, at most, before the index (every worker) sees it


class BlobsInUse:
    """Readers of blobs on this node, and the fills this process runs (by key)."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store
        self.readers: Counter[str] = Counter()  # blobs being sent, by sha256 or fill key
        self.filling: dict[str, Fill] = {}  # kept by ``Fills``: its running fills

    @contextlib.contextmanager
    def reading(self, key: str) -> Iterator[None]:
        """Mark a blob (sha256, or a fill's key) as being sent while the block runs."""
        self.readers[key] += 1
        try:
            yield
        finally:
            self.readers[key] -= 1
            if self.readers[key] <= 0:
                del self.readers[key]

    def being_read(self, key: str) -> bool:
        return key in self.readers

    def blobs_in_use(self) -> frozenset[str]:
        return frozenset(self.readers) | frozenset(self.filling)

    def blob_in_use(self, digest: str) -> bool:
        """Being sent or filled on this node (the local tier keeps it on disk)."""
        if digest in self.readers or digest in self.filling:
            return True
        return any(f.blob and f.blob.sha256 == digest for f in self.filling.values())

    def blob_busy(self, blob: Eviction) -> bool:
        """Being sent by this process, or filled by any: not to be evicted now."""
        keys = (blob.sha256, f"git-{blob.git_sha1}")
        in_use = any(k in self.readers or k in self.filling for k in keys)
        return in_use or fill_running(self.store, blob)


class ReadNotes(Protocol):
    """Where a read is noted besides the index: the local tier's own recency."""

    def read(self, digest: str) -> None: ...


class AccessTimes:
    """When each blob was last read: noted in memory, written to the index in batches.

    A batch is written at the latest ``TOUCH_INTERVAL`` after its first read, read or
    no read after it: eviction runs in whichever worker (or node) crosses the quota,
    and plans from the index, so another worker's hot files must be there by then.
    One small write a second per worker is what that costs.
    """

    def __init__(
        self, index: Index, clock: Callable[[], float], tier: ReadNotes | None = None
    ) -> None:
        self.index = index
        self.clock = clock
        self.tier = tier
        self._touched: dict[str, float] = {}
        self._last_flush = clock()
        self._timer: asyncio.TimerHandle | None = None

    def touch(self, blob: StoredBlob) -> None:
        """Note a read for LRU eviction; written to the index in batches."""
        now = self.clock()
        if not self._touched:
            self._flush_later()
        self._touched[blob.sha256] = now
        if self.tier is not None:
            self.tier.read(blob.sha256)
        if len(self._touched) > TOUCH_BATCH or now - self._last_flush > TOUCH_INTERVAL:
            self.flush()

    def flush(self) -> None:
        if self._touched:
            self.index.touch_blobs(self._touched)
            self._touched = {}
        self._last_flush = self.clock()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _flush_later(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a command without a loop flushes when it is done
            return
        if self._timer is None:
            self._timer = loop.call_later(TOUCH_INTERVAL, self._flush_due)

    def _flush_due(self) -> None:
        self._timer = None
        try:
            self.flush()
        except Exception as exc:  # noqa: BLE001 - a busy index: the next batch tries again
            log.warning("could not record when blobs were last read: %s", exc)


class BlobReads:
    """A read of a blob as eviction sees it: noted for LRU order, and guarded while it
    runs (``guard``: the quota's ``reading``, which looks again once the last one ends)."""

    def __init__(
        self,
        access_times: AccessTimes,
        guard: Callable[[str], contextlib.AbstractContextManager],
    ) -> None:
        self.access_times = access_times
        self.guard = guard

    def touch(self, blob: StoredBlob) -> None:
        self.access_times.touch(blob)

    def reading(self, key: str) -> contextlib.AbstractContextManager:
        return self.guard(key)
