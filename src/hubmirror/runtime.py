"""``open_mirror(settings)``: the one place settings become objects."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ctypes
import ctypes.util
import logging
import time
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubmirror.errors import InvalidInput
from hubmirror.hub.redirects import redirect_allow_list
from hubmirror.hub.repoglobs import parse_repo_globs
from hubmirror.index.database import open_database
from hubmirror.index.queries import Index
from hubmirror.mirror.access.admission import AccessRules, Admission
from hubmirror.mirror.access.audit import AuditLog, NoAudit
from hubmirror.mirror.access.identities import MirrorIdentities
from hubmirror.mirror.answers.bounds import IndexLimits
from hubmirror.mirror.cache.blob_use import BlobsInUse
from hubmirror.mirror.cache.local_tier import LocalTier
from hubmirror.mirror.fills.cluster import Cluster, node_name
from hubmirror.mirror.fills.origins import Origin, UpstreamOrigin, XetUpstreamOrigin
from hubmirror.mirror.fills.shared import Shared
from hubmirror.mirror.fills.state import FillPlan
from hubmirror.mirror.service import Mirror
from hubmirror.settings import Settings
from hubmirror.storage.blobs import BlobStore
from hubmirror.storage.layout import DataLayout, prepare_data_dir, require_data_dir
from hubmirror.upstream.client import HubClient, create_session
from hubmirror.upstream.peers import PeerClient, create_peer_session
from hubmirror.upstream.pool import UpstreamPool
from hubmirror.upstream.xetfetch import XetFetcher, xet_available


@dataclass(frozen=True)
class Store:
    """The data directory opened for commands that work on stored bytes only."""

    layout: DataLayout
    index: Index
    blobs: BlobStore


@contextlib.contextmanager
def open_store(settings: Settings, *, existing: bool = False) -> Iterator[Store]:
    """Index and blob store of ``settings.data``, without upstream or server (export, import);
    ``existing``: a command that only reads it (with the embedded index) refuses to create one."""
    if existing and settings.index is None:
        require_data_dir(settings.data)
    layout = prepare_data_dir(settings.data)
    database = open_database(settings.index, layout.index)
    try:
        yield Store(layout, Index(database), BlobStore(layout.blobs, layout.tmp))
    finally:
        database.close()


def hash_for_xet(settings: Settings, store: Store, progress) -> None:
    """After an import or a sync: the Xet hashes of what it stored (with ``xet_serve``)."""
    if settings.xet_serve:
        from hubmirror.mirror.xet.hashes import hash_stored_blobs

        hash_stored_blobs(store.index, store.blobs, time.time, progress)


@contextlib.asynccontextmanager
async def open_mirror(settings: Settings) -> AsyncIterator[Mirror]:
    """Prepare the data directory, open the index, object store and upstream sessions,
    build every part once with what it needs, and yield the Mirror; whatever was opened
    is closed again, also when a later step fails."""
    async with contextlib.AsyncExitStack() as opened:
        layout = prepare_data_dir(settings.data)
        database = open_database(settings.index, layout.index)
        opened.callback(database.close)
        index = Index(database)
        store = BlobStore(layout.blobs, layout.tmp)
        in_use = BlobsInUse(store)  # what eviction and the local tier leave alone
        shared = await open_shared(settings, index, store, in_use)
        if shared is not None:
            opened.push_async_callback(shared.close)
        session = create_session(settings.upstream_timeout)
        opened.push_async_callback(session.close)
        pool = _pool(settings, session)
        opened.push_async_callback(pool.close)  # before the session: its probes use it
        upstream = _upstream_origin(settings, pool, opened)
        mirror = _mirror(settings, layout, index, store, pool, shared, in_use, upstream)
        opened.push_async_callback(mirror.close)
        yield mirror


def _pool(settings: Settings, session) -> UpstreamPool:
    redirect_hosts = redirect_allow_list(settings.upstream, settings.redirect_hosts)
    return UpstreamPool(
        [HubClient(session, url, redirect_hosts, tier_auth(settings)) for url in settings.upstream],
        offline=settings.offline,
    )


def _mirror(settings, layout, index, store, pool, shared, in_use, upstream) -> Mirror:
    audit = open_audit(settings, layout)
    return Mirror(
        index=index,
        store=store,
        pool=pool,
        metadata_ttl=settings.metadata_ttl,
        access_ttl=settings.access_ttl,
        fill_plan=FillPlan(
            settings.fill_segments,
            settings.fill_segment_mib * 1024 * 1024,
            min_free=settings.min_free_mib * 1024 * 1024,
        ),
        metadata_deadline=settings.metadata_deadline,
        identities=MirrorIdentities(
            index,
            require_token=settings.require_token,
            upstream_token=settings.upstream_token,
        ),
        admission=Admission(
            access_rules(settings), index.access, audit=audit, limits=index_limits(settings)
        ),
        offline_access=settings.offline_access,
        audit=audit,
        max_size=settings.max_size,  # with an object store: the bucket's quota
        shared=shared,
        in_use=in_use,
        upstream=upstream,
        xet_serve=settings.xet_serve,
        limits=index_limits(settings),
    )


def _upstream_origin(settings: Settings, pool: UpstreamPool, opened) -> Origin:
    """Where leading fills read: the pool over plain HTTP; with ``xet_upstream``, files
    upstream keeps in Xet storage through hf_xet (plain HTTP for the rest, and when
    hf_xet fails)."""
    http = UpstreamOrigin(pool)
    if not settings.xet_upstream:
        return http
    fetcher = XetFetcher()
    opened.callback(fetcher.close)
    if not xet_available():
        logging.getLogger(__name__).warning("xet_upstream is on but hf_xet is not installed")
        return http
    return XetUpstreamOrigin(http, fetcher)


def tier_auth(settings: Settings) -> str | None:
    """A mirror token (``hm_``) as ``upstream_token`` names a central mirror's client: send
    it for callers without a token, or the central would refuse them. An organisation's
    Hugging Face token stays reserved for this mirror's own token holders."""
    token = settings.upstream_token
    return f"Bearer {token}" if token and token.startswith("hm_") else None


def index_limits(settings: Settings) -> IndexLimits:
    """How many rows of each kind strangers can grow the index by (mirror/answers/bounds.py)."""
    return IndexLimits(
        max_api_answers=settings.max_api_answers,
        max_missing_files=settings.max_missing_files,
        max_pending_approvals=settings.max_pending_approvals,
        approval_requests_per_hour=settings.approval_requests_per_hour,
    )


def access_rules(settings: Settings) -> AccessRules:
    """The allow/deny patterns parsed once; a bad one is an ``InvalidInput`` naming it."""
    return AccessRules(
        settings.access_mode, parse_repo_globs(settings.allow), parse_repo_globs(settings.deny)
    )


def open_audit(settings: Settings, layout: DataLayout) -> AuditLog | NoAudit:
    """The audit log: the index plus ``audit_file`` (default DATA/audit.jsonl), or nothing.

    It writes through its own index connection, from its own thread. Commands that
    record decisions without a server (``open_store``) call it too, and ``close()`` it.
    """
    if not settings.audit:
        return NoAudit()
    path = Path(settings.audit_file).expanduser() if settings.audit_file else None
    database = open_database(settings.index, layout.index)
    return AuditLog(
        database, path or layout.root / "audit.jsonl", keep_rows=settings.audit_max_rows
    )


# glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3


def tune_allocator() -> bool:
    """Keep freed chunk buffers in the heap instead of returning them to the kernel.

    Measured with concurrent fills: with glibc's defaults every freed 256 KiB–1 MiB
    buffer is unmapped and faulted in again (one page fault per 4 KiB proxied); these
    thresholds removed the faults and doubled throughput with 4 fills.
    """
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        ok = libc.mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024)
        ok &= libc.mallopt(_M_TRIM_THRESHOLD, 256 * 1024 * 1024)
        ok &= libc.mallopt(_M_TOP_PAD, 64 * 1024 * 1024)
    except (OSError, AttributeError):
        return False
    return bool(ok)


IO_THREADS = 32


def use_io_threads() -> None:
    """Give blocking disk reads and hashing enough threads: one per busy client or fill.

    The default pool (CPU count + 4 threads) made cold-blob readers queue behind
    each other with 8 clients.
    """
    executor = concurrent.futures.ThreadPoolExecutor(IO_THREADS, thread_name_prefix="hubmirror-io")
    asyncio.get_running_loop().set_default_executor(executor)


def run_event_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` on uvloop when it is installed (faster small requests), else asyncio."""
    try:
        import uvloop
    except ImportError:
        logging.getLogger("hubmirror").info("uvloop not installed; using the asyncio loop")
        asyncio.run(main)
        return
    uvloop.run(main)


async def open_shared(
    settings: Settings, index: Index, store: BlobStore, in_use: BlobsInUse
) -> Shared | None:
    """The object store and, with a shared index, this node's place in the cluster.

    ``None`` for the embedded default (blobs on local disk). A shared index without
    an object store still gets fill leases, but every node keeps its own blobs.
    """
    if not settings.store:
        return None
    try:
        from hubmirror.storage.objects import ObjectStore, parse_store_url
    except ImportError as exc:
        raise InvalidInput(
            f"an s3:// store needs aiobotocore ({exc}): pip install 'hubmirror[s3]'"
        ) from None
    try:
        location = parse_store_url(settings.store)
    except ValueError as exc:
        raise InvalidInput(f"store: {exc}") from None
    objects = await ObjectStore.open(
        location,
        endpoint=settings.s3_endpoint,
        region=settings.s3_region,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        addressing=settings.s3_addressing_style,
    )
    tier = LocalTier(store, settings.local_tier_size, busy=in_use.blob_in_use)
    await asyncio.to_thread(tier.scan)
    cluster = None
    if index.db.shared:
        secret = settings.node_secret or index.cluster_secret()
        peers = PeerClient(create_peer_session(settings.upstream_timeout), node_name(), secret)
        cluster = Cluster(index.leases, peers.node, settings.node_url or "", peers)
    return Shared(objects, tier, cluster)
