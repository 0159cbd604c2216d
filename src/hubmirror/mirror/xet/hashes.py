"""Xet hashes of stored blobs, computed by this mirror from its own verified bytes.

A Xet client publishes what it downloads into a cache shared across repos, keyed by
the Xet hash it was told, unchecked: a wrong hash would poison that cache. So for a
stored blob the mirror never passes on upstream's hash (a cold file's is passed on only
while its fill checks it, ``announce``); it hashes each stored blob itself with
``hf_xet`` (in a worker thread: about 2.5 s per GB of CPU) and advertises a hash
only once it is recorded. Until then the file is served plain, as without Xet.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from hubmirror.hub import payloads
from hubmirror.index.queries import Index, StoredBlob
from hubmirror.mirror.lru import LRU
from hubmirror.progress import Progress
from hubmirror.storage.blobs import BlobStore
from hubmirror.types import FileEntry

log = logging.getLogger("hubmirror.xet")

KNOWN_CACHE_SIZE = 200_000
LISTING_CACHE_BYTES = 32 * 1024 * 1024
LISTING_TTL = 60.0  # seconds a rewritten listing is reused (other nodes may hash meanwhile)
AT_ONCE = 2  # blobs hashed at the same time: the rest wait, fills keep their threads


class XetHashes:
    """Which stored blob has which Xet hash, and the computations still running."""

    def __init__(
        self,
        index: Index,
        store: BlobStore,
        clock: Callable[[], float],
        enabled: bool,
        reading: Callable[[str], contextlib.AbstractContextManager] | None = None,
    ) -> None:
        """``reading``: marks a blob as being read while it is hashed, so no eviction
        takes it meanwhile (the quota's; commands without a server have none)."""
        self.index = index
        self.store = store
        self.clock = clock
        self.enabled = enabled
        self.reading = reading or _not_guarded
        self.running: set[str] = set()  # sha256 of blobs being hashed now
        self.generation = 0  # bumped per recorded hash: rewritten listings may be stale
        self._known: LRU[str, str] = LRU(KNOWN_CACHE_SIZE)
        self._listings: LRU[bytes, tuple[int, float, bytes]] = LRU(
            LISTING_CACHE_BYTES, weigh=lambda v: len(v[2])
        )
        self._tasks: set[asyncio.Task] = set()
        self._slots: asyncio.Semaphore | None = None
        self._hf_xet: Any = None
        self._missing = False  # hf_xet could not be imported: nothing is advertised

    def hash_of(self, blob: StoredBlob | None) -> str | None:
        """The recorded Xet hash of ``blob``; an unknown one is computed in the background."""
        if not self.enabled or blob is None or blob.size == 0 or self._module() is None:
            return None
        known = self._known.get(blob.sha256)
        if known is None:
            known = self.index.xet.xet_hash_of(blob.sha256)
            if known is None:
                self.compute(blob)
                return None
            self._known.put(blob.sha256, known)
        return known

    def compute(self, blob: StoredBlob) -> None:
        """Hash ``blob`` in the background, once, when its bytes are on this disk."""
        if not self.enabled or blob.size == 0 or blob.sha256 in self.running:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # a command without an event loop: a later resolve does it
            return
        if self._module() is None or self._known.get(blob.sha256) is not None:
            return
        if not self.store.has(blob.sha256):
            return  # only in the object store: hashed when a fill brings it to this disk
        self.running.add(blob.sha256)
        task = asyncio.create_task(self._compute(blob))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _compute(self, blob: StoredBlob) -> None:
        try:
            if self._slots is None:
                self._slots = asyncio.Semaphore(AT_ONCE)
            async with self._slots:
                if self.index.xet.xet_hash_of(blob.sha256) is None:
                    await self._hash_and_record(blob)
        except Exception as exc:  # noqa: BLE001 - served plain; the next resolve retries
            log.warning("could not compute the Xet hash of %s: %s", blob.sha256, exc)
        finally:
            self.running.discard(blob.sha256)

    async def _hash_and_record(self, blob: StoredBlob) -> None:
        path = self.store.path_for(blob.sha256)
        with self.reading(blob.sha256):  # the quota and local tier leave it alone meanwhile
            info = await asyncio.to_thread(_hash_file, self._hf_xet, path)
        if info.file_size != blob.size:
            raise ValueError(f"hashed {info.file_size} bytes, the blob has {blob.size}")
        self.index.xet.put(blob.sha256, info.hash, self.clock())
        self._known.put(blob.sha256, info.hash)
        self.generation += 1
        log.debug("Xet hash of %s is %s", blob.sha256, info.hash)

    def file_hasher(self) -> Callable[[Path], str] | None:
        """What a fill checks upstream's announced Xet hash with (in a worker thread):
        ``None`` when xet_serve is off or hf_xet is missing, and then nothing unverified is
        ever advertised."""
        hf_xet = self._module() if self.enabled else None
        if hf_xet is None:
            return None
        return lambda path: _hash_file(hf_xet, path).hash

    def _module(self) -> Any:
        """``hf_xet``, imported on first use; missing, Xet is logged once and not advertised."""
        if self._hf_xet is None and not self._missing:
            try:
                self._hf_xet = importlib.import_module("hf_xet")
            except ImportError:
                self._missing = True
                log.warning("xet_serve is on but hf_xet is not installed: Xet is not advertised")
        return self._hf_xet

    def listing(self, body: bytes, blob_for: Callable[[FileEntry], StoredBlob | None]) -> bytes:
        """A tree or paths-info body with ``xetHash`` on every file whose hash is known."""
        cached = self._listings.get(body)
        now = time.monotonic()
        if cached and cached[0] == self.generation and now - cached[1] < LISTING_TTL:
            return cached[2]
        try:
            items = json.loads(body)
        except ValueError:
            return body
        if isinstance(items, list):
            items = [self._with_hash(item, blob_for) for item in items]
        rewritten = json.dumps(items, separators=(",", ":")).encode()
        self._listings.put(body, (self.generation, now, rewritten))
        return rewritten

    def _with_hash(self, item: Any, blob_for: Callable[[FileEntry], StoredBlob | None]) -> Any:
        entry = payloads.entry_from_tree_item(item)
        if entry is None or entry.size == 0 or not entry.lfs:  # as on the Hub: LFS files only
            return item
        xet_hash = self.hash_of(blob_for(entry))
        return item if xet_hash is None else item | {"xetHash": xet_hash}

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def hash_stored_blobs(index: Index, store: BlobStore, clock, progress: Progress) -> int:
    """Record the Xet hash of every stored LFS blob that has none; how many were hashed.

    Imports and syncs hash what they brought before they end, so the first client of an
    imported (or just synced) file is told its Xet hash: huggingface_hub downloads files
    above 50 GB only through Xet, and a background hash of one takes minutes. Files are
    hashed ``AT_ONCE`` at a time, in threads; the index is written from this thread.
    """
    try:
        hf_xet = importlib.import_module("hf_xet")
    except ImportError:
        progress.note("hf_xet is not installed: no Xet hashes (clients download plain)")
        return 0
    blobs = [b for b in index.xet.unhashed_lfs_blobs() if store.has(b.sha256)]
    if not blobs:
        return 0
    progress.note(f"computing the Xet hashes of {len(blobs)} file(s), ~2.5 s per GB")
    progress.add_total(sum(b.size for b in blobs), len(blobs))
    with ThreadPoolExecutor(AT_ONCE) as pool:
        paths = [store.path_for(b.sha256) for b in blobs]
        for blob, info in zip(blobs, pool.map(partial(_hash_file, hf_xet), paths), strict=True):
            if info.file_size == blob.size:
                index.xet.put(blob.sha256, info.hash, clock())
            progress.advance(blob.size)
            progress.file_done()
    return len(blobs)


def _hash_file(hf_xet: Any, path: Path) -> Any:
    """One file's ``PyXetUploadInfo`` (``.hash``, ``.file_size``); runs in a worker thread."""
    return hf_xet.hash_files([str(path)])[0]


@contextlib.contextmanager
def _not_guarded(_key: str):
    yield
