"""The ``Mirror`` facade: the one place storage, index and upstream meet.

Handlers, the CLI and the dashboard call these methods and nothing below them.
Each method first decides from the index (is it cached, fresh, may this caller
have it?) and only then asks upstream, through one shared flight per question.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlencode

from hubmirror.errors import (
    BlobMissing,
    EntryNotFound,
    RevisionNotFound,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from hubmirror.hub import payloads
from hubmirror.hub.headers import CacheStatus, file_headers
from hubmirror.hub.routes import RepoApi, api_path
from hubmirror.hub.specs import DEFAULT_REVISION
from hubmirror.index.queries import ApiAnswer, Index, StoredBlob
from hubmirror.mirror.access import AccessPolicy
from hubmirror.mirror.admission import REFUSAL_REASONS, AccessRules, Admission, Verdict
from hubmirror.mirror.apianswers import (
    IMMUTABLE_AT_COMMIT,
    grouped_form,
    missing_answer,
    relative_link,
    replay,
    ttl_of,
    upstream_api_path,
)
from hubmirror.mirror.audit import AuditLog, NoAudit
from hubmirror.mirror.callers import Caller, PassThrough, token_fingerprint
from hubmirror.mirror.cluster import default_node_url
from hubmirror.mirror.eviction import Eviction, fill_running
from hubmirror.mirror.fills import Fills
from hubmirror.mirror.fillstate import Fill, FillPlan, FillSource
from hubmirror.mirror.flights import Flights
from hubmirror.mirror.lru import LRU
from hubmirror.mirror.metrics import ServedCounters, StoreTotals
from hubmirror.mirror.quota import Quota
from hubmirror.mirror.revisions import Revisions
from hubmirror.mirror.sharing import Shared
from hubmirror.mirror.snapshots import Snapshots
from hubmirror.mirror.xetannounce import XetAnnouncements
from hubmirror.mirror.xethashes import XetHashes
from hubmirror.storage.blobs import BlobStore
from hubmirror.types import FileEntry, FileRef, RepoId, RepoPath, RepoType, Revision
from hubmirror.upstream.pool import UpstreamPool

T = TypeVar("T")
_MISSING = "missing"  # entry cache value for a path upstream confirmed absent
ENTRY_CACHE_SIZE = 200_000
SMALL_FILE_MAX = 1024 * 1024  # blobs up to this size are served from memory once read
SMALL_FILE_CACHE = 128 * 1024 * 1024
RELAY_CHUNK = 256 * 1024  # bytes relayed per write for a direct ranged read


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
        fill_plan: FillPlan | None = None,
        metadata_deadline: float = 3.0,
        identities=None,
        admission: Admission | None = None,
        offline_access: str = "confirmed-tokens",
        audit: AuditLog | NoAudit | None = None,
        max_size: int = 0,
        shared: Shared | None = None,
        xet_serve: bool = False,
    ) -> None:
        self.metadata_deadline = metadata_deadline
        self.identities = identities or PassThrough()
        self.admission = admission or Admission(AccessRules(), index.access, clock)
        self.index = index
        self.store = store
        self.pool = pool
        self.clock = clock
        self.metadata_ttl = metadata_ttl
        self.revisions = Revisions(index, metadata_ttl, clock)
        self.snapshots = Snapshots(index)
        self.access = AccessPolicy(index, metadata_ttl, access_ttl, clock)
        self.access.offline_access = offline_access
        self.access.is_offline = lambda: self.pool.offline
        self.shared = shared  # object store, local tier, cluster (sharing.py), or None
        self.fills = Fills(
            store, index, pool, clock, on_filled=self.blob_filled, plan=fill_plan, shared=shared
        )
        self.fills.on_shared = self.blob_shared
        self.flights = Flights()
        self.served = ServedCounters()
        self.store_totals = StoreTotals(index)  # blob count and bytes for /metrics
        self.audit = audit or NoAudit()  # downloads and access decisions (audit.py)
        self.readers: Counter[str] = Counter()  # blobs being sent, by sha256 or fill key
        self.quota = Quota(self, max_size)  # evicts LRU blobs above max_size (quota.py)
        self.evictions = self.quota.evictions  # blobs and bytes evicted, for /metrics
        self.admission.on_decision = self._audit_refusal
        self._touched: dict[str, float] = {}
        self._last_touch_flush = clock()
        self._entries: LRU[tuple[str, str, str], FileEntry | str] = LRU(ENTRY_CACHE_SIZE)
        self._blobs: LRU[str, StoredBlob] = LRU(ENTRY_CACHE_SIZE)
        self._small: LRU[str, bytes] = LRU(SMALL_FILE_CACHE, weigh=len)
        self._hits: LRU[tuple[str, str, str], FileAnswer] = LRU(ENTRY_CACHE_SIZE)
        self.xet = XetHashes(index, store, clock, xet_serve)  # hashes advertised (issue 9)
        self.xet.reading = self.reading
        self.announced = XetAnnouncements(self.xet, self.fills)  # cold files' upstream hashes

    def identify(self, address: str, authorization: str | None) -> Caller:
        """Who sent a request: a mirror identity, and the token to forward upstream."""
        return self.identities.identify(address, authorization)

    def admit(self, caller: Caller, repo: RepoId) -> None:
        """Refuse a repo this mirror does not serve, or the caller's mirror token may not read."""
        self.identities.check(caller, repo)
        self.admission.admit(caller, repo)

    def _audit_refusal(self, caller: Caller, repo: RepoId, verdict: Verdict) -> None:
        self.audit.decision(caller, repo, None, None, verdict.value, REFUSAL_REASONS[verdict])

    def readiness(self) -> list[str]:
        """What keeps the mirror from serving: an unusable index or data directory."""
        problems = []
        try:
            self.index.get_visibility(RepoId(RepoType.MODEL, "readyz/probe"))
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            problems.append(f"index: {exc}")
        if not os.access(self.store.tmp, os.W_OK):
            problems.append(f"data directory not writable: {self.store.tmp}")
        return problems

    @property
    def offline(self) -> bool:
        return self.pool.offline

    def set_offline(self, offline: bool) -> None:
        """Stop (or resume) contacting upstream; cached content keeps being served."""
        self.pool.offline = offline

    async def close(self) -> None:
        await self.quota.close()
        await self.fills.close()  # the object store and cluster close after (runtime)
        await self.xet.close()
        self.flush_access_times()
        self.audit.close()

    # files -----------------------------------------------------------------
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
        visibility = await self._visibility(ref.repo)
        trusted = self.access.may_use_cache(ref.repo, visibility, auth)
        if trusted:
            commit = self.revisions.fresh_commit(ref.repo, ref.revision)
            cached = self._cached_file(ref.repo, commit, ref.path.value)
            if cached:
                return cached
        in_outage = self.access.trusted_in_outage(ref.repo, visibility, auth, trusted)
        stale = self._stale_file(ref) if in_outage else None
        flight = self.flights.run(
            ("head", ref, token_fingerprint(auth)), lambda: self._refresh_file(ref, auth)
        )
        absent = in_outage and self._absent_when_stale(ref)
        try:
            meta = await self._within_deadline(flight, has_fallback=bool(stale or absent))
        except UpstreamUnavailable:
            if stale:
                return stale
            if absent:
                raise absent from None
            raise
        return self._answer(ref.repo, meta.commit, meta.entry)

    def _absent_when_stale(self, ref: FileRef) -> EntryNotFound | None:
        """The answer for a path the last known snapshot does not list, should upstream fail."""
        commit = self.revisions.last_known_commit(ref.repo, ref.revision)
        if commit and self.snapshots.absent(ref.repo, commit, ref.path.value):
            return EntryNotFound(f"{ref.path} does not exist at {commit}", commit=commit)
        return None

    async def _refresh_file(self, ref: FileRef, auth: str | None):
        """Ask upstream about one file and record the answer (also when nobody waits any more)."""
        try:
            meta = await self.pool.call(
                lambda c: c.file_metadata(ref.repo, ref.revision.value, ref.path.value, auth)
            )
        except EntryNotFound as exc:
            self._remember_missing(ref, exc)
            raise
        self.revisions.remember(ref.repo, ref.revision, meta.commit)
        self._remember_entries(ref.repo, meta.commit, [meta.entry])
        self.access.confirm(ref.repo, auth)
        self.announced.remember(meta.entry, meta.xet_hash)
        return meta

    async def _within_deadline(self, flight: Awaitable[T], *, has_fallback: bool) -> T:
        """Wait for upstream; with a stale answer at hand, only until the metadata deadline.

        Clients give up on metadata after 10 s; a slow upstream must not take them there
        when the mirror can answer from its cache. The flight goes on in the background
        and records its answer for the next request.
        """
        if not has_fallback:
            return await flight
        try:
            return await asyncio.wait_for(asyncio.shield(flight), self.metadata_deadline)
        except TimeoutError:
            raise UpstreamTimeout("upstream slower than the metadata deadline") from None

    def start_fill(self, answer: FileAnswer, auth: str | None) -> Fill:
        """Join the running fill of this blob, or start one with this caller's token."""
        entry = answer.entry
        announced = self.announced.for_entry(entry)
        return self.fills.start(FillSource(answer.repo, answer.commit, entry, auth, announced))

    @contextlib.asynccontextmanager
    async def upstream_range(
        self, answer: FileAnswer, auth: str | None, start: int, end: int
    ) -> AsyncIterator:
        """A direct ranged read, for a Range far ahead of a running fill: chunks of bytes
        from the object store when it holds the blob, else from upstream."""
        if answer.blob is not None and self.shared is not None:
            try:
                async with self.shared.objects.open_range(answer.blob.sha256, start, end) as body:
                    yield body.iter_chunks(RELAY_CHUNK)
            except BlobMissing:
                self.forget_blob(answer.entry, answer.blob)  # the next request refills it
                raise UpstreamUnavailable("the object store lost this file; retry") from None
            return
        client = self.pool.pick(0)
        async with client.open_file(
            answer.repo, answer.commit, answer.entry.path, auth, start=start, end=end
        ) as resp:
            yield resp.content.iter_chunked(RELAY_CHUNK)

    def touch(self, blob: StoredBlob) -> None:
        """Note a read for LRU eviction; written to the index in batches."""
        now = self.clock()
        self._touched[blob.sha256] = now
        if self.shared is not None:
            self.shared.tier.read(blob.sha256)
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
        entry = self._entries.get(key)
        if entry is None:
            if self.index.is_missing(repo, commit, path):
                entry = _MISSING
            else:
                entry = self.index.get_entry(repo, commit, path)
            if entry is not None:
                self._entries.put(key, entry)
        return entry

    def _remember_entries(self, repo: RepoId, commit: str, entries: list[FileEntry]) -> None:
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
        blob = self._blob_for(entry)
        local = blob is not None and not self.streams_from_store
        path = self.store.path_for(blob.sha256) if local else None
        return _file_answer(repo, commit, entry, blob, path)

    @property
    def streams_from_store(self) -> bool:
        """No local tier: stored blobs are sent straight from the object store."""
        return self.shared is not None and self.shared.tier.limit == 0

    def _blob_for(self, entry: FileEntry) -> StoredBlob | None:
        key = entry.sha256 or entry.etag
        blob = self._blobs.get(key)
        if blob is None:
            blob = self.index.blob_for(entry)
            if blob is not None:
                self._blobs.put(key, blob)
        return blob

    def blob_filled(self, entry: FileEntry, blob: StoredBlob) -> None:
        """A fill just stored ``entry``'s bytes: later lookups see it without the index."""
        self._blobs.put(entry.sha256 or entry.etag, blob)
        self.xet.compute(blob)  # with xet_serve: its Xet hash, from the verified bytes
        if self.shared is None:  # else counted once shared (``blob_shared``), on one node
            self.quota.added(blob.size)

    # Xet ------------------------------------------------------------------
    def xet_hash(self, blob: StoredBlob | None) -> str | None:
        """The Xet hash to advertise for ``blob``: ``None`` unless xet_serve is on and this
        mirror computed it (an unknown one is computed now, for later requests)."""
        return self.xet.hash_of(blob)

    def xet_listing(self, body: bytes) -> bytes:
        """A tree/paths-info body with ``xetHash`` on the files whose hash is known."""
        return self.xet.listing(body, self._blob_for)

    async def xet_read_access(self, repo: RepoId, revision: Revision, auth: str | None) -> str:
        """The commit ``revision`` names, once ``auth`` may download files of ``repo`` there.

        A Xet token is the right to read this repo's blobs, so it takes the decision of
        a download: for a gated or private repo, the one ``file`` makes for a file of it.
        """
        info = await self.api(RepoApi(repo, "revision", revision), [], None, auth)
        data = json.loads(info.body)
        commit = payloads.commit_of_info(data)
        if commit is None:
            raise RevisionNotFound(f"Invalid rev id: {revision}")
        if await self._visibility(repo) != "public":
            names = [s.get("rfilename") for s in data.get("siblings") or []]
            name = next((n for n in names if isinstance(n, str) and n), None)
            if name is None:
                raise EntryNotFound(f"{repo} has no file to download at {commit}")
            await self.file(FileRef(repo, Revision(commit), RepoPath(name)), auth)
        return commit

    def blob_shared(self, blob: StoredBlob) -> None:
        """A fill this node led put a blob in the object store and the index."""
        self.quota.added(blob.size)

    def forget_blob(self, entry: FileEntry, blob: StoredBlob) -> None:
        """The blob file vanished behind our back: forget it so the next request refills."""
        self._blobs.pop(entry.sha256 or entry.etag)
        self._small.pop(blob.sha256)
        self._hits = LRU(ENTRY_CACHE_SIZE)  # rare: drop every remembered HIT
        self.index.forget_blob(blob.sha256)

    # eviction --------------------------------------------------------------
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

    def listening_on(self, host: str, port: int) -> None:
        """Where other nodes reach this one, unless ``node_url`` said so: the address
        the server is bound to, or this host's name when it listens on all of them."""
        cluster = self.shared.cluster if self.shared is not None else None
        if cluster is not None and not cluster.address:
            cluster.address = default_node_url(host, port)

    def blob_busy(self, blob: Eviction) -> bool:
        """Being sent by this process, or filled by any: not to be evicted now."""
        keys = (blob.sha256, f"git-{blob.git_sha1}")
        in_use = any(k in self.readers or k in self.fills.running for k in keys)
        return in_use or fill_running(self.store, blob)

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
            self.index.put_missing(ref.repo, exc.commit, ref.path.value, self.clock())
            self._entries.put((ref.repo.key, exc.commit, ref.path.value), _MISSING)

    # API -------------------------------------------------------------------
    async def api(
        self,
        route: RepoApi,
        query: list[tuple[str, str]],
        form: list[tuple[str, str]] | None,
        auth: str | None,
        *,
        refresh: bool = False,
    ) -> ApiAnswer:
        """A JSON API answer, rewritten for clients, from the cache when allowed and fresh.

        ``refresh`` asks upstream even when a fresh answer is stored (``sync`` must
        see a branch that moved a minute ago).
        """
        upstream = upstream_api_path(route) + (("?" + urlencode(query)) if query else "")
        key = upstream + ("" if form is None else "|" + urlencode(sorted(form)))
        visibility = await self._visibility(route.repo)
        trusted = self.access.may_use_cache(route.repo, visibility, auth)
        cached = self.index.get_answer(key)
        fresh = cached and self.clock() - cached.fetched_at < ttl_of(route, self.metadata_ttl)
        if trusted and fresh and not refresh:
            return replay(cached)
        flight = self.flights.run(
            ("api", key, token_fingerprint(auth)),
            lambda: self._refresh_answer(route, key, upstream, form, auth),
        )
        in_outage = self.access.trusted_in_outage(route.repo, visibility, auth, trusted)
        snapshot = self._snapshot_commit(route) if in_outage and not cached else None
        try:
            fallback = in_outage and bool(cached or snapshot)
            return await self._within_deadline(flight, has_fallback=fallback)
        except UpstreamUnavailable:
            if in_outage and cached:
                return replay(cached)
            form_fields = grouped_form(form)
            answer = snapshot and self.snapshots.answer(route, snapshot, dict(query), form_fields)
            if answer:
                return answer
            raise

    def _snapshot_commit(self, route: RepoApi) -> str | None:
        """The commit of a complete snapshot that could answer ``route`` in an outage."""
        revision = route.revision or Revision(DEFAULT_REVISION)
        commit = self.revisions.last_known_commit(route.repo, revision)
        return commit if commit and self.snapshots.has(route.repo, commit) else None

    def record_snapshot(self, repo: RepoId, commit: str, info: bytes, items: list[dict]) -> None:
        """Keep ``commit``'s complete listing: its files are then known without upstream."""
        entries = self.snapshots.record(repo, commit, info, items)
        self._remember_entries(repo, commit, entries)

    async def _refresh_answer(
        self, route: RepoApi, key: str, upstream: str, form, auth: str | None
    ) -> ApiAnswer:
        try:
            fresh = await self.pool.call(lambda c: c.get_json(upstream, auth, form))
        except EntryNotFound as exc:  # a missing folder is an answer too: keep it
            self.index.put_answer(key, route.repo, missing_answer(exc, self.clock()))
            raise
        self.access.token_accepted(auth)
        answer = self._digest(route, fresh.status, fresh.body, fresh.link_next)
        self.index.put_answer(key, route.repo, answer)
        return answer

    def _digest(self, route: RepoApi, status: int, body: bytes, link: str | None) -> ApiAnswer:
        """Strip Xet, learn commits and entries, and keep the next link relative."""
        try:
            data = json.loads(body)
        except ValueError:
            return ApiAnswer(status, body, relative_link(link), self.clock())
        data = payloads.strip_xet(data)
        self._learn(route, data)
        encoded = json.dumps(data, separators=(",", ":")).encode()
        return ApiAnswer(status, encoded, relative_link(link), self.clock())

    def _learn(self, route: RepoApi, data) -> None:
        if route.action == "revision" and route.revision:
            commit = payloads.commit_of_info(data)
            if commit:
                self.revisions.remember(route.repo, route.revision, commit)
        if route.action in IMMUTABLE_AT_COMMIT and route.revision and route.revision.is_commit:
            entries = payloads.entries_from_listing(data)
            if entries:
                self._remember_entries(route.repo, route.revision.value, entries)

    async def _visibility(self, repo: RepoId) -> str:
        known = self.access.known_visibility(repo)
        if known is not None:
            return known
        has_fallback = self.access.last_visibility(repo) is not None

        async def fetch_info() -> bytes:
            flight = self.flights.run(
                ("anonymous-info", repo.key),
                lambda: self.pool.call(lambda c: c.get_json(api_path(repo), None)),
            )
            answer = await self._within_deadline(flight, has_fallback=has_fallback)
            return answer.body

        return await self.flights.run(
            ("visibility", repo.key), lambda: self.access.visibility(repo, fetch_info)
        )


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
