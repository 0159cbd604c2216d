"""Which blobs are in use: being sent or filled now, and when each was last read.

Eviction (the quota, the local tier) must leave alone a blob a client is being
sent or a fill is writing, and removes the least recently read first. Reads are
noted in memory and written to the index in batches, so a HIT costs no write.

``BlobsInUse`` depends on nothing but the store, so every part that asks "is this
blob busy?" (the local tier, the quota, the fills that register themselves in it)
is given the same one when it is built.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol

from hubmirror.index.queries import Index, StoredBlob
from hubmirror.mirror.cache.eviction import Eviction, fill_running
from hubmirror.storage.blobs import BlobStore

if TYPE_CHECKING:
    from hubmirror.mirror.fills.state import Fill

TOUCH_BATCH = 1000  # reads noted before they are written to the index
TOUCH_INTERVAL = 10.0  # seconds between writes at the latest (when a read comes)


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
    """When each blob was last read: noted in memory, written to the index in batches."""

    def __init__(
        self, index: Index, clock: Callable[[], float], tier: ReadNotes | None = None
    ) -> None:
        self.index = index
        self.clock = clock
        self.tier = tier
        self._touched: dict[str, float] = {}
        self._last_flush = clock()

    def touch(self, blob: StoredBlob) -> None:
        """Note a read for LRU eviction; written to the index in batches."""
        now = self.clock()
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
