"""``import-hf-cache``: what anyone already downloaded becomes available to the whole team.

A personal huggingface_hub cache is not verified the way a fill is (files may have
been edited, truncated or half-written by a crashed download), so every blob is
re-hashed while it is copied into the store and kept only when its bytes match its
name: a 64-hex name is the sha256, a 40-hex name the git blob sha1. Bytes are
copied, never hard-linked: the user may edit or delete their cache later, and the
store's bytes must not change under the mirror.

Only what the cache tells is recorded: file entries at each snapshot commit (all of
them when ``trees/<commit>.json`` lists the commit), branches and tags from
``refs/``, and files upstream said do not exist (``.no_exist``). Repo info, gated or
private status and folder listings are not in a cache; the report says so and the
mirror asks upstream for them.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from hubmirror.errors import IntegrityError, InvalidInput
from hubmirror.index.queries import Index, StoredBlob
from hubmirror.progress import NoProgress, Progress, human_bytes
from hubmirror.storage.blobs import BlobStore
from hubmirror.storage.hfcache import (
    CachedRepo,
    CachedSnapshot,
    is_blob_id,
    is_file_path,
    scan_cache,
)
from hubmirror.storage.locks import FileLock
from hubmirror.storage.writer import BlobWriter, Expected
from hubmirror.types import FileEntry, RepoId, Revision, is_digest

CHUNK = 1024 * 1024


@dataclass
class RepoImport:
    """What one repo of the cache gave the store, and what it could not give."""

    repo: RepoId
    snapshots: int = 0
    files: int = 0  # entries whose bytes are in the store now
    listed_only: int = 0  # entries known from trees/*.json whose bytes were not cached
    copied_blobs: int = 0
    copied_bytes: int = 0
    duplicates: int = 0  # blobs the store already held: not copied again
    revisions: int = 0
    missing: int = 0  # .no_exist markers recorded
    corrupt: list[str] = field(default_factory=list)  # never stored
    skipped: list[str] = field(default_factory=list)  # broken links, unverifiable files
    unknown: list[str] = field(default_factory=list)  # what a cache cannot tell

    def __str__(self) -> str:
        head = (
            f"{self.repo.repo_type.plural}/{self.repo.name}: {self.snapshots} snapshot(s), "
            f"{self.files} file(s) imported ({self.copied_blobs} blob(s), "
            f"{human_bytes(self.copied_bytes)} copied; {self.duplicates} duplicate(s) "
            f"already stored), {self.listed_only} listed without bytes, "
            f"{self.revisions} revision(s), {self.missing} missing-file marker(s)"
        )
        lines = [head]
        lines += [f"  corrupt, skipped: {line}" for line in self.corrupt]
        lines += [f"  skipped: {line}" for line in self.skipped]
        lines += [f"  not known from this cache: {line}" for line in self.unknown]
        return "\n".join(lines)


@dataclass
class ImportReport:
    root: Path
    repos: list[RepoImport]
    absent: list[RepoId] = field(default_factory=list)  # asked for, not in the cache

    @property
    def corrupt(self) -> bool:
        return any(r.corrupt for r in self.repos)

    def __str__(self) -> str:
        lines = [str(r) for r in self.repos]
        lines += [f"{r.repo_type.plural}/{r.name}: not in {self.root}" for r in self.absent]
        if not self.repos and not self.absent:
            lines.append(f"no huggingface_hub repos found in {self.root}")
        return "\n".join(lines)


def import_cache(
    index: Index,
    blobs: BlobStore,
    root: Path,
    only: set[RepoId] | None = None,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.time,
    *,
    public: bool = False,
) -> ImportReport:
    """Copy and verify every blob of the cache at ``root`` (or of ``only``'s repos), then
    record each repo's entries, revisions and missing files in one transaction.

    ``public`` is the operator's word that the repos are public (the cache cannot
    tell): an offline mirror then serves them without first asking upstream.
    """
    store = _Store(index, blobs, progress or NoProgress(), public)
    cached = [r for r in scan_cache(root) if only is None or r.repo in only]
    absent = sorted(only - {r.repo for r in cached}, key=lambda r: r.key) if only else []
    sources = [_blob_sources(r) for r in cached]
    store.progress.add_total(
        sum(_size(f) for s in sources for f in s.values()), sum(len(s) for s in sources)
    )
    repos = [
        _import_repo(store, repo, found, clock())
        for repo, found in zip(cached, sources, strict=True)
    ]
    return ImportReport(root, repos, absent)


@dataclass(frozen=True)
class _Store:
    """Where an import writes, and whom it tells how far it got."""

    index: Index
    blobs: BlobStore
    progress: Progress
    public: bool = False


def _import_repo(
    store: _Store, cached: CachedRepo, sources: dict[str, Path], now: float
) -> RepoImport:
    """Blobs first, rows after: a row never names bytes that are not in the store."""
    result = RepoImport(cached.repo, snapshots=len(cached.snapshots))
    stored = _store_blobs(store, sources, result)
    entries = {c: _entries(s, stored, result) for c, s in cached.snapshots.items()}
    index = store.index
    with index.atomic():
        for blob in stored.values():
            index.put_blob(blob, now)
        for commit, found in entries.items():
            index.put_entries(cached.repo, commit, found)
        result.missing = _record_missing(index, cached, entries, now)
        result.revisions = _record_refs(index, cached)
        declared = store.public and index.get_visibility(cached.repo) is None
        if declared:
            index.put_visibility(cached.repo, "public", now)
    result.skipped += _unverifiable(cached)
    result.unknown = _unknowns(cached, declared)
    return result


# blobs ------------------------------------------------------------------------
def _blob_sources(cached: CachedRepo) -> dict[str, Path]:
    """Each blob name of the repo once, with the file holding its bytes."""
    sources: dict[str, Path] = {}
    for snapshot in cached.snapshots.values():
        for path, name in _blob_names(snapshot).items():
            sources.setdefault(name, snapshot.files[path])
    return sources


def _blob_names(snapshot: CachedSnapshot) -> dict[str, str]:
    """Repo path → blob name: the link's target, or (a copied file) what the listing says."""
    names = dict(snapshot.blob_ids)
    for path in snapshot.files.keys() - names.keys():
        info = (snapshot.tree or {}).get(path)
        name = (info.get("lfs_sha256") or info.get("blob_id")) if isinstance(info, dict) else None
        if isinstance(name, str) and is_blob_id(name):
            names[path] = name
    return names


def _store_blobs(
    store: _Store, sources: dict[str, Path], result: RepoImport
) -> dict[str, StoredBlob]:
    stored = {}
    for name, source in sources.items():
        try:
            blob, copied = _ingest(store, name, source)
        except (IntegrityError, OSError) as exc:
            result.corrupt.append(f"blobs/{name}: {_reason(exc)}")
            continue
        finally:
            store.progress.file_done()
        stored[name] = blob
        if copied:
            result.copied_blobs += 1
            result.copied_bytes += blob.size
        else:
            result.duplicates += 1
    return stored


def _ingest(store: _Store, name: str, source: Path) -> tuple[StoredBlob, bool]:
    """The stored blob named ``name``; copied (True) unless the store already holds it."""
    known = store.index.blob_by_id(name)
    if known is not None and store.blobs.has(known.sha256):
        store.progress.advance(known.size)
        return known, False
    return copy_verified(store.blobs, name, source, store.progress), True


def copy_verified(
    blobs: BlobStore, name: str, source: Path, progress: Progress | None = None
) -> StoredBlob:
    """Copy ``source`` into the store while hashing it; only bytes matching ``name`` land.

    The temp file is held under a lock like a fill's, so a server starting meanwhile
    does not sweep it away.
    """
    paths = blobs.fill_paths(f"import-{os.getpid()}-{name}")
    lock = FileLock.try_acquire(paths.lock)
    try:
        with open(source, "rb") as src:
            size = os.fstat(src.fileno()).st_size
            lfs = is_digest(name)
            expected = Expected(size, sha256=name) if lfs else Expected(size, git_sha1=name)
            writer = BlobWriter(paths.part, expected)
            try:
                git_sha1 = _pump(src, writer, size, progress or NoProgress())
                verified = writer.finish()
            except BaseException:
                writer.discard()
                raise
        blobs.commit(paths.part, verified.sha256)
        return StoredBlob(verified.sha256, verified.git_sha1 or git_sha1, verified.size)
    finally:
        if lock is not None:
            lock.release()


def _pump(src: BinaryIO, writer: BlobWriter, size: int, progress: Progress) -> str:
    """Copy ``size`` bytes into ``writer``; returns their git blob sha1 (the writer
    computes it only when it must check it, and the index wants it for every blob)."""
    git = hashlib.sha1(b"blob %d\0" % size)
    offset = 0
    while offset < size:
        chunk = src.read(min(CHUNK, size - offset))
        if not chunk:
            break
        writer.write_at(offset, chunk)
        git.update(chunk)
        offset += len(chunk)
        writer.hash_until(offset)
        progress.advance(len(chunk))
    if offset != size or src.read(1):
        raise IntegrityError(f"the file changed while it was copied ({size} bytes expected)")
    return git.hexdigest()


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"unreadable ({exc.strerror or exc})"
    return str(exc)


# rows -------------------------------------------------------------------------
def _entries(
    snapshot: CachedSnapshot, stored: dict[str, StoredBlob], result: RepoImport
) -> list[FileEntry]:
    """Every file the cache knows at this commit: the listing's, then the stored bytes'."""
    entries = {}
    for path, info in (snapshot.tree or {}).items():
        entry = _listed_entry(path, info)
        if entry is not None:
            entries[path] = entry
    listed = len(entries)
    for path, name in _blob_names(snapshot).items():
        blob = stored.get(name)
        if blob is None or not is_file_path(path):
            continue
        known = entries.get(path)
        if known is not None and known.etag != name:
            result.corrupt.append(
                f"{snapshot.commit[:12]}/{path}: links blob {name}, the listing says {known.etag}"
            )
            continue
        entries[path] = FileEntry(path, blob.size, name, is_digest(name), blob.sha256)
        result.files += 1
        if known is not None:
            listed -= 1
    result.listed_only += listed
    return sorted(entries.values(), key=lambda e: e.path)


def _listed_entry(path: str, info: object) -> FileEntry | None:
    """A ``trees/<commit>.json`` item as an entry (its bytes may not be anywhere)."""
    if not isinstance(info, dict) or not isinstance(info.get("size"), int):
        return None
    if not is_file_path(path):
        return None
    sha256, blob_id = info.get("lfs_sha256"), info.get("blob_id")
    if isinstance(sha256, str) and is_digest(sha256):
        return FileEntry(path, int(info.get("lfs_size") or info["size"]), sha256, True, sha256)
    if isinstance(blob_id, str) and len(blob_id) == 40:
        return FileEntry(path, info["size"], blob_id, False)
    return None


def _record_missing(
    index: Index, cached: CachedRepo, entries: dict[str, list[FileEntry]], now: float
) -> int:
    count = 0
    for commit, snapshot in cached.snapshots.items():
        present = {e.path for e in entries[commit]}
        for path in snapshot.missing:
            if path not in present and is_file_path(path):
                index.put_missing(cached.repo, commit, path, now)
                count += 1
    return count


def _record_refs(index: Index, cached: CachedRepo) -> int:
    """Branches and tags as of when the client last heard them; never over newer news."""
    count = 0
    for revision, commit in cached.refs.items():
        if revision == commit or not _valid_revision(revision):
            continue
        seen = cached.ref_times.get(revision, 0.0)
        known = index.get_commit(cached.repo, revision)
        if known is None or known.fetched_at < seen:
            index.put_commit(cached.repo, revision, commit, seen)
            count += 1
    return count


def _valid_revision(value: str) -> bool:
    try:
        Revision(value)
    except InvalidInput:
        return False
    return True


# the report -------------------------------------------------------------------
def _unverifiable(cached: CachedRepo) -> list[str]:
    lines = []
    for commit, snapshot in cached.snapshots.items():
        names = _blob_names(snapshot)
        lines += [
            f"{commit[:12]}/{path}: not a link to a named blob, cannot be verified"
            for path in sorted(snapshot.files.keys() - names.keys())
        ]
        lines += [f"{commit[:12]}/{path}: broken link" for path in snapshot.broken]
    return lines


def _unknowns(cached: CachedRepo, declared_public: bool = False) -> list[str]:
    access = (
        "gated/private status: declared public by --public"
        if declared_public
        else "repo info and gated/private status: checked upstream when the repo is first "
        "asked for (an offline mirror serves it only once that happened, or after --public)"
    )
    lines = [
        access,
        "folder listings and folder oids: asked upstream, or recorded by 'hubmirror sync'",
    ]
    partial = sorted(c[:12] for c, s in cached.snapshots.items() if s.tree is None)
    if partial:
        lines.append(
            f"complete file list of {len(partial)} commit(s) ({', '.join(partial[:3])}"
            f"{', ...' if len(partial) > 3 else ''}): no trees/<commit>.json, "
            "only the downloaded files are recorded"
        )
    return lines


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
