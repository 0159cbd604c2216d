"""The ``Mirror`` facade: the one place storage, index and upstream meet.

Handlers, the CLI and the dashboard call these methods and nothing below them.
Each method first decides from the index (is it cached, fresh, may this caller
have it?) and only then asks upstream, through one shared flight per question.
The facade builds the parts and joins them; each concern lives in its own module:
``fileanswers`` (``/resolve/``), ``apianswers`` (JSON API), ``metadata`` (asking
upstream within the deadline), ``blobuse`` (readers and access times), ``fills``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
from collections.abc import AsyncIterator, Callable

from hubmirror.errors import BlobMissing, EntryNotFound, RevisionNotFound, UpstreamUnavailable
from hubmirror.hub import payloads
from hubmirror.hub.routes import RepoApi
from hubmirror.index.queries import ApiAnswer, Index, StoredBlob
from hubmirror.mirror.access.admission import REFUSAL_REASONS, AccessRules, Admission, Verdict
from hubmirror.mirror.access.audit import AuditLog, NoAudit
from hubmirror.mirror.access.callers import Caller, PassThrough
from hubmirror.mirror.access.disclosure import Disclosure, Viewer
from hubmirror.mirror.access.policy import AccessPolicy
from hubmirror.mirror.answers.api import ApiAnswers
from hubmirror.mirror.answers.bounds import IndexLimits, RowBounds
from hubmirror.mirror.answers.files import FileAnswer, FileAnswers
from hubmirror.mirror.answers.flights import Flights
from hubmirror.mirror.answers.metadata import Metadata
from hubmirror.mirror.answers.resolve_plan import (
    ResolveAsk,
    ResolvePlan,
    ResolveSources,
    Send,
    plan_resolve,
)
from hubmirror.mirror.answers.resolve_sources import KnownXet, MirrorSources
from hubmirror.mirror.answers.revisions import Revisions
from hubmirror.mirror.answers.snapshots import Snapshots
from hubmirror.mirror.cache.blob_use import BlobUse
from hubmirror.mirror.cache.eviction import Eviction
from hubmirror.mirror.cache.quota import Quota
from hubmirror.mirror.fills.cluster import default_node_url
from hubmirror.mirror.fills.registry import Fills
from hubmirror.mirror.fills.shared import Shared
from hubmirror.mirror.fills.state import FillPlan
from hubmirror.mirror.metrics import ServedCounters, StoreTotals
from hubmirror.mirror.xet.announce import XetAnnouncements
from hubmirror.mirror.xet.hashes import XetHashes
from hubmirror.storage.blobs import BlobStore
from hubmirror.types import FileEntry, FileRef, RepoId, RepoPath, RepoType, Revision
from hubmirror.upstream.pool import UpstreamPool

__all__ = ["FileAnswer", "Mirror", "ResolveAsk", "ResolvePlan", "Send"]

RELAY_CHUNK = 256 * 1024  # bytes relayed per write for a direct ranged read


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
        limits: IndexLimits | None = None,
    ) -> None:
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
        self.bounds = RowBounds(index, limits or IndexLimits())  # what strangers can grow
        self.access.offline_access = offline_access
        self.access.is_offline = lambda: self.pool.offline
        self.disclosure = Disclosure(self.identities, self.access, index.access)  # dashboard
        self.shared = shared  # object store, local tier, cluster (fills/shared.py), or None
        self.fills = Fills(
            store, index, pool, clock, on_filled=self.blob_filled, plan=fill_plan, shared=shared
        )
        self.fills.on_shared = self.blob_shared
        self.flights = Flights()
        self.metadata = Metadata(pool, self.flights, self.access, metadata_deadline)
        self.served = ServedCounters()
        self.store_totals = StoreTotals(index)  # blob count and bytes for /metrics
        self.audit = audit or NoAudit()  # downloads and access decisions (audit.py)
        self.quota = Quota(self, max_size)  # evicts LRU blobs above max_size (quota.py)
        self.evictions = self.quota.evictions  # blobs and bytes evicted, for /metrics
        self.admission.on_decision = self._audit_refusal
        self.blob_use = BlobUse(index, store, self.fills, self.quota, shared, clock)
        self.xet = XetHashes(index, store, clock, xet_serve)  # the hashes /resolve/ may advertise
        self.xet.reading = self.blob_use.reading
        self.announced = XetAnnouncements(self.xet, self.fills)  # cold files' upstream hashes
        self.file_answers = FileAnswers(
            index=index,
            store=store,
            shared=shared,
            revisions=self.revisions,
            snapshots=self.snapshots,
            access=self.access,
            metadata=self.metadata,
            announced=self.announced,
            clock=clock,
            bounds=self.bounds,
        )
        self.api_answers = ApiAnswers(
            index=index,
            revisions=self.revisions,
            snapshots=self.snapshots,
            access=self.access,
            metadata=self.metadata,
            files=self.file_answers,
            metadata_ttl=metadata_ttl,
            clock=clock,
            bounds=self.bounds,
        )

    def identify(self, address: str, authorization: str | None) -> Caller:
        """Who sent a request: a mirror identity, and the token to forward upstream."""
        return self.identities.identify(address, authorization)

    def admit(self, caller: Caller, repo: RepoId) -> None:
        """Refuse a repo this mirror does not serve, or the caller's mirror token may not read."""
        self.identities.check(caller, repo)
        self.admission.admit(caller, repo)

    # the dashboard: what a visitor may see named (disclosure.py), admin sessions ----------
    def viewer(self, address: str, authorization: str | None) -> Viewer:
        """A dashboard visitor as the API sees them, decided once per page."""
        return self.disclosure.viewer(address, authorization)

    def may_see(self, viewer: Viewer, repo: RepoId) -> bool:
        """May the page name ``repo`` (and show its commits, files, transfers) to ``viewer``?"""
        return self.disclosure.may_see(viewer, repo)

    def repos_seen_by(self, viewer: Viewer) -> list[RepoId]:
        """The cached repos ``viewer`` may see named."""
        return self.disclosure.seen(viewer, self.index.known_repos())

    def end_admin_session(self, session_id: str, expires_at: float) -> None:
        """A logout: every worker and node sharing the index refuses the session from now."""
        self.index.sessions.end(session_id, expires_at, self.clock())

    def admin_session_ended(self, session_id: str) -> bool:
        return self.index.sessions.ended(session_id)

    async def may_download(self, caller: Caller, ref: FileRef) -> None:
        """Raise unless ``/resolve/`` would give ``caller`` the file ``ref`` now: its mirror
        token, the repo lists, and for a gated or private repo upstream's word on its token
        (remembered for ``access_ttl``, then asked again). The Xet CAS decides so at every
        request of its token's holder: a revoke or a deny holds there as it does here."""
        self.admit(caller, ref.repo)
        auth = caller.upstream_auth
        visibility = self.access.known_visibility(ref.repo)
        if visibility is None or not self.access.may_use_cache(ref.repo, visibility, auth):
            await self.file(ref, auth)

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

    # files (answers/files.py) ------------------------------------------------
    async def file(self, ref: FileRef, auth: str | None) -> FileAnswer:
        """Commit, metadata and cache state of one file, asking upstream only when needed."""
        return await self.file_answers.file(ref, auth)

    # /resolve/: plan, then the handler sends (answers/resolve_plan.py) -------------------
    def resolve_fresh(self, ask: ResolveAsk) -> ResolvePlan | None:
        """The plan for a ``/resolve/`` request from memory and the index alone, or ``None``
        (then ``resolve``). Synchronous on purpose: a warm HEAD costs no coroutine."""
        self.admit(ask.caller, ask.ref.repo)
        answer = self.file_answers.fresh_file(ask.ref, ask.caller.upstream_auth)
        return None if answer is None else self._plan(ask, answer, self._resolve_sources)

    async def resolve(self, ask: ResolveAsk) -> ResolvePlan:
        """The plan for a ``/resolve/`` request, asking upstream what the index cannot say."""
        self.admit(ask.caller, ask.ref.repo)
        answer = await self.file_answers.file(ask.ref, ask.caller.upstream_auth)
        return self._plan(ask, answer, self._resolve_sources)

    def refill(self, ask: ResolveAsk, plan: ResolvePlan) -> ResolvePlan:
        """The plan once the stored file ``plan`` sends turned out to be gone (deleted behind
        our back): forgotten, it is filled again (the same Xet headers, no new offer)."""
        answer = self.file_answers.without_blob(plan.answer)
        return self._plan(ask, answer, KnownXet(self._resolve_sources, plan.xet_hash))

    def _plan(self, ask: ResolveAsk, answer: FileAnswer, sources: ResolveSources) -> ResolvePlan:
        plan = plan_resolve(ask, answer, sources)
        send = plan.send  # compared by identity: a warm HEAD pays no enum hashing
        if send is Send.MEMORY or send is Send.FILE or send is Send.STORE or send is Send.EMPTY:
            self.blob_use.touch(answer.blob)  # a read of the stored blob, for LRU eviction
        return plan

    @functools.cached_property
    def _resolve_sources(self) -> MirrorSources:
        return MirrorSources(self.xet, self.announced, self.fills, self.file_answers)

    def stored_body(self, plan: ResolvePlan) -> bytes:
        """A small stored blob's bytes (``Send.MEMORY``), read once and kept in memory;
        ``FileNotFoundError`` when its file is gone (then ``refill``)."""
        body = self.file_answers.small_body(plan.answer)
        if body is None:
            raise FileNotFoundError(plan.path)
        return body

    def sending(self, plan: ResolvePlan) -> contextlib.AbstractContextManager:
        """Mark the blob or fill ``plan`` sends as being sent: eviction leaves it alone."""
        return self.blob_use.reading(plan.key)

    @contextlib.asynccontextmanager
    async def relay(self, ask: ResolveAsk, plan: ResolvePlan) -> AsyncIterator:
        """Chunks of the bytes ``plan`` sends without keeping them (``Send.STORE``,
        ``Send.DIRECT``): from the object store when it holds the blob, else from upstream
        with the caller's token."""
        answer, start, end = plan.answer, plan.first, plan.last
        if answer.blob is not None and self.shared is not None:
            try:
                async with self.shared.objects.open_range(answer.blob.sha256, start, end) as body:
                    yield body.iter_chunks(RELAY_CHUNK)
            except BlobMissing:
                self.file_answers.forget_blob(answer.entry, answer.blob)  # the next one refills
                raise UpstreamUnavailable("the object store lost this file; retry") from None
            return
        client = self.pool.pick(0)
        auth = ask.caller.upstream_auth
        async with client.open_file(
            answer.repo, answer.commit, answer.entry.path, auth, start=start, end=end
        ) as resp:
            yield resp.content.iter_chunked(RELAY_CHUNK)

    @property
    def quota_bytes(self) -> int:
        """``max_size``: the store's quota in bytes (0: none), for the dashboard."""
        return self.quota.max_size

    @property
    def streams_from_store(self) -> bool:
        """No local tier: stored blobs are sent straight from the object store."""
        return self.file_answers.streams_from_store

    def blob_filled(self, entry: FileEntry, blob: StoredBlob) -> None:
        """A fill just stored ``entry``'s bytes: later lookups see it without the index."""
        self.file_answers.remember_blob(entry, blob)
        if entry.lfs:  # with xet_serve: its Xet hash, from the verified bytes (LFS: as the Hub)
            self.xet.compute(blob)
        if self.shared is None:  # else counted once shared (``blob_shared``), on one node
            self.quota.added(blob.size)

    def blob_shared(self, blob: StoredBlob) -> None:
        """A fill this node led put a blob in the object store and the index."""
        self.quota.added(blob.size)

    def listening_on(self, host: str, port: int) -> None:
        """Where other nodes reach this one, unless ``node_url`` said so: the address
        the server is bound to, or this host's name when it listens on all of them."""
        cluster = self.shared.cluster if self.shared is not None else None
        if cluster is not None and not cluster.address:
            cluster.address = default_node_url(host, port)

    # blobs in use (cache/blob_use.py), for the server, the quota and the local tier
    def touch(self, blob: StoredBlob) -> None:
        """Note a read for LRU eviction; written to the index in batches."""
        self.blob_use.touch(blob)

    def flush_access_times(self) -> None:
        self.blob_use.flush_access_times()

    def reading(self, key: str) -> contextlib.AbstractContextManager:
        """Mark a blob (sha256, or a fill's key) as being sent: eviction leaves it alone."""
        return self.blob_use.reading(key)

    def blobs_in_use(self) -> frozenset[str]:
        return self.blob_use.blobs_in_use()

    def blob_in_use(self, digest: str) -> bool:
        """Being sent or filled on this node (the local tier keeps it on disk)."""
        return self.blob_use.blob_in_use(digest)

    def blob_busy(self, blob: Eviction) -> bool:
        """Being sent by this process, or filled by any: not to be evicted now."""
        return self.blob_use.blob_busy(blob)

    def blobs_evicted(self, evicted: list[Eviction]) -> None:
        """Forget evicted blobs in memory too, so the next request is a MISS that refills."""
        self.file_answers.blobs_evicted(evicted)

    # Xet -------------------------------------------------------------------
    def xet_listing(self, body: bytes) -> bytes:
        """A tree/paths-info body with ``xetHash`` on the files whose hash is known."""
        return self.xet.listing(body, self.file_answers.blob_for)

    async def xet_read_access(self, repo: RepoId, revision: Revision, auth: str | None) -> str:
        """The commit ``revision`` names, once ``auth`` may download files of ``repo`` there.

        A Xet token is the right to read this repo's blobs, so it takes the decision of
        a download: for a gated or private repo, the one ``file`` makes for a file of it.
        """
        try:
            info = await self.api(RepoApi(repo, "revision", revision), [], None, auth)
        except UpstreamUnavailable:
            return await self._xet_access_in_outage(repo, revision, auth)
        data = json.loads(info.body)
        commit = payloads.commit_of_info(data)
        if commit is None:
            raise RevisionNotFound(f"Invalid rev id: {revision}")
        if await self.metadata.visibility(repo) != "public":
            names = [s.get("rfilename") for s in data.get("siblings") or []]
            name = next((n for n in names if isinstance(n, str) and n), None)
            if name is None:
                raise EntryNotFound(f"{repo} has no file to download at {commit}")
            await self.file(FileRef(repo, Revision(commit), RepoPath(name)), auth)
        return commit

    async def _xet_access_in_outage(
        self, repo: RepoId, revision: Revision, auth: str | None
    ) -> str:
        """Upstream down: the decision a download of a file known at ``revision`` gets now
        (served from the cache, or refused, as the outage policy says for this caller)."""
        commit = self.revisions.last_known_commit(repo, revision)
        entries = self.index.entries_at(repo, commit) if commit else []
        if not entries:
            raise UpstreamUnavailable(
                f"upstream is unreachable and this mirror knows no file of {repo} at {revision}"
            )
        await self.file(FileRef(repo, Revision(commit), RepoPath(entries[0].path)), auth)
        return commit

    # API (answers/api.py) ---------------------------------------------------
    async def api(
        self,
        route: RepoApi,
        query: list[tuple[str, str]],
        form: list[tuple[str, str]] | None,
        auth: str | None,
        *,
        refresh: bool = False,
    ) -> ApiAnswer:
        """A JSON API answer (``ApiAnswers.api``): the server's and ``sync``'s way in."""
        return await self.api_answers.api(route, query, form, auth, refresh=refresh)

    def record_snapshot(self, repo: RepoId, commit: str, info: bytes, items: list[dict]) -> None:
        """Keep ``commit``'s complete listing: its files are then known without upstream."""
        entries = self.snapshots.record(repo, commit, info, items)
        self.file_answers.remember_entries(repo, commit, entries)
