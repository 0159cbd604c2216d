"""What the store holds, per repo and in total, and whether its bytes are still right.

A blob shared by several repos (the same ``.gitattributes``, the same weights
under two names) is counted for each repo that lists it, but once in totals:
the sum of the repo sizes can exceed the store's size.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hubmirror.index.queries import BlobUsage, Index
from hubmirror.storage.blobs import BlobStore
from hubmirror.types import RepoId

READ_CHUNK = 1024 * 1024


@dataclass
class RepoUsage:
    """One cached repo: its revisions, files listed, blobs stored and their bytes."""

    repo: RepoId
    revisions: dict[str, str] = field(default_factory=dict)  # revision -> commit
    files: int = 0  # entries listed (one per commit and path)
    blobs: set[str] = field(default_factory=set)  # stored blobs any of its commits lists
    size: int = 0
    last_access: float | None = None

    def add_blob(self, blob: BlobUsage) -> None:
        if blob.sha256 in self.blobs:
            return
        self.blobs.add(blob.sha256)
        self.size += blob.size
        if self.last_access is None or blob.last_access > self.last_access:
            self.last_access = blob.last_access


@dataclass(frozen=True)
class StoreUsage:
    repos: list[RepoUsage]
    blobs: int
    size: int
    unlisted_blobs: int  # stored blobs no entry lists (their repo was removed)
    unlisted_size: int
    by_type: dict[str, tuple[int, int]]  # repo type -> blobs, bytes (each blob once per type)


def _by_type(repos: list[RepoUsage], blobs: dict[str, BlobUsage]) -> dict[str, tuple[int, int]]:
    kinds: dict[str, set[str]] = {}
    for repo in repos:
        kinds.setdefault(repo.repo.repo_type.value, set()).update(repo.blobs)
    return {
        kind: (len(shas), sum(blobs[sha].size for sha in shas))
        for kind, shas in sorted(kinds.items())
    }


def store_usage(index: Index) -> StoreUsage:
    """Every repo's usage and the store's totals, from the index alone (no disk walk)."""
    blobs = {b.sha256: b for b in index.blob_usage()}
    repos: dict[RepoId, RepoUsage] = {}
    for repo, revision, commit in index.all_revisions():
        repos.setdefault(repo, RepoUsage(repo)).revisions[revision] = commit
    for repo, count in index.entry_counts().items():
        repos.setdefault(repo, RepoUsage(repo)).files = count
    listed: set[str] = set()
    for ref in index.blob_refs():
        repos.setdefault(ref.repo, RepoUsage(ref.repo)).add_blob(blobs[ref.sha256])
        listed.add(ref.sha256)
    unlisted = [b for sha, b in blobs.items() if sha not in listed]
    return StoreUsage(
        repos=list(repos.values()),
        by_type=_by_type(list(repos.values()), blobs),
        blobs=len(blobs),
        size=sum(b.size for b in blobs.values()),
        unlisted_blobs=len(unlisted),
        unlisted_size=sum(b.size for b in unlisted),
    )


def blobs_of(index: Index, repo: RepoId | None) -> list[BlobUsage]:
    """Every stored blob, or those ``repo`` lists."""
    blobs = index.blob_usage()
    if repo is None:
        return blobs
    wanted = {ref.sha256 for ref in index.blob_refs() if ref.repo == repo}
    return [b for b in blobs if b.sha256 in wanted]


# verification ------------------------------------------------------------------
def check_blob(path: Path, blob: BlobUsage, advance: Callable[[int], None]) -> str | None:
    """What is wrong with a stored blob's bytes (rehashed), or ``None`` when they are right."""
    sha256 = hashlib.sha256()
    sha1 = hashlib.sha1(b"blob %d\0" % blob.size) if blob.git_sha1 else None
    size = 0
    try:
        with open(path, "rb") as file:
            while chunk := file.read(READ_CHUNK):
                sha256.update(chunk)
                if sha1 is not None:
                    sha1.update(chunk)
                size += len(chunk)
                advance(len(chunk))
    except FileNotFoundError:
        return "file missing"
    if size != blob.size:
        return f"size {size}, expected {blob.size}"
    if sha256.hexdigest() != blob.sha256:
        return f"sha256 {sha256.hexdigest()}, expected {blob.sha256}"
    if sha1 is not None and sha1.hexdigest() != blob.git_sha1:
        return f"git sha1 {sha1.hexdigest()}, expected {blob.git_sha1}"
    return None


def quarantine(index: Index, store: BlobStore, blob: BlobUsage, folder: Path) -> Path | None:
    """Forget a corrupt blob (the next request refetches it), then move its file aside.

    Row first, as in eviction: a crash between the two leaves a file the index does not
    list, never a row pointing at bad bytes. Returns where the file went, if it existed.
    """
    with index.atomic():
        index.delete_blobs([blob.sha256])
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / blob.sha256
    try:
        os.replace(store.path_for(blob.sha256), target)  # same filesystem: a rename
    except FileNotFoundError:
        return None
    return target
