"""The ``Mirror`` facade: the use cases the server, the dashboard and the CLI call.

Answer a resolve (a ``ResolvePlan`` the handler carries out), answer an API call, serve
the Xet token and CAS, report status, decide an approval, read for another node. Each
first decides from the index (is it cached, fresh, may this caller have it?) and only
then asks upstream, through one shared flight per question. The constructor builds
every part once, in dependency order, each given what it needs; the parts live in
``answers/``, ``fills/``, ``xet/``, ``access/``, ``cache/`` and ``portable/``, and
nothing outside ``mirror/`` reaches into them (tests/unit/test_facade.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

from hubmirror.errors import (
    BlobMissing,
    InvalidCredentials,
    NoSuchRoute,
    UpstreamUnavailable,
)
from hubmirror.hub.routes import RepoApi
from hubmirror.index.queries import ApiAnswer, Index, StoredBlob
from hubmirror.mirror.access.accounts import Accounts
from hubmirror.mirror.access.admission import AccessRules, Admission
from hubmirror.mirror.access.audit import (
    AuditLog,
    AuditRecord,
    NoAudit,
    iso_time,
)
from hubmirror.mirror.access.callers import (
    Caller,
    Identities,
    PassThrough,
    token_fingerprint,
)
from hubmirror.mirror.access.disclosure import ADMIN, NOBODY, Disclosure, Viewer
from hubmirror.mirror.access.identities import INVALID_CREDENTIALS
from hubmirror.mirror.access.policy import CONFIRMED_TOKENS, AccessPolicy
from hubmirror.mirror.answers.api import ApiAnswers
from hubmirror.mirror.answers.bounds import IndexLimits, RowBounds
from hubmirror.mirror.answers.files import FileAnswer, FileAnswers
from hubmirror.mirror.answers.flights import Flights, SharedFlights
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
from hubmirror.mirror.cache.blob_use import AccessTimes, BlobReads, BlobsInUse
from hubmirror.mirror.cache.eviction import Eviction
from hubmirror.mirror.cache.quota import Quota
from hubmirror.mirror.cache.room import Room
from hubmirror.mirror.fills.cluster import node_name
from hubmirror.mirror.fills.origins import Origin, UpstreamOrigin
from hubmirror.mirror.fills.registry import FillEvents, Fills
from hubmirror.mirror.fills.shared import Shared
from hubmirror.mirror.fills.state import (
    Fill,
    FillPlan,
    open_when_readable,
)
from hubmirror.mirror.metrics import ServedCounters, StoreTotals
from hubmirror.mirror.status import (
    MirrorStatus,
    StoreUsage,
    UpstreamHealth,
    mirror_status,
    store_usage,
    upstream_health,
)
from hubmirror.mirror.traffic import TrafficHistory, TrafficMeter, history
from hubmirror.mirror.views import ApprovalsPage, CommitFiles, RepoContents
from hubmirror.mirror.xet.announce import XetAnnouncements
from hubmirror.mirror.xet.hashes import XetHashes
from hubmirror.mirror.xet.reconstruction import CasFile
from hubmirror.mirror.xet.serving import CasRequest, Span, XetServing
from hubmirror.mirror.xet.xorbs import XorbRead, XorbSources
from hubmirror.storage.blobs import BlobStore
from hubmirror.types import FileEntry, FileRef, RepoId, RepoType, Revision
from hubmirror.upstream.pool import UpstreamPool
from hubmirror.upstream.probe import probe_upstreams

# The facade and the values its callers hold (server/ and dashboard/ import them from here).
__all__ = [
    "ADMIN",
    "AuditRecord",
    "Caller",
    "CasRequest",
    "FileAnswer",
    "Fill",
    "INVALID_CREDENTIALS",
    "Mirror",
    "NOBODY",
    "ResolveAsk",
    "ResolvePlan",
    "Send",
    "Viewer",
    "XorbRead",
    "iso_time",
    "open_when_readable",
    "token_fingerprint",
]

log = logging.getLogger(__name__)
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
        identities: Identities | None = None,
        admission: Admission | None = None,
        offline_access: str = CONFIRMED_TOKENS,
        audit: AuditLog | NoAudit | None = None,
        max_size: int = 0,
        shared: Shared | None = None,
        in_use: BlobsInUse | None = None,
        upstream: Origin | None = None,
        xet_serve: bool = False,
        limits: IndexLimits | None = None,
    ) -> None:
        """Every part is built here, once, with what it needs; none is changed after.

        ``in_use``: the blobs this node sends or fills (``open_mirror`` gives the local
        tier the same one); ``upstream``: where leading fills read (default: the pool
        over plain HTTP; ``xet_upstream`` wraps it with hf_xet).
        """
        in_use = in_use or BlobsInUse(store)
        self.index = index
        self.store = store
        self.pool = pool
        self.clock = clock
        self.shared = shared  # object store, local tier, cluster (fills/shared.py), or None
        self.identities = identities or PassThrough()
        self.audit = audit or NoAudit()  # downloads and access decisions (access/audit.py)
        self.admission = admission or Admission(AccessRules(), index.access, clock)
        self.revisions = Revisions(index, metadata_ttl, clock)
        self.snapshots = Snapshots(index)
        self.access = AccessPolicy(
            index, metadata_ttl, access_ttl, clock, offline_access=offline_access, upstream=pool
        )
        self.bounds = RowBounds(index, limits or IndexLimits())  # what strangers can grow
        self.disclosure = Disclosure(self.identities, self.access, index.access)  # dashboard
        self.accounts = Accounts(pool)  # /api/whoami-v2
        self.flights = Flights()
        questions = SharedFlights(index.leases, node_name())  # asked once per node/cluster
        self.metadata = Metadata(pool, self.flights, self.access, metadata_deadline, questions)
        self.served = ServedCounters()
        self.traffic = TrafficMeter(  # per hour, kept in the index (traffic.py)
            index.traffic, lambda: sum(s.body_bytes for s in pool.stats.values()), clock
        )
        self.store_totals = StoreTotals(index)  # blob count and bytes for /metrics
        self.access_times = AccessTimes(index, clock, shared.tier if shared else None)
        self.quota = Quota(  # evicts LRU blobs above max_size (cache/quota.py)
            index,
            store,
            in_use,
            self.access_times,
            max_size=max_size,
            clock=clock,
            shared=shared,
            on_evicted=self._blobs_evicted,
        )
        self.evictions = self.quota.evictions  # blobs and bytes evicted, for /metrics
        self.in_use = in_use
        self.xet = XetHashes(index, store, clock, xet_serve, reading=self.quota.reading)
        xet_hasher = self.xet.file_hasher()  # None: no announced hash is passed on
        self.announced = XetAnnouncements(
            self.xet, in_use.filling, checkable=xet_hasher is not None
        )
        self.fills = Fills(
            store,
            index,
            upstream or UpstreamOrigin(pool),
            running=in_use.filling,
            clock=clock,
            events=FillEvents(
                filled=self._blob_filled,
                shared=self.quota.stored,  # counted once, by the node that shared it
                xet_refused=self.announced.refused,
            ),
            plan=fill_plan,
            shared=shared,
            xet_hasher=xet_hasher,
            room=Room(  # a fill's disk space and quota, taken before its first byte
                self.quota,
                store.tmp,
                (fill_plan or FillPlan()).min_free,
                disk_evicts=shared is None,
            ),
        )
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
        self.resolve_sources = MirrorSources(
            self.xet, self.announced, self.fills, self.file_answers
        )
        self.xet_serving = self._xet_serving()  # Xet: built last, from the parts above

    def identify(self, address: str, authorization: str | None) -> Caller:
        """Who sent a request: a mirror identity, and the token to forward upstream."""
        return self.identities.identify(address, authorization)

    def admit(self, caller: Caller, repo: RepoId) -> None:
        """Refuse a repo this mirror does not serve, or the caller's mirror token may not read."""
        self.identities.check(caller, repo)
        self.admission.admit(caller, repo)

    async def whoami(self, caller: Caller) -> bytes:
        """``/api/whoami-v2``: a mirror token's identity, or upstream's word on a Hub token."""
        return await self.accounts.whoami(caller)

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
        self.pool.set_offline(offline)

    async def close(self) -> None:
        await self.quota.close()
        await self.fills.close()  # the object store and cluster close after (runtime)
        await self.xet.close()
        self.access_times.flush()
        self.audit.close()
        try:
            self.traffic.close()
        except Exception as exc:  # noqa: BLE001 - a few seconds of the chart, not a failed stop
            log.warning("could not record the last traffic counts: %s", exc)

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
        return None if answer is None else self._plan(ask, answer, self.resolve_sources)

    async def resolve(self, ask: ResolveAsk) -> ResolvePlan:
        """The plan for a ``/resolve/`` request, asking upstream what the index cannot say."""
        self.admit(ask.caller, ask.ref.repo)
        answer = await self.file_answers.file(ask.ref, ask.caller.upstream_auth)
        return self._plan(ask, answer, self.resolve_sources)

    def refill(self, ask: ResolveAsk, plan: ResolvePlan) -> ResolvePlan:
        """The plan once the stored file ``plan`` sends turned out to be gone (deleted behind
        our back): forgotten, it is filled again (the same Xet headers, no new offer)."""
        answer = self.file_answers.without_blob(plan.answer)
        return self._plan(ask, answer, KnownXet(self.resolve_sources, plan.xet_hash))

    def _plan(self, ask: ResolveAsk, answer: FileAnswer, sources: ResolveSources) -> ResolvePlan:
        plan = plan_resolve(ask, answer, sources)
        send = plan.send  # compared by identity: a warm HEAD pays no enum hashing
        if send is Send.MEMORY or send is Send.FILE or send is Send.STORE or send is Send.EMPTY:
            self.access_times.touch(answer.blob)  # a read of the stored blob, for LRU eviction
        return plan

    def stored_body(self, plan: ResolvePlan) -> bytes:
        """A small stored blob's bytes (``Send.MEMORY``), read once and kept in memory;
        ``FileNotFoundError`` when its file is gone (then ``refill``)."""
        body = self.file_answers.small_body(plan.answer)
        if body is None:
            raise FileNotFoundError(plan.path)
        return body

    def sending(self, plan: ResolvePlan) -> contextlib.AbstractContextManager:
        """Mark the blob or fill ``plan`` sends as being sent: eviction leaves it alone."""
        return self.quota.reading(plan.key)

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

    def _blob_filled(self, entry: FileEntry, blob: StoredBlob) -> None:
        """A fill just stored ``entry``'s bytes: later lookups see it without the index."""
        self.file_answers.remember_blob(entry, blob)
        if entry.lfs:  # with xet_serve: its Xet hash, from the verified bytes (LFS: as the Hub)
            self.xet.compute(blob)
        if self.shared is None:  # else counted once shared (``FillEvents.shared``), on one node
            self.quota.stored(blob)

    def _blobs_evicted(self, evicted: list[Eviction]) -> None:
        """Forget evicted blobs in memory too, so the next request is a MISS that refills."""
        self.file_answers.blobs_evicted(evicted)

    def listening_on(self, host: str, port: int) -> None:
        """Where other nodes reach this one, unless ``node_url`` said so: the address
        the server is bound to, or this host's name when it listens on all of them."""
        if self.shared is not None and self.shared.cluster is not None:
            self.shared.cluster.listening_on(host, port)

    def reading(self, key: str) -> contextlib.AbstractContextManager:
        """Mark a blob (sha256, or a fill's key) as being sent, to another node too:
        eviction leaves it alone meanwhile."""
        return self.quota.reading(key)

    # Xet -------------------------------------------------------------------
    def xet_listing(self, body: bytes) -> bytes:
        """A tree/paths-info body with ``xetHash`` on the files whose hash is known."""
        return self.xet.listing(body, self.file_answers.blob_for)

    # Xet use cases (xet/serving.py): the token route and the CAS, for server/xet.py ------
    def _xet_serving(self) -> XetServing:
        """The Xet use cases, built from the parts above. The facade itself is their
        ``downloads``: a Xet request takes the access decision ``/resolve/`` takes."""
        sources = XorbSources(
            index=self.index,
            announced=self.index.xet,
            fills=self.fills,
            files=self.store,
            use=BlobReads(self.access_times, self.quota.reading),
            objects=self.shared.objects if self.shared is not None else None,
            cluster=self.shared.cluster if self.shared is not None else None,
            streams_from_store=self.file_answers.streams_from_store,
        )
        return XetServing(
            enabled=self.xet.enabled,
            downloads=self,
            visibilities=self.metadata,
            revisions=self.revisions,
            entries=self.index,
            records=self.index.xet,
            announced=self.announced,
            fills=self.fills,
            xorbs=sources,
            audit=self.audit,
            clock=self.clock,
        )

    @property
    def serves_xet(self) -> bool:
        """``xet_serve``: Xet hashes advertised, the token route and the CAS answered."""
        return self.xet_serving.enabled

    async def xet_token(
        self, caller: Caller, repo: RepoId, revision: Revision, asked: Revision | None = None
    ) -> tuple[str, int]:
        """A Xet read token for ``repo`` and its expiry, once ``caller`` may download there;
        ``asked``: the revision the client named, for the audit (default ``revision``)."""
        return await self.xet_serving.token(caller, repo, revision, asked)

    async def xet_file(self, request: CasRequest, xet_hash: str) -> CasFile:
        """The file of the token's repo with this Xet hash, once its holder may read it."""
        return await self.xet_serving.file(request, xet_hash)

    async def xet_reconstruction(
        self, request: CasRequest, xet_hash: str, wanted: Span | None, version: int, cas_url: str
    ) -> dict:
        """A reconstruction's JSON body, its xorb URLs signed for the token's holder."""
        return await self.xet_serving.reconstruction(request, xet_hash, wanted, version, cas_url)

    def xet_xorb(
        self, request: CasRequest, xorb_hash: str, query: Mapping[str, str]
    ) -> contextlib.AbstractAsyncContextManager[XorbRead]:
        """The xorb a signed URL names, open while it is sent."""
        return self.xet_serving.xorb(request, xorb_hash, query)

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

    # status: what /metrics and the dashboard show (status.py) -------------------------
    def status(self) -> MirrorStatus:
        """A snapshot of the counters, upstreams, fills and tier kept in memory (no I/O)."""
        return mirror_status(self.served, self.pool, self.fills, self.shared, self.quota.max_size)

    def upstream_health(self) -> list[UpstreamHealth]:
        """Each upstream in words (reachable, since when, why not), from the status snapshot."""
        now = self.status()
        return [upstream_health(u, now.offline, self.clock()) for u in now.upstreams]

    async def probe_upstreams(self) -> None:
        """Ask each upstream once (``serve`` does at start), so that ``upstream_health``
        knows before the first request needs one."""
        await probe_upstreams(self.pool)

    def store_usage(self, *, fresh: bool = False) -> StoreUsage:
        """Blobs and bytes stored, the disk, evictions. The index's totals are reused for a
        few seconds, unless ``fresh``: a scrape from several Prometheis must not scan the
        blobs table each time, while one visitor's page shows what was just stored."""
        totals = self.index.blob_totals() if fresh else self.store_totals.get()
        return store_usage(totals, self.store, self.quota.max_size, self.evictions)

    def now(self) -> float:
        """The mirror's clock (Unix time): admin sessions expire by it."""
        return self.clock()

    # requests served and the audit log (access/audit.py) -------------------------------
    def count_request(
        self, kind: str, status: int, cache: str, body_bytes: int, repo: RepoId | None = None
    ) -> None:
        """Count an answered request (route kind, status, cache status) for ``status``,
        and a file answer of ``repo`` for the traffic chart."""
        self.served.record(kind, status, cache, body_bytes)
        if kind == "resolve" and status < 300:
            self.traffic.count(cache, body_bytes, repo)

    def traffic_history(self, viewer: Viewer) -> TrafficHistory:
        """Bytes and requests per hour and day, kept in the index; the top repos among
        those ``viewer`` may see named. This process's last seconds are written first."""
        self.traffic.flush()
        return history(self.index.traffic, self.clock(), shown=lambda r: self.may_see(viewer, r))

    @property
    def auditing(self) -> bool:
        """Is the audit log on? If not, the server need not describe requests for it."""
        return self.audit.enabled

    def audit_request(self, record: dict[str, Any], part_of: tuple[str, int] | None = None) -> None:
        """Queue the audit record of a download or a refusal (written within a second);
        ``part_of``: the download (id, parts) a ranged request says it is a part of."""
        self.audit.add_part(record, part_of)

    def audit_entries(
        self,
        limit: int,
        repo: RepoId | None = None,
        since: float | None = None,
        who: str | None = None,
    ) -> list[AuditRecord]:
        """The newest ``limit`` audit records matching every filter given, oldest first."""
        return self.index.audit.find(repo, since, who, limit)

    # approvals (access/admission.py) and the repo browser, for the dashboard ----------
    def pending_approvals(self, limit: int, offset: int) -> ApprovalsPage:
        """One page of the repos awaiting a decision, newest first, and how many wait."""
        records = self.index.access
        return ApprovalsPage(records.pending_count(), records.pending_page(limit, offset))

    def decide_approval(self, repo: RepoId, state: str, who: str) -> None:
        """Approve or deny ``repo`` (``state``), and at once: admission's remembered
        verdict is dropped, as the operator who just decided expects."""
        self.index.access.decide(repo, state, who, self.clock())
        self.admission.forget(repo)

    def repo_contents(self, repo: RepoId) -> RepoContents:
        """Revisions of ``repo`` and the files of each commit the index lists."""
        revisions = self.index.revisions_of(repo)
        commits = [
            CommitFiles(commit, self.index.cached_files(repo, commit))
            for commit in self.index.commits_of(repo)
        ]
        return RepoContents(revisions, commits)

    # another node of the cluster reads this node's fills (server/peers.py) -------------
    def check_node_request(self, headers: Mapping[str, str], method: str, path: str) -> None:
        """Raise unless another node of this cluster signed the request: its answer
        may carry bytes of gated or private repos."""
        cluster = self.shared.cluster if self.shared is not None else None
        if cluster is None:
            raise NoSuchRoute("this mirror runs alone: it has no node routes")
        if cluster.verify(headers, method, path) is None:
            raise InvalidCredentials("node request not signed with this cluster's secret")

    def node_fill(self, key: str) -> Fill | None:
        """The fill of blob ``key`` running here, in this process or another worker's."""
        return self.fills.running.get(key) or self.fills.follow_local(key)

    def node_blob(self, key: str) -> tuple[Path, int] | None:
        """The file and size of the blob ``key`` names (a sha256, or ``git-`` and a git
        blob sha1), if the index has it; the file may still be gone from this disk."""
        blob = self.index.blob_by_id(key.removeprefix("git-"))
        return (self.store.path_for(blob.sha256), blob.size) if blob else None

    # shutting down (cli/serve.py) -----------------------------------------------------
    async def drain_fills(self, seconds: float) -> None:
        """Give running fills up to ``seconds`` to finish; ``close`` cuts the rest, which
        keep their bytes to resume."""
        await self.fills.drain(seconds)
