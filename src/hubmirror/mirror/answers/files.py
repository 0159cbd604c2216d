"""Answers to ``/resolve/``: a file's commit, its entry, and the stored blob if any.

The index knows every entry and blob; memory keeps the hot ones in front of it
(entries by repo, commit and path; blobs by sha256 or etag; whole HIT answers with
their headers built once; the bytes of small blobs), so a warm request costs no
query. Upstream is asked, through ``Metadata``, only when the index cannot answer
or the caller may not have its answer; in an outage a stale answer is served.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hubmirror.errors import EntryNotFound, UpstreamUnavailable
from hubmirror.hub.headers import CacheStatus, file_headers
from hubmirror.index.queries import Index, StoredBlob
from hubmirror.mirror.access.callers import token_fingerprint
from hubmirror.mirror.access.policy import AccessPolicy
from hubmirror.mirror.answers import offline
from hubmirror.mirror.answers.bounds import RowBounds
from hubmirror.mirror.answers.metadata import Metadata
from hubmirror.mirror.answers.revisions import Revisions
from hubmirror.mirror.answers.snapshots import Snapshots
from hubmirror.mirror.cache.eviction import Eviction
from hubmirror.mirror.fills.shared import Shared
from hubmirror.mirror.lru import LRU
from hubmirror.mirror.xet.announce import XetAnnouncements
from hubmirror.storage.blobs import BlobStore
from hubmirror.types import FileEntry, FileRef, RepoId
from hubmirror.upstream.client import FileMetadata

_MISSING = "missing"  # entry cache value for a path upstream confirmed absent
ENTRY_CACHE_SIZE = 200_000
MISSES_MEMORY = 4 * 1024 * 1024  # bytes of paths of misses kept in memory (made-up paths)
SMALL_FILE_MAX = 1024 * 1024  # blobs up to this size are served from memory once read
SMALL_FILE_CACHE = 128 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FileAnswer:
    """Everything a ``/resolve/`` response needs: commit, entry, and the blob if stored."""

    repo: RepoId
    commit: str
    entry: FileEntry
    blob: StoredBlob | None
    blob_path: Path | None
    status: CacheStatus
    headers: dict[str, str]  # the response's metadata headers, built once per answer
    head_headers: dict[str, str]  # the same plus Content-Length, for HEAD


class FileAnswers:
    """The files the mirror knows, in memory over the index, and the answers built of them."""

    def __init__(
        self,
        *,
        index: Index,
        store: BlobStore,
        shared: Shared | None,
        revisions: Revisions,
        snapshots: Snapshots,
        access: AccessPolicy,
        metadata: Metadata,
        announced: XetAnnouncements,
        clock: Callable[[], float],
        bounds: RowBounds,
    ) -> None:
        self.index = index
        self.bounds = bounds  # remembered misses are kept to a number of rows
        self.store = store
        self.shared = shared
        self.revisions = revisions
        self.snapshots = snapshots
        self.access = access
        self.metadata = metadata
        self.announced = announced
        self.clock = clock
        self._entries: LRU[tuple[str, str, str], FileEntry] = LRU(ENTRY_CACHE_SIZE)
        self._misses: LRU[tuple[str, str, str], int] = LRU(MISSES_MEMORY, weigh=lambda n: n)
        self._blobs: LRU[str, StoredBlob] = LRU(ENTRY_CACHE_SIZE)
        self._small: LRU[str, bytes] = LRU(SMALL_FILE_CACHE, weigh=len)
        self._hits: LRU[tuple[str, str, str], FileAnswer] = LRU(ENTRY_CACHE_SIZE)

    def fresh_file(self, ref: FileRef, auth: str | None) -> FileAnswer | None:
        """The answer from memory/index alone, when it is fresh and this caller may have it.

        Synchronous on purpose: the warm path (a HEAD of a popular file) then costs no
        coroutine at all. ``None`` means "ask ``file``".
        """
        visibility = self.access.known_visibility(ref.repo)
        if visibility is None or not self.access.may_use_cache(ref.repo, visibility, auth):
            return None
        commit = self.revisions.fresh_commit(ref.repo, ref.revision)
        return self._cached_file(ref.repo, commit, ref.path.value)

    async def file(self, ref: FileRef, auth: str | None) -> FileAnswer:
        """Commit, metadata and cache state of one file, asking upstream only when needed."""
        visibility = await self.metadata.visibility(ref.repo)  # "unknown" when offline
        trusted = self.access.may_use_cache(ref.repo, visibility, auth)

        def lacking() -> str:
            if not trusted and self._stale_file(ref):  # held, but not for this caller
                return offline.CONFIRMATION.format(repo=ref.repo)
            return f"{ref.path} of {ref.repo} at {ref.revision}"

        with offline.naming(lacking):
            return await self._file(ref, auth, visibility, trusted)

    async def _file(
        self, ref: FileRef, auth: str | None, visibility: str, trusted: bool
    ) -> FileAnswer:
        if trusted:
            commit = self.revisions.fresh_commit(ref.repo, ref.revision)
            cached = self._cached_file(ref.repo, commit, ref.path.value)
            if cached:
                return cached
        in_outage = self.access.trusted_in_outage(ref.repo, visibility, auth, trusted)
        stale = self._stale_file(ref) if in_outage else None
        flight = self.metadata.ask(
            f"head {ref.repo.key} {ref.revision.value} {ref.path.value} {token_fingerprint(auth)}",
            lambda: self._refresh_file(ref, auth),
            lambda: self._answered(ref, visibility, auth),
        )
        absent = in_outage and self._absent_when_stale(ref)
        try:
            meta = await self.metadata.within_deadline(flight, has_fallback=bool(stale or absent))
        except UpstreamUnavailable:
            if stale:
                return stale
            if absent:
                raise absent from None
            raise
        return self._answer(ref.repo, meta.commit, meta.entry)

    def _answered(self, ref: FileRef, visibility: str, auth: str | None) -> FileMetadata | None:
        """What another process asked upstream about ``ref`` and stored, if this caller may
        have it (a miss upstream confirmed raises ``EntryNotFound``)."""
        if not self.access.may_use_cache(ref.repo, visibility, auth):
            return None
        commit = self.revisions.fresh_commit(ref.repo, ref.revision)
        cached = self._cached_file(ref.repo, commit, ref.path.value)
        return FileMetadata(cached.commit, cached.entry) if cached else None

    def _absent_when_stale(self, ref: FileRef) -> EntryNotFound | None:
        """The answer for a path the last known snapshot does not list, should upstream fail."""
        commit = self.revisions.last_known_commit(ref.repo, ref.revision)
        if commit and self.snapshots.absent(ref.repo, commit, ref.path.value):
            return EntryNotFound(f"{ref.path} does not exist at {commit}", commit=commit)
        return None

    async def _refresh_file(self, ref: FileRef, auth: str | None):
        """Ask upstream about one file and record the answer (also when nobody waits any more)."""
        try:
            meta = await self.metadata.call(
                lambda c: c.file_metadata(ref.repo, ref.revision.value, ref.path.value, auth)
            )
        except EntryNotFound as exc:
            self._remember_missing(ref, exc)
            raise
        self.revisions.remember(ref.repo, ref.revision, meta.commit)
        self.remember_entries(ref.repo, meta.commit, [meta.entry])
        self.access.confirm(ref.repo, auth)
        self.announced.remember(meta.entry, meta.xet_hash)
        # in the index before another process reads this answer: its responses pass it on too
        self.announced.offer(meta.entry, self.blob_for(meta.entry))
        return meta

    def _cached_file(self, repo: RepoId, commit: str | None, path: str) -> FileAnswer | None:
        if commit is None:
            return None
        hot = self._hits.get((repo.key, commit, path))
        if hot is not None:
            return hot
        entry = self._entry(repo, commit, path)
        if entry == _MISSING or (entry is None and self.snapshots.absent(repo, commit, path)):
            raise EntryNotFound(f"{path} does not exist at {commit}", commit=commit)
        if entry is None:
            return None
        answer = self._answer(repo, commit, entry)
        if answer.blob is not None:
            self._hits.put((repo.key, commit, path), answer)
        return answer

    def _entry(self, repo: RepoId, commit: str, path: str) -> FileEntry | str | None:
        """An entry (or ``_MISSING``) from memory, else from the index."""
        key = (repo.key, commit, path)
        entry = self._entries.get(key) or (_MISSING if self._misses.get(key) else None)
        if entry is None:
            if self.index.is_missing(repo, commit, path):
                entry = _MISSING
                self._misses.put(key, len(path) + 64)
            else:
                entry = self.index.get_entry(repo, commit, path)
                if entry is not None:
                    self._entries.put(key, entry)
        return entry

    def remember_entries(self, repo: RepoId, commit: str, entries: list[FileEntry]) -> None:
        """Entries upstream listed at ``commit``: later HEADs there are answered locally."""
        self.index.put_entries(repo, commit, entries)
        for entry in entries:
            self._entries.put((repo.key, commit, entry.path), entry)

    def _stale_file(self, ref: FileRef) -> FileAnswer | None:
        commit = self.revisions.last_known_commit(ref.repo, ref.revision)
        try:
            answer = self._cached_file(ref.repo, commit, ref.path.value)
        except EntryNotFound:
            return None
        if answer is None or answer.blob is None:
            return None
        return _file_answer(
            answer.repo,
            answer.commit,
            answer.entry,
            answer.blob,
            answer.blob_path,
            CacheStatus.STALE,
        )

    def without_blob(self, answer: FileAnswer) -> FileAnswer:
        """The same answer once its blob file turned out to be gone: a MISS to refill."""
        if answer.blob is not None and self.shared is not None:
            # Gone from this disk only (the local tier let it go): the store has it.
            self._small.pop(answer.blob.sha256)
            self._hits = LRU(ENTRY_CACHE_SIZE)
            return _file_answer(answer.repo, answer.commit, answer.entry, answer.blob, None)
        if answer.blob is not None:
            self.forget_blob(answer.entry, answer.blob)
        return _file_answer(answer.repo, answer.commit, answer.entry, None, None)

    def _answer(self, repo: RepoId, commit: str, entry: FileEntry) -> FileAnswer:
        blob = self.blob_for(entry)
        local = blob is not None and not self.streams_from_store
        path = self.store.path_for(blob.sha256) if local else None
        return _file_answer(repo, commit, entry, blob, path)

    @property
    def streams_from_store(self) -> bool:
        """No local tier: stored blobs are sent straight from the object store."""
        return self.shared is not None and self.shared.tier.limit == 0

    def blob_for(self, entry: FileEntry) -> StoredBlob | None:
        """The stored blob of ``entry``, from memory, else from the index."""
        key = entry.sha256 or entry.etag
        blob = self._blobs.get(key)
        if blob is None:
            blob = self.index.blob_for(entry)
            if blob is not None:
                self._blobs.put(key, blob)
        return blob

    def remember_blob(self, entry: FileEntry, blob: StoredBlob) -> None:
        """A fill just stored ``entry``'s bytes: later lookups see it without the index."""
        self._blobs.put(entry.sha256 or entry.etag, blob)

    def forget_blob(self, entry: FileEntry, blob: StoredBlob) -> None:
        """The blob file vanished behind our back: forget it so the next request refills."""
        self._blobs.pop(entry.sha256 or entry.etag)
        self._small.pop(blob.sha256)
        self._hits = LRU(ENTRY_CACHE_SIZE)  # rare: drop every remembered HIT
        self.index.forget_blob(blob.sha256)

    def blobs_evicted(self, evicted: list[Eviction]) -> None:
        """Forget evicted blobs in memory too, so the next request is a MISS that refills."""
        for blob in evicted:
            self._blobs.pop(blob.sha256)
            self._blobs.pop(blob.git_sha1)
            self._small.pop(blob.sha256)
        if evicted:
            self._hits = LRU(ENTRY_CACHE_SIZE)

    def small_body(self, answer: FileAnswer) -> bytes | None:
        """A small stored blob's bytes from memory (read once), or ``None`` for large ones."""
        blob = answer.blob
        if blob is None or blob.size > SMALL_FILE_MAX or answer.blob_path is None:
            return None
        data = self._small.get(blob.sha256)
        if data is None:
            data = answer.blob_path.read_bytes()
            if len(data) != blob.size:
                raise FileNotFoundError(answer.blob_path)
            self._small.put(blob.sha256, data)
        return data

    def _remember_missing(self, ref: FileRef, exc: EntryNotFound) -> None:
        """A miss at a commit upstream named is final; remember it as clients do."""
        if exc.commit:
            self.revisions.remember(ref.repo, ref.revision, exc.commit)
        if exc.commit and self.bounds.keeps_miss(ref.path.value):
            self.index.put_missing(ref.repo, exc.commit, ref.path.value, self.clock())
            self.bounds.wrote("missing_entries")
            self._misses.put((ref.repo.key, exc.commit, ref.path.value), len(ref.path.value) + 64)


def _file_answer(
    repo: RepoId,
    commit: str,
    entry: FileEntry,
    blob: StoredBlob | None,
    path: Path | None,
    status: CacheStatus | None = None,
) -> FileAnswer:
    status = status or (CacheStatus.HIT if blob else CacheStatus.MISS)
    headers = file_headers(commit, entry, status)
    head_headers = headers | {"Content-Length": str(entry.size)}
    return FileAnswer(repo, commit, entry, blob, path, status, headers, head_headers)
