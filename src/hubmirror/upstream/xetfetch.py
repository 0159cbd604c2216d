"""Fetching a Xet-backed file's bytes from upstream with ``hf_xet`` (design B1).

Upstream keeps large files in Xet storage; its plain-HTTP path is a bridge in
front of that. ``hf_xet`` speaks the CAS protocol itself: parallel, compressed,
range-resumable. The mirror uses it as a byte source only: the bytes go into the
same fill as HTTP bytes and are verified by sha256 there, because hf_xet checks
no hash of what it downloads (shared/xet.md §4.2).

hf_xet blocks (releasing the GIL), so every stream is iterated in a worker thread
and its chunks cross to the event loop through a small bounded queue: a slow
disk slows the download instead of growing memory. The module imports hf_xet
only when a fetch happens: a mirror without the wheel simply never uses Xet.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from hubmirror.hub.routes import api_path
from hubmirror.types import RepoId
from hubmirror.upstream.client import USER_AGENT, HubClient

log = logging.getLogger(__name__)

TOKEN_MARGIN = 60  # seconds before expiry a cached token is no longer handed out
QUEUE_CHUNKS = 2  # chunks between a stream's thread and the loop (hf_xet yields whole terms)
SLOT_POLL = 0.1  # seconds a blocked stream thread waits before checking for a stop
# hf_xet's download buffers (bytes in flight; its defaults are gigabytes). Measured with
# 64 and 128 MiB: the same speed and peak memory (bench/README.md, "Xet upstream").
BUFFER = 64 * 1024 * 1024  # per stream group (one per repo, commit and caller)
BUFFER_LIMIT = 256 * 1024 * 1024  # the whole process
WORKERS = 64  # threads iterating streams: one per running segment
INITIAL_CONCURRENCY = 16  # hf_xet starts at 4 parallel xorb fetches per group


class XetFetchError(Exception):
    """The Xet path failed (token, session or stream); the caller falls back to HTTP."""


@dataclass(frozen=True, slots=True)
class XetToken:
    """What upstream's ``xet-read-token`` route hands out, and where to refresh it."""

    cas_url: str
    access_token: str
    exp: int
    refresh_url: str


def xet_available() -> bool:
    """``hf_xet`` can be imported (checked without importing it)."""
    return importlib.util.find_spec("hf_xet") is not None


def xet_config() -> dict[str, Any]:
    """hf_xet settings for a server: no telemetry, bounded buffers, few quick retries
    (a failing segment falls back to HTTP rather than backing off for minutes)."""
    return {
        "telemetry.enabled": False,
        "reconstruction.download_buffer_size": BUFFER,
        "reconstruction.download_buffer_perfile_size": BUFFER,
        "reconstruction.download_buffer_limit": BUFFER_LIMIT,
        "client.retry_max_attempts": 2,
        "client.retry_base_delay": "200ms",
        "client.connect_timeout": "10s",
        # the fill's segments share one group: start as parallel as HTTP fills are
        "client.ac_initial_download_concurrency": INITIAL_CONCURRENCY,
    }


class XetFetcher:
    """One ``XetSession`` per process (made on first use); a token and a stream group per
    upstream, repo, commit and caller, fetched once (concurrent segments wait for the
    same fetch) and kept until the token nears its expiry."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._session = None
        self._groups: dict[tuple, tuple[XetToken, Any]] = {}
        self._flights: dict[tuple, asyncio.Future] = {}
        self._threads = ThreadPoolExecutor(WORKERS, thread_name_prefix="xetfetch")

    async def token(self, client: HubClient, repo: RepoId, commit: str, auth: str | None):
        """Upstream's Xet read token for ``repo`` at ``commit``, as this caller."""
        path = api_path(repo, "xet-read-token", commit)
        answer = await client.get_json(path, auth)
        body = json.loads(answer.body)
        return XetToken(body["casUrl"], body["accessToken"], int(body["exp"]), client.url(path))

    async def stream(self, client: HubClient, source: XetSource) -> AsyncIterator[bytes]:
        """Bytes ``[start, end)`` of the file, in order; any failure is ``XetFetchError``."""
        try:
            group = await self._group(client, source)
        except Exception as exc:  # noqa: BLE001 - any failure here means "use HTTP"
            raise XetFetchError(f"no Xet session for {source.xet_hash}: {exc}") from exc
        pump = _Pump(asyncio.get_running_loop())
        opener = _opener(group, source)
        asyncio.get_running_loop().run_in_executor(self._threads, pump.run, opener)
        try:
            async for chunk in pump.chunks():
                yield chunk
        finally:
            pump.stop()

    async def _group(self, client: HubClient, source: XetSource):
        key = (client.name, source.repo.key, source.commit, source.auth)
        known = self._groups.get(key)
        if known is not None and known[0].exp - TOKEN_MARGIN > self.clock():
            return known[1]
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(self._open_group(client, source))
            self._flights[key] = flight
            flight.add_done_callback(lambda _: self._flights.pop(key, None))
        token, group = await asyncio.shield(flight)
        self._groups = {k: g for k, g in self._groups.items() if g[0].exp > self.clock()}
        self._groups[key] = (token, group)
        return group

    async def _open_group(self, client: HubClient, source: XetSource):
        token = await self.token(client, source.repo, source.commit, source.auth)
        loop = asyncio.get_running_loop()
        auth = source.auth or client.default_auth  # what the token GET itself sent
        group = await loop.run_in_executor(self._threads, self._new_group, token, auth)
        return token, group

    def _new_group(self, token: XetToken, auth: str | None):
        """A download stream group on upstream's CAS; hf_xet refreshes the token itself.
        The caller's Hub token goes only to the token URL, never to the CAS."""
        return self._xet_session().new_download_stream_group(
            endpoint=token.cas_url,
            token=token.access_token,
            token_expiry_unix_secs=token.exp,
            token_refresh_url=token.refresh_url,
            token_refresh_headers={"Authorization": auth} if auth else None,
            custom_headers={"User-Agent": USER_AGENT},
        )

    def _xet_session(self):
        if self._session is None:
            import hf_xet

            config = hf_xet.XetConfig().with_config(xet_config())
            self._session = hf_xet.XetSession(config)
        return self._session

    def close(self) -> None:
        self._groups.clear()
        self._threads.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True, slots=True)
class XetSource:
    """Which file, as whom, and which bytes ``[start, end)``."""

    repo: RepoId
    commit: str
    auth: str | None
    xet_hash: str
    size: int
    start: int
    end: int


def _opener(group, source: XetSource) -> Callable[[], Any]:
    def open_stream():
        import hf_xet

        info = hf_xet.XetFileInfo(source.xet_hash, source.size)
        return group.download_stream(info, source.start, source.end)

    return open_stream


_END = object()


class _Pump:
    """One stream iterated in a worker thread, its chunks handed to the loop in order."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue = asyncio.Queue()
        self.slots = threading.Semaphore(QUEUE_CHUNKS)
        self.stopped = threading.Event()
        self.handle = None

    def run(self, open_stream: Callable[[], Iterator[bytes]]) -> None:
        """In the worker thread: iterate until the end, an error or ``stop``."""
        try:
            self.handle = open_stream()
            for chunk in self.handle:
                if not self._take_slot():
                    return
                self._put(chunk)
            self._put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the loop, raised there
            self._put(exc)

    def _take_slot(self) -> bool:
        while not self.slots.acquire(timeout=SLOT_POLL):
            if self.stopped.is_set():
                return False
        return not self.stopped.is_set()

    def _put(self, item) -> None:
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody reads any more
            self.stopped.set()

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            item = await self.queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise XetFetchError(f"hf_xet: {item}") from item
            self.slots.release()
            yield item

    def stop(self) -> None:
        """The reader is done (or gone): end the thread and cancel hf_xet's stream."""
        self.stopped.set()
        handle = self.handle
        if handle is not None:
            try:
                handle.cancel()
            except Exception:  # noqa: BLE001 - a finished stream may refuse to cancel
                log.debug("cancelling a finished Xet stream", exc_info=True)
