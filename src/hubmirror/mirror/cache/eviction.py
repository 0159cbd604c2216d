"""Which blobs to remove, decided first from index facts; then removed, index before store.

A plan is a frozen value (blobs with sizes and reasons), so ``--dry-run`` shows
exactly what running would do. Executing it removes each blob's index row inside
a transaction and only then unlinks the file: a crash in between leaves a file
the index does not know, which the next fill of that blob adopts or replaces.
Entries (metadata) stay, so a request for an evicted file is a MISS that refills.

What is never removed: a blob a fill holds (``DATA/tmp/<key>.lock``, any
process), and, inside the server, a blob a response is sending (the caller's
``busy`` check). A blob a server in another process is sending is safe anyway:
unlinking an open file leaves the reader its bytes (POSIX), only the name goes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hubmirror.index.queries import BlobRef, BlobUsage, Index
from hubmirror.storage.blobs import BlobStore
from hubmirror.storage.locks import is_locked

log = logging.getLogger(__name__)

ROW_BATCH = 256  # blob rows deleted per transaction before their files are unlinked


@dataclass(frozen=True, slots=True)
class Eviction:
    """One blob to remove, and why."""

    sha256: str
    git_sha1: str
    size: int
    reason: str


@dataclass(frozen=True, slots=True)
class EvictionPlan:
    blobs: tuple[Eviction, ...] = ()

    @property
    def size(self) -> int:
        return sum(b.size for b in self.blobs)

    def __len__(self) -> int:
        return len(self.blobs)


@dataclass
class EvictionCounter:
    """Blobs (and bytes) evicted since start; ``/metrics`` publishes it."""

    count: int = 0
    bytes: int = 0

    def record(self, evicted: Iterable[Eviction]) -> None:
        for blob in evicted:
            self.count += 1
            self.bytes += blob.size


def plan_prune(
    blobs: list[BlobUsage],
    now: float,
    older_than: float | None = None,
    max_size: int | None = None,
    keep: frozenset[str] = frozenset(),
) -> EvictionPlan:
    """Blobs not read for ``older_than`` seconds, then least recently used ones until the
    rest fit in ``max_size`` bytes. Blobs in ``keep`` (being read) count but stay."""
    by_age = sorted(blobs, key=lambda b: (b.sha256 not in keep, b.last_access, b.sha256))
    chosen: list[Eviction] = []
    kept: list[BlobUsage] = []
    for blob in by_age:
        if blob.sha256 in keep:
            kept.append(blob)
        elif older_than is not None and now - blob.last_access > older_than:
            days = (now - blob.last_access) / 86400
            chosen.append(_eviction(blob, f"not read for {days:.1f} days"))
        else:
            kept.append(blob)
    if max_size is not None:
        over = sum(b.size for b in kept) - max_size
        for blob in kept:
            if over <= 0:
                break
            if blob.sha256 in keep:
                continue
            chosen.append(_eviction(blob, f"least recently used, store over {max_size} bytes"))
            over -= blob.size
    return EvictionPlan(tuple(chosen))


def plan_unreferenced(
    blobs: list[BlobUsage], refs: list[BlobRef], removed: Callable[[BlobRef], bool]
) -> EvictionPlan:
    """Blobs every reference of which goes away (``removed``): what ``cache rm`` frees.

    A blob another repo or commit still lists stays; blobs nothing listed before are
    not this plan's business (``prune`` handles them).
    """
    remaining: dict[str, bool] = {}
    for ref in refs:
        remaining[ref.sha256] = remaining.get(ref.sha256, False) or not removed(ref)
    orphaned = {sha for sha, still in remaining.items() if not still}
    return EvictionPlan(
        tuple(
            _eviction(b, "no other repo or commit lists it") for b in blobs if b.sha256 in orphaned
        )
    )


def _eviction(blob: BlobUsage, reason: str) -> Eviction:
    return Eviction(blob.sha256, blob.git_sha1, blob.size, reason)


def fill_running(store: BlobStore, blob: Eviction) -> bool:
    """Whether a fill of this blob (by sha256, or git sha1 for regular files) holds its lock."""
    keys = [blob.sha256] + ([f"git-{blob.git_sha1}"] if blob.git_sha1 else [])
    return any(_locked(store.fill_paths(key).lock) for key in keys)


def _locked(path) -> bool:
    return path.exists() and is_locked(path)


@dataclass
class Removal:
    """What an executed plan removed, and what it left because it was in use."""

    removed: list[Eviction] = field(default_factory=list)
    skipped: list[Eviction] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(b.size for b in self.removed)


def drop_rows(
    plan: EvictionPlan,
    index: Index,
    busy: Callable[[Eviction], bool],
    also: Callable[[], None] | None = None,
) -> Removal:
    """Delete the index rows of every planned blob not ``busy``, in batched transactions.

    ``also`` runs inside the first transaction (``cache rm`` drops the repo's rows there,
    so its entries and its blobs disappear together). Unlink the files afterwards.
    """
    removal = Removal()
    for blob in plan.blobs:
        (removal.skipped if busy(blob) else removal.removed).append(blob)
    batches = [
        removal.removed[i : i + ROW_BATCH] for i in range(0, len(removal.removed), ROW_BATCH)
    ]
    for number, batch in enumerate(batches or [[]]):
        with index.atomic():
            if number == 0 and also is not None:
                also()
            index.delete_blobs([b.sha256 for b in batch])
    return removal


def unlink(removal: Removal, store: BlobStore) -> None:
    """Remove the files of blobs whose rows are gone (blocking: run it off the event loop)."""
    for blob in removal.removed:
        store.remove(blob.sha256)
        log.debug("evicted %s (%d bytes): %s", blob.sha256, blob.size, blob.reason)


def execute(
    plan: EvictionPlan,
    index: Index,
    store: BlobStore,
    busy: Callable[[Eviction], bool] | None = None,
    also: Callable[[], None] | None = None,
) -> Removal:
    """Remove a plan's blobs, rows first then files, skipping those a fill holds."""
    removal = drop_rows(plan, index, busy or (lambda blob: fill_running(store, blob)), also)
    unlink(removal, store)
    return removal
