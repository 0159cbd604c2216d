"""Which blobs are in use: being sent or filled now, and when each was last read.

Eviction (``quota``, the local tier) must leave alone a blob a client is being
sent or a fill is writing, and removes the least recently read first. Reads are
noted in memory and written to the index in batches, so a HIT costs no write.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable

from hubmirror.index.queries import Index, StoredBlob
from hubmirror.mirror.cache.eviction import Eviction, fill_running
from hubmirror.mirror.cache.quota import Quota
from hubmirror.mirror.fills.registry import Fills
from hubmirror.mirror.fills.shared import Shared
from hubmirror.storage.blobs import BlobStore

TOUCH_BATCH = 1000  # reads noted before they are written to the index
TOUCH_INTERVAL = 10.0  # seconds between writes at the latest (when a read comes)


class BlobUse:
    """Readers of blobs on this node, and the access times eviction orders blobs by."""

    def __init__(
        self,
        index: Index,
        store: BlobStore,
        fills: Fills,
        quota: Quota,
        shared: Shared | None,
        clock: Callable[[], float],
    ) -> None:
        self.index = index
        self.store = store
        self.fills = fills
        self.quota = quota
        self.shared = shared
        self.clock = clock
        self.readers: Counter[str] = Counter()  # blobs being sent, by sha256 or fill key
        self._touched: dict[str, float] = {}
        self._last_touch_flush = clock()

    def touch(self, blob: StoredBlob) -> None:
        """Note a read for LRU eviction; written to the index in batches."""
        now = self.clock()
        self._touched[blob.sha256] = now
        if self.shared is not None:
            self.shared.tier.read(blob.sha256)
        if len(self._touched) > TOUCH_BATCH or now - self._last_touch_flush > TOUCH_INTERVAL:
            self.flush_access_times()

    def flush_access_times(self) -> None:
        if self._touched:
            self.index.touch_blobs(self._touched)
            self._touched = {}
        self._last_touch_flush = self.clock()

    @contextlib.contextmanager
    def reading(self, key: str):
        """Mark a blob (sha256, or a fill's key) as being sent: eviction leaves it alone."""
        self.readers[key] += 1
        try:
            yield
        finally:
            self.readers[key] -= 1
            if self.readers[key] <= 0:
                del self.readers[key]
                self.quota.check()  # it may have been all that kept the store over quota
                if self.shared is not None:
                    self.shared.tier.trim()

    def blobs_in_use(self) -> frozenset[str]:
        return frozenset(self.readers) | frozenset(self.fills.running)

    def blob_in_use(self, digest: str) -> bool:
        """Being sent or filled on this node (the local tier keeps it on disk)."""
        if digest in self.readers or digest in self.fills.running:
            return True
        return any(f.blob and f.blob.sha256 == digest for f in self.fills.running.values())

    def blob_busy(self, blob: Eviction) -> bool:
        """Being sent by this process, or filled by any: not to be evicted now."""
        keys = (blob.sha256, f"git-{blob.git_sha1}")
        in_use = any(k in self.readers or k in self.fills.running for k in keys)
        return in_use or fill_running(self.store, blob)
