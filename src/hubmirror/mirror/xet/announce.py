"""Upstream's Xet hashes of files not stored yet: passed on by a HEAD, checked by the fill.

For a cold file, upstream's HEAD announces a Xet hash. The mirror passes it on, and
records it in the index (``offer``), but a HEAD starts nothing: a metadata probe
(``file_exists``, a scanner HEADing weights) must not pull whole checkpoints. A Xet
client's first request that wants bytes is its reconstruction (it sends no GET): that
finds the blob by the hash in the index (on any worker process or node) and starts
the fill, which checks the hash. The CAS serves an announced hash only from a fill
that checks it: the fill hashes its verified temp file with hf_xet before releasing
the last byte, and a mismatch fails the fill for every reader (``Fills._check_xet``).
An announcement found wrong is forgotten, in memory and in the index.

A fill that checks an announced hash records it in the index while it runs
(``Fills._announce``): a Xet client's requests may reach any worker process or
node, and each must find the fill the client reads.
"""

from __future__ import annotations

from collections.abc import Mapping

from hubmirror.index.records import StoredBlob
from hubmirror.mirror.fills.state import Fill
from hubmirror.mirror.lru import LRU
from hubmirror.mirror.xet.hashes import XetHashes
from hubmirror.types import FileEntry

ANNOUNCED_CACHE_SIZE = 100_000  # upstream's Xet hashes remembered (by sha256) for cold fills


class XetAnnouncements:
    def __init__(
        self,
        hashes: XetHashes,
        running: Mapping[str, Fill],
        *,
        checkable: bool,
    ) -> None:
        """``running``: this process's fills by key; ``checkable``: a fill can check an
        announced hash (hf_xet is installed), else nothing is announced."""
        self.hashes = hashes
        self.records = hashes.index.xet
        self.clock = hashes.clock
        self.running = running
        self.checkable = checkable
        self._by_sha256: LRU[str, str] = LRU(ANNOUNCED_CACHE_SIZE)
        self._offered: LRU[str, str] = LRU(ANNOUNCED_CACHE_SIZE)  # sha256 -> hash in the index

    @property
    def usable(self) -> bool:
        """Announced hashes are passed on and checked (xet_serve on, hf_xet installed)."""
        return self.hashes.enabled and self.checkable

    def remember(self, entry: FileEntry, xet_hash: str | None) -> None:
        """Upstream's Xet hash of a non-empty LFS file, for a fill to check."""
        if self.usable and xet_hash and entry.lfs and entry.sha256 and entry.size:
            self._by_sha256.put(entry.sha256, xet_hash)

    def for_entry(self, entry: FileEntry) -> str | None:
        """The announced hash a fill of ``entry`` must check (``None``: nothing to check),
        also one a HEAD of another process or node passed on."""
        if not entry.sha256:
            return None
        announced = self._by_sha256.get(entry.sha256)
        if announced is None and self.usable and entry.lfs:
            announced = self.records.offered_for(entry.sha256)
        return announced

    def offer(self, entry: FileEntry, blob: StoredBlob | None) -> str | None:
        """Upstream's hash of a file not stored yet, to pass on; recorded in the index (once
        per process) so the client's reconstruction finds the blob wherever it lands."""
        if blob is not None or not self.usable or not entry.lfs or not entry.sha256:
            return None
        announced = self._by_sha256.get(entry.sha256)
        if announced is None:  # passed on by another process or node, or never announced
            return self.records.offered_for(entry.sha256)
        if self._offered.get(entry.sha256) != announced:
            self.records.offer(announced, entry.sha256, entry.size, self.clock())
            self._offered.put(entry.sha256, announced)
        return announced

    def offered_blob(self, xet_hash: str) -> StoredBlob | None:
        """The blob a HEAD passed on upstream's ``xet_hash`` for (not stored, maybe no fill)."""
        return self.records.offered_blob(xet_hash) if self.usable else None

    def refused(self, key: str) -> None:
        """A fill found upstream's Xet hash wrong: the next fill of the blob goes plain."""
        self._by_sha256.pop(key)
        self._offered.pop(key)
        self.records.withdraw_offer(key)

    def pending_blob(self, xet_hash: str) -> StoredBlob | None:
        """The blob a running fill will verify to have ``xet_hash`` (for the CAS: a cold
        file's reconstruction, its xorbs read from the fill as the bytes arrive). The fill
        may run in another worker process or node: the index says which blob it fills."""
        for fill in list(self.running.values()):
            if fill.xet_check == xet_hash and fill.blob is None and fill.error is None:
                return StoredBlob(fill.key, "", fill.size)
        return self.records.announced_blob(xet_hash) if self.usable else None


def checked_by(fill: Fill, announced: str) -> str | None:
    """``announced`` if ``fill`` verifies it before its last byte, else ``None``."""
    running = fill.blob is None and fill.error is None
    return announced if running and fill.xet_check == announced else None
