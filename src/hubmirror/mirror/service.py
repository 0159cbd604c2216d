"""The ``Mirror`` facade: the one place storage, index and upstream meet.

Handlers, the CLI and the dashboard call these methods and nothing below them.
Each method first decides from the index (is it cached, fresh, may this caller
have it?) and only then asks upstream, through one shared flight per question.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from hubmirror.errors import EntryNotFound, UpstreamUnavailable
from hubmirror.hub import payloads
from hubmirror.hub.headers import CacheStatus
from hubmirror.hub.routes import RepoApi, api_path, encode_path, encode_revision
from hubmirror.index.queries import ApiAnswer, Index, StoredBlob
from hubmirror.mirror.access import PUBLIC, AccessPolicy, token_fingerprint
from hubmirror.mirror.fills import Fill, Fills, FillSource
from hubmirror.mirror.flights import Flights
from hubmirror.mirror.revisions import Revisions
from hubmirror.storage.blobs import BlobStore
from hubmirror.types import FileEntry, FileRef, RepoId, Revision
from hubmirror.upstream.pool import UpstreamPool

_FOREVER = float("inf")
_IMMUTABLE_AT_COMMIT = ("tree", "paths-info")


@dataclass(frozen=True, slots=True)
class FileAnswer:
    """Everything a ``/resolve/`` response needs: commit, entry, and the blob if stored."""

    repo: RepoId
    commit: str
    entry: FileEntry
    blob: StoredBlob | None
    blob_path: Path | None
    status: CacheStatus


class Mirror:
    def __init__(
        self,
        *,
        index: Index,
        store: BlobStore,
        pool: UpstreamPool,
        metadata_ttl: float,
        access_ttl: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.index = index
        self.store = store
        self.pool = pool
        self.clock = clock
        self.metadata_ttl = metadata_ttl
        self.revisions = Revisions(index, metadata_ttl, clock)
        self.access = AccessPolicy(index, metadata_ttl, access_ttl, clock)
        self.fills = Fills(store, index, pool, clock)
        self.flights = Flights()
        self._touched: dict[str, float] = {}
        self._last_touch_flush = clock()

    async def close(self) -> None:
        await self.fills.close()
        self.flush_access_times()

    # files -----------------------------------------------------------------
    async def file(self, ref: FileRef, auth: str | None) -> FileAnswer:
        """Commit, metadata and cache state of one file, asking upstream only when needed."""
        visibility = await self._visibility(ref.repo)
        trusted = self.access.may_use_cache(ref.repo, visibility, auth)
        if trusted:
            commit = self.revisions.fresh_commit(ref.repo, ref.revision)
            cached = self._cached_file(ref.repo, commit, ref.path.value)
            if cached:
                return cached
        try:
            meta = await self.flights.run(
                ("head", ref, token_fingerprint(auth)),
                lambda: self.pool.call(
                    lambda c: c.file_metadata(ref.repo, ref.revision.value, ref.path.value, auth)
                ),
            )
        except EntryNotFound as exc:
            self._remember_missing(ref, exc)
            raise
        except UpstreamUnavailable:
            stale = trusted and self._stale_file(ref)
            if stale:
                return stale
            raise
        self.revisions.remember(ref.repo, ref.revision, meta.commit)
        self.index.put_entries(ref.repo, meta.commit, [meta.entry])
        if visibility != PUBLIC:
            self.access.confirm(ref.repo, auth)
        return self._answer(ref.repo, meta.commit, meta.entry, None)

    def start_fill(self, answer: FileAnswer, auth: str | None) -> Fill:
        """Join the running fill of this blob, or start one with this caller's token."""
        return self.fills.start(FillSource(answer.repo, answer.commit, answer.entry, auth))

    @contextlib.asynccontextmanager
    async def upstream_range(
        self, answer: FileAnswer, auth: str | None, start: int, end: int
    ) -> AsyncIterator:
        """A direct ranged read from upstream, for a Range far ahead of a running fill."""
        client = (self.pool.candidates() or self.pool.clients)[0]
        async with client.open_file(
            answer.repo, answer.commit, answer.entry.path, auth, start=start, end=end
        ) as resp:
            yield resp

    def touch(self, blob: StoredBlob) -> None:
        """Note a read for LRU eviction; written to the index in batches."""
        now = self.clock()
        self._touched[blob.sha256] = now
        if len(self._touched) > 1000 or now - self._last_touch_flush > 10:
            self.flush_access_times()

    def flush_access_times(self) -> None:
        if self._touched:
            self.index.touch_blobs(self._touched)
            self._touched = {}
        self._last_touch_flush = self.clock()

    def _cached_file(self, repo: RepoId, commit: str | None, path: str) -> FileAnswer | None:
        if commit is None:
            return None
        if self.index.is_missing(repo, commit, path):
            raise EntryNotFound(f"{path} does not exist at {commit}", commit=commit)
        entry = self.index.get_entry(repo, commit, path)
        if entry is None:
            return None
        return self._answer(repo, commit, entry, CacheStatus.HIT)

    def _stale_file(self, ref: FileRef) -> FileAnswer | None:
        commit = self.revisions.last_known_commit(ref.repo, ref.revision)
        try:
            answer = self._cached_file(ref.repo, commit, ref.path.value)
        except EntryNotFound:
            return None
        if answer is None or answer.blob is None:
            return None
        return replace(answer, status=CacheStatus.STALE)

    def _answer(
        self, repo: RepoId, commit: str, entry: FileEntry, status: CacheStatus | None
    ) -> FileAnswer:
        blob = self.index.blob_for(entry)
        path = self.store.path_for(blob.sha256) if blob else None
        if blob and not path.is_file():
            self.index.forget_blob(blob.sha256)  # removed behind our back: fetch it again
            blob, path = None, None
        status = CacheStatus.HIT if blob else CacheStatus.MISS
        return FileAnswer(repo, commit, entry, blob, path, status)

    def _remember_missing(self, ref: FileRef, exc: EntryNotFound) -> None:
        """A miss at a commit upstream named is final; remember it as clients do."""
        if exc.commit:
            self.revisions.remember(ref.repo, ref.revision, exc.commit)
            self.index.put_missing(ref.repo, exc.commit, ref.path.value, self.clock())

    # API -------------------------------------------------------------------
    async def api(
        self,
        route: RepoApi,
        query: list[tuple[str, str]],
        form: list[tuple[str, str]] | None,
        auth: str | None,
    ) -> ApiAnswer:
        """A JSON API answer, rewritten for clients, from the cache when allowed and fresh."""
        upstream = _upstream_api_path(route) + (("?" + urlencode(query)) if query else "")
        key = upstream + ("" if form is None else "|" + urlencode(sorted(form)))
        visibility = await self._visibility(route.repo)
        trusted = self.access.may_use_cache(route.repo, visibility, auth)
        cached = self.index.get_answer(key)
        if trusted and cached and self.clock() - cached.fetched_at < _ttl(route, self.metadata_ttl):
            return cached
        try:
            fresh = await self.flights.run(
                ("api", key, token_fingerprint(auth)),
                lambda: self.pool.call(lambda c: c.get_json(upstream, auth, form)),
            )
        except UpstreamUnavailable:
            if trusted and cached:
                return cached
            raise
        answer = self._digest(route, fresh.status, fresh.body, fresh.link_next)
        self.index.put_answer(key, route.repo, answer)
        return answer

    def _digest(self, route: RepoApi, status: int, body: bytes, link: str | None) -> ApiAnswer:
        """Strip Xet, learn commits and entries, and keep the next link relative."""
        try:
            data = json.loads(body)
        except ValueError:
            return ApiAnswer(status, body, _relative(link), self.clock())
        data = payloads.strip_xet(data)
        self._learn(route, data)
        encoded = json.dumps(data, separators=(",", ":")).encode()
        return ApiAnswer(status, encoded, _relative(link), self.clock())

    def _learn(self, route: RepoApi, data) -> None:
        if route.action == "revision" and route.revision:
            commit = payloads.commit_of_info(data)
            if commit:
                self.revisions.remember(route.repo, route.revision, commit)
        if route.action in _IMMUTABLE_AT_COMMIT and route.revision and route.revision.is_commit:
            entries = payloads.entries_from_listing(data)
            if entries:
                self.index.put_entries(route.repo, route.revision.value, entries)

    async def _visibility(self, repo: RepoId) -> str:
        async def fetch_info() -> bytes:
            answer = await self.pool.call(lambda c: c.get_json(api_path(repo), None))
            return answer.body

        return await self.flights.run(
            ("visibility", repo.key), lambda: self.access.visibility(repo, fetch_info)
        )


def _upstream_api_path(route: RepoApi) -> str:
    if route.action == "info":
        return api_path(route.repo)
    parts = [route.action]
    if route.revision is not None:
        parts.append(encode_revision(route.revision))
    if route.path is not None and route.path.value:
        parts.append(encode_path(route.path))
    return api_path(route.repo, *parts)


def _ttl(route: RepoApi, metadata_ttl: float) -> float:
    revision: Revision | None = route.revision
    if route.action in _IMMUTABLE_AT_COMMIT and revision is not None and revision.is_commit:
        return _FOREVER
    return metadata_ttl


def _relative(link: str | None) -> str | None:
    """Keep only path and query of an upstream next link; the server adds its own origin."""
    if not link:
        return None
    parts = urlsplit(link)
    return parts.path + (("?" + parts.query) if parts.query else "")
