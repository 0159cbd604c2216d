"""Fetching a Xet-backed file's bytes from upstream with ``hf_xet``.

Upstream keeps large files in Xet storage; its plain-HTTP path is a bridge in
front of that. ``hf_xet`` speaks the CAS protocol itself: parallel, compressed,
range-resumable. The mirror uses it as a byte source only: the bytes go into the
same fill as HTTP bytes and are verified by sha256 there, because hf_xet checks
no hash of what it downloads: it trusts the CAS that serves it.

hf_xet blocks (releasing the GIL), so every stream is iterated in a worker thread
and its chunks cross to the event loop through a queue bounded in items and bytes:
a slow disk slows the download instead of growing memory. hf_xet hands over whole
reconstruction terms (up to a 64 MiB xorb each), so a span is asked for in
sub-ranges of ``SUBRANGE`` bytes, one after the other: what one stream holds in
Python is bounded by ``STREAM_BOUND`` whatever the file's size (``Held`` counts
it). The module imports hf_xet only when a fetch happens: a mirror without the
wheel simply never uses Xet.
"""

from __future__ import annotations

import asyncio
import dataclasses
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
# Bytes asked of one download_stream call. hf_xet yields a whole term per item, and a
# term reaches a whole xorb (64 MiB) on the Hub: asking for at most this many bytes
# bounds every item, and the sub-ranges of a span are fetched one after the other.
SUBRANGE = 16 * 1024 * 1024
QUEUE_BYTES = SUBRANGE  # bytes queued per stream (one item always passes, however large)
# Per stream at most: the item the thread holds, the queue, the item being written.
STREAM_BOUND = SUBRANGE + max(QUEUE_BYTES, SUBRANGE) + SUBRANGE
# Xet streams at once per fill (XetUpstreamOrigin): hf_xet parallelises inside each
# stream, and the other segments of the fill wait for a free one.
STREAMS_PER_FILL = 4
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
        self.held = Held()  # bytes of streamed chunks alive in Python right now
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
        """Bytes ``[start, end)`` of the file, in order, one ``SUBRANGE`` after the
        other (memory stays bounded); any failure is ``XetFetchError``."""
        try:
            group = await self._group(client, source)
        except Exception as exc:  # noqa: BLE001 - any failure here means "use HTTP"
            raise XetFetchError(f"no Xet session for {source.xet_hash}: {exc}") from exc
        for start in range(source.start, source.end, SUBRANGE):
            part = dataclasses.replace(source, start=start, end=min(start + SUBRANGE, source.end))
            pump = _Pump(asyncio.get_running_loop(), self.held)
            asyncio.get_running_loop().run_in_executor(
                self._threads, pump.run, _opener(group, part)
            )
            self.held.opened(1)
            try:
                async for chunk in pump.chunks():
                    yield chunk
            finally:
                self.held.opened(-1)
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


class Held:
    """Bytes of streamed chunks alive in Python (in a thread's hand, queued, or being
    written), across all streams, and the most there ever were: the memory bound's
    witness (tests, metrics). hf_xet's own buffers are bounded by ``xet_config``."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self.streams = 0  # download_stream calls running now (in the loop's thread)
        self.peak_streams = 0
        self._lock = threading.Lock()

    def opened(self, change: int) -> None:
        self.streams += change
        self.peak_streams = max(self.peak_streams, self.streams)

    def add(self, count: int) -> None:
        with self._lock:
            self.now += count
            self.peak = max(self.peak, self.now)

    def drop(self, count: int) -> None:
        with self._lock:
            self.now -= count


class _Pump:
    """One stream iterated in a worker thread, its chunks handed to the loop in order;
    at most ``QUEUE_CHUNKS`` chunks and (beyond the first) ``QUEUE_BYTES`` queued."""

    def __init__(self, loop: asyncio.AbstractEventLoop, held: Held | None = None) -> None:
        self.loop = loop
        self.held = held or Held()
        self.queue: asyncio.Queue = asyncio.Queue()
        self.room = threading.Condition()
        self.queued = [0, 0]  # items, bytes between the thread and the loop
        self.alive = 0  # bytes of this pump counted in ``held``
        self.stopped = threading.Event()
        self.handle = None

    def run(self, open_stream: Callable[[], Iterator[bytes]]) -> None:
        """In the worker thread: iterate until the end, an error or ``stop``."""
        try:
            self.handle = open_stream()
            for chunk in self.handle:
                if not self._count(len(chunk)) or not self._take_room(len(chunk)):
                    return
                self._put(chunk)
            self._put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the loop, raised there
            self._put(exc)

    def _count(self, size: int) -> bool:
        """Count a chunk in ``held`` unless the reader is gone (then it is dropped)."""
        with self.room:
            if self.stopped.is_set():
                return False
            self.alive += size
        self.held.add(size)
        return True

    def _uncount(self, size: int) -> None:
        with self.room:
            if self.stopped.is_set():
                return  # stop() dropped this pump's share already
            self.alive -= size
        self.held.drop(size)

    def _take_room(self, size: int) -> bool:
        with self.room:
            while not self._fits(size):
                self.room.wait(SLOT_POLL)
                if self.stopped.is_set():
                    return False
            self.queued[0] += 1
            self.queued[1] += size
        return not self.stopped.is_set()

    def _fits(self, size: int) -> bool:
        items, queued = self.queued
        return items == 0 or (items < QUEUE_CHUNKS and queued + size <= QUEUE_BYTES)

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
            with self.room:
                self.queued[0] -= 1
                self.queued[1] -= len(item)
                self.room.notify()
            yield item
            self._uncount(len(item))  # the reader is done with it

    def stop(self) -> None:
        """The reader is done (or gone): end the thread and cancel hf_xet's stream."""
        with self.room:
            self.stopped.set()
            alive, self.alive = self.alive, 0
            self.room.notify()
        self.held.drop(alive)
        handle = self.handle
        if handle is not None:
            try:
                handle.cancel()
            except Exception:  # noqa: BLE001 - a finished stream may refuse to cancel
                log.debug("cancelling a finished Xet stream", exc_info=True)
