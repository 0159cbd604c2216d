"""Upstream's Xet hashes of files not stored yet: advertised only while a fill checks them.

For a cold file, upstream's HEAD announces a Xet hash. The mirror may pass it on
only when the bytes it serves under it are checked against it before a client
can complete: the blob's fill hashes its verified temp file with hf_xet before
releasing the last byte, and a mismatch fails the fill for every reader
(``Fills._check_xet``). An announcement found wrong is forgotten, so the next
fill of that blob goes plain.

A fill that checks an announced hash records it in the index while it runs
(``Fills._announce``): a Xet client's requests may reach any worker process or
node, and each must find the fill the client reads.
"""

from __future__ import annotations

from hubmirror.index.records import StoredBlob
from hubmirror.mirror.fills import Fills
from hubmirror.mirror.fillstate import Fill
from hubmirror.mirror.lru import LRU
from hubmirror.mirror.xethashes import XetHashes
from hubmirror.types import FileEntry

ANNOUNCED_CACHE_SIZE = 100_000  # upstream's Xet hashes remembered (by sha256) for cold fills


class XetAnnouncements:
    def __init__(self, hashes: XetHashes, fills: Fills) -> None:
        self.hashes = hashes
        self.fills = fills
        self._by_sha256: LRU[str, str] = LRU(ANNOUNCED_CACHE_SIZE)
        fills.xet_hasher = hashes.file_hasher()  # None: announcements are never used
        fills.xet_refused = self.refused

    def remember(self, entry: FileEntry, xet_hash: str | None) -> None:
        """Upstream's Xet hash of a non-empty LFS file, for a fill to check."""
        usable = self.hashes.enabled and self.fills.xet_hasher is not None
        if usable and xet_hash and entry.lfs and entry.sha256 and entry.size:
            self._by_sha256.put(entry.sha256, xet_hash)

    def for_entry(self, entry: FileEntry) -> str | None:
        """The announced hash a fill of ``entry`` must check (``None``: nothing to check)."""
        return self._by_sha256.get(entry.sha256) if entry.sha256 else None

    def cold_hash(self, entry: FileEntry, blob: StoredBlob | None) -> str | None:
        """Upstream's hash for a file not stored yet, when a fill started now would check it."""
        if blob is not None or not self.hashes.enabled or not entry.sha256:
            return None
        announced = self.for_entry(entry)
        if announced is None and self.fills.xet_hasher is not None:  # another process's fill
            elsewhere = self.fills.index.xet.announced_for(entry.sha256)
            announced = elsewhere.xet_hash if elsewhere else None
        return announced

    def refused(self, key: str) -> None:
        """A fill found upstream's Xet hash wrong: the next fill of the blob goes plain."""
        self._by_sha256.pop(key)

    def pending_blob(self, xet_hash: str) -> StoredBlob | None:
        """The blob a running fill will verify to have ``xet_hash`` (for the CAS: a cold
        file's reconstruction, its xorbs read from the fill as the bytes arrive). The fill
        may run in another worker process or node: the index says which blob it fills."""
        for fill in list(self.fills.running.values()):
            if fill.xet_check == xet_hash and fill.blob is None and fill.error is None:
                return StoredBlob(fill.key, "", fill.size)
        if not self.hashes.enabled or self.fills.xet_hasher is None:
            return None
        return self.fills.index.xet.announced_blob(xet_hash)


def checked_by(fill: Fill, announced: str) -> str | None:
    """``announced`` if ``fill`` verifies it before its last byte, else ``None``."""
    running = fill.blob is None and fill.error is None
    return announced if running and fill.xet_check == announced else None
