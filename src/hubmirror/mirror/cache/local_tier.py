"""Hot copies of shared blobs on this node's disk, within ``local_tier_size``.

With an object store, the store holds every blob and the local disk only what
is read often: blobs read least recently are removed from the disk (never from
the store or the index) once their total passes the limit. Blobs being sent or
filled stay, whatever the limit: a reader holds its file open, and the next
request for a removed blob simply fills it again from the store.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from hubmirror.storage.blobs import BlobStore
from hubmirror.types import is_digest

log = logging.getLogger(__name__)


class LocalTier:
    def __init__(
        self,
        store: BlobStore,
        limit: int,
        busy: Callable[[str], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.limit = limit
        self.busy = busy  # sha256 → being sent or filled on this node
        self.clock = clock
        self.sizes: dict[str, int] = {}
        self.reads: dict[str, float] = {}
        self.used = 0  # bytes of the blobs in ``sizes``
        self.removed = 0  # blobs taken off the disk, for logs and metrics

    def scan(self) -> None:
        """Learn what the disk holds (at start): sizes, and modification time as last read."""
        for path in _blob_files(self.store.root):
            stat = path.stat()
            self.used += stat.st_size - self.sizes.get(path.name, 0)
            self.sizes[path.name] = stat.st_size
            self.reads[path.name] = stat.st_mtime

    def added(self, digest: str, size: int) -> None:
        self.used += size - self.sizes.get(digest, 0)
        self.sizes[digest] = size
        self.reads[digest] = self.clock()
        self.trim()

    def read(self, digest: str) -> None:
        if digest in self.sizes:
            self.reads[digest] = self.clock()

    def forget(self, digest: str) -> None:
        """The blob left the store (evicted): remove this disk's copy too."""
        self.used -= self.sizes.pop(digest, 0)
        self.reads.pop(digest, None)
        self.store.remove(digest)

    def trim(self) -> None:
        """Remove least recently read blobs until the disk holds at most ``limit`` bytes."""
        excess = self.used - self.limit
        if excess <= 0:
            return
        for digest in sorted(self.sizes, key=self.reads.__getitem__):
            if excess <= 0:
                break
            if self.busy(digest):
                continue
            size = self.sizes.pop(digest)
            excess -= size
            self.used -= size
            self.reads.pop(digest, None)
            self.store.remove(digest)
            self.removed += 1
            log.debug("local tier: removed %s (the object store keeps it)", digest)


def _blob_files(root: Path):
    if not root.is_dir():
        return
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if is_digest(name):
                yield Path(folder) / name
