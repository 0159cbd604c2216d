"""One fill per blob: fetched once, streamed to every waiting reader, verified, recorded.

A fill writes upstream bytes into a temp file and announces how far it got;
readers (the first client and any that arrive later, GET or Range) read the temp
file up to that point and wait for more. When the last byte is in, the hash and
size are checked; only then is the file renamed into the store and indexed. A
mismatch discards the temp file and marks the fill failed, and every reader
aborts its connection, so no client can mistake bad bytes for a complete file.

A dropped upstream connection is resumed with a Range request from the last
byte written, on the next upstream if its own fails. The fill runs as its own
task: a client that goes away does not cancel it for the others.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from hubmirror.errors import HubMirrorError, IntegrityError, UpstreamUnavailable
from hubmirror.index.queries import Index, StoredBlob
from hubmirror.storage.blobs import BlobStore
from hubmirror.storage.writer import BlobWriter, Expected
from hubmirror.types import FileEntry, RepoId
from hubmirror.upstream.pool import UpstreamPool

log = logging.getLogger(__name__)

CHUNK = 256 * 1024  # measured: larger chunks collapse under concurrent fills
MAX_RESUMES = 5


@dataclass(frozen=True, slots=True)
class FillSource:
    """Where a blob's bytes come from: one file of one commit, fetched with a caller's token."""

    repo: RepoId
    commit: str
    entry: FileEntry
    auth: str | None


def fill_key(entry: FileEntry) -> str:
    return entry.sha256 or f"git-{entry.etag}"


class Fill:
    """The state readers watch: bytes written so far, and how it ended."""

    def __init__(self, key: str, source: FillSource, temp: Path) -> None:
        self.key = key
        self.source = source
        self.size = source.entry.size
        self.temp = temp
        self.written = 0
        self.blob: StoredBlob | None = None
        self.final_path: Path | None = None
        self.error: BaseException | None = None
        self.upstream_bytes = 0
        self._progress = asyncio.Event()

    @property
    def done(self) -> bool:
        return self.blob is not None or self.error is not None

    def advance(self, written: int) -> None:
        self.written = written
        self._wake()

    def finish(self, blob: StoredBlob, final_path: Path) -> None:
        self.blob, self.final_path = blob, final_path
        self._wake()

    def fail(self, error: BaseException) -> None:
        self.error = error
        self._wake()

    @property
    def readable(self) -> int:
        """Bytes a reader may send: all written ones, except the last until it is verified.

        Holding back the final byte means a client can never complete a download whose
        hash turns out wrong: on a mismatch its connection is aborted one byte short.
        """
        if self.blob is not None:
            return self.size
        return min(self.written, self.size - 1)

    async def wait_beyond(self, position: int) -> None:
        """Return once more than ``position`` bytes are readable or the fill has ended."""
        while self.readable <= position and not self.done:
            await self._progress.wait()

    def _wake(self) -> None:
        event, self._progress = self._progress, asyncio.Event()
        event.set()


class Fills:
    def __init__(
        self,
        store: BlobStore,
        index: Index,
        pool: UpstreamPool,
        clock: Callable[[], float] = time.time,
        on_filled: Callable[[FileEntry, StoredBlob], None] | None = None,
    ) -> None:
        self.on_filled = on_filled or (lambda _entry, _blob: None)
        self.store = store
        self.index = index
        self.pool = pool
        self.clock = clock
        self.running: dict[str, Fill] = {}
        self._tasks: set[asyncio.Task] = set()

    def start(self, source: FillSource) -> Fill:
        """The running fill for this blob, or a new one started now."""
        key = fill_key(source.entry)
        fill = self.running.get(key)
        if fill is not None:
            return fill
        fill = Fill(key, source, self.store.new_temp_path(key))
        writer = BlobWriter(fill.temp, _expected(source.entry))  # readers may open it at once
        self.running[key] = fill
        task = asyncio.get_running_loop().create_task(self._run(fill, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return fill

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, fill: Fill, writer: BlobWriter) -> None:
        entry = fill.source.entry
        try:
            await self._download(fill, writer)
            verified = await asyncio.to_thread(writer.finish)
            blob = StoredBlob(verified.sha256, verified.git_sha1, verified.size)
            final = self.store.commit(fill.temp, blob.sha256)
            self.index.put_blob(blob, self.clock())
            self.on_filled(entry, blob)
            fill.finish(blob, final)
            log.info("filled %s %s (%d bytes)", fill.source.repo.key, entry.path, entry.size)
        except BaseException as exc:  # noqa: BLE001 - every ending must reach the readers
            writer.discard()
            fill.fail(exc)
            log.warning("fill of %s %s failed: %s", fill.source.repo.key, entry.path, exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self.running.pop(fill.key, None)

    async def _download(self, fill: Fill, writer: BlobWriter) -> None:
        """Copy upstream bytes into ``writer``, resuming after drops from the last byte.

        Only attempts that bring no new byte count against ``MAX_RESUMES``: a link
        that drops every few megabytes still finishes, a dead one gives up quickly.
        """
        failures = 0
        while writer.written < fill.size or fill.size == 0:
            client = self._pick_upstream(failures)
            before = writer.written
            try:
                await self._copy_from(client, fill, writer)
                self.pool.succeeded(client)
                if fill.size == 0 or writer.written >= fill.size:
                    return
            except (aiohttp.ClientError, TimeoutError, UpstreamUnavailable) as exc:
                self.pool.failed(client, exc)
                failures = 0 if writer.written > before else failures + 1
                if failures > MAX_RESUMES:
                    raise UpstreamUnavailable(f"fill of {fill.source.entry.path} gave up") from exc
                await asyncio.sleep(min(0.2 * failures, 2.0))

    def _pick_upstream(self, failures: int):
        candidates = self.pool.candidates() or self.pool.clients
        return candidates[failures % len(candidates)]

    async def _copy_from(self, client, fill: Fill, writer: BlobWriter) -> None:
        src = fill.source
        async with client.open_file(
            src.repo, src.commit, src.entry.path, src.auth, start=writer.written
        ) as resp:
            async for chunk in resp.content.iter_chunked(CHUNK):
                writer.write(chunk)
                fill.upstream_bytes += len(chunk)
                fill.advance(writer.written)
        if writer.written < fill.size:
            raise UpstreamUnavailable("upstream closed the body early")


def _expected(entry: FileEntry) -> Expected:
    return Expected(entry.size, sha256=entry.sha256, git_sha1=None if entry.lfs else entry.etag)


def open_for_reading(fill: Fill) -> int:
    """A file descriptor on the fill's bytes, whether still in temp or already renamed."""
    for path in (fill.temp, fill.final_path):
        if path is None:
            continue
        try:
            return os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
    if fill.error is not None:
        raise fill.error
    raise IntegrityError("fill vanished before it could be read")


__all__ = ["Fill", "Fills", "FillSource", "HubMirrorError", "open_for_reading"]
