"""What readers of a fill watch: which bytes are written, and how the fill ended.

A ``Fill`` is shared by every request for one blob, in this process or (through
published progress) in another. Its segments say which byte ranges are on disk in
the temp file; ``readable_end`` is all a reader needs to stream them.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hubmirror.errors import IntegrityError, UpstreamUnavailable
from hubmirror.index.queries import StoredBlob
from hubmirror.storage.blobs import FillPaths
from hubmirror.storage.progress import RUNNING, Progress
from hubmirror.types import FileEntry, RepoId


@dataclass(frozen=True, slots=True)
class FillSource:
    """Where a blob's bytes come from: one file of one commit, fetched with a caller's token."""

    repo: RepoId | None  # None: bytes read along for another node (follow_local)
    commit: str
    entry: FileEntry
    auth: str | None
    xet_hash: str | None = None  # the Xet hash upstream announced; the fill checks it


@dataclass(frozen=True, slots=True)
class FillPlan:
    """How many parallel segments a blob of a given size is fetched in."""

    segments: int = 16
    segment_min: int = 8 * 1024 * 1024
    min_free: int = 100 * 1024 * 1024  # disk space a new fill must leave free

    def split(self, size: int) -> list[tuple[int, int]]:
        """Half-open ``[start, end)`` byte spans, equal but for the last."""
        count = max(1, min(self.segments, size // max(1, self.segment_min)))
        step = -(-size // count) if size else 0
        return [(i * step, min(size, (i + 1) * step)) for i in range(count)] or [(0, 0)]


class Segment:
    """One span of the blob and how far its download got."""

    def __init__(self, start: int, end: int) -> None:
        self.start, self.end, self.position = start, end, start

    @property
    def complete(self) -> bool:
        return self.position >= self.end


# Called by ``Fills.start`` with a fill a request is about to start (not one it joins):
# raises to refuse it (nothing is fetched), or counts it against the request's client
# until it ends (``Fill.on_end``). The per-client fill limit (server.limits) is one.
FillClaim = Callable[["Fill"], None]


def fill_key(entry: FileEntry) -> str:
    return entry.sha256 or f"git-{entry.etag}"


class Fill:
    """The state readers watch: which bytes are written, and how the fill ended."""

    def __init__(self, key: str, source: FillSource, paths: FillPaths, plan: FillPlan) -> None:
        self.key = key
        self.source = source
        self.size = source.entry.size
        self.paths = paths
        self.temp = paths.part
        self.segments = [Segment(a, b) for a, b in plan.split(self.size)]
        self.blob: StoredBlob | None = None
        self.final_path: Path | None = None
        self.error: BaseException | None = None
        self.upstreams: set[str] = set()
        self.locations: dict[str, str] = {}  # upstream → where its bytes are (CDN link)
        self.origin = None  # where the bytes come from now (mirror.origins); may change
        self.leader = False  # this node fetches from upstream and shares the blob
        self.xet_check: str | None = None  # a Xet hash this fill verifies before its last byte
        # Bytes are arriving: set by each byte written, cleared by a failed attempt that
        # brought none. A request waits for it before its status line (``ready``).
        self.flowing = False
        self.started = time.monotonic()  # for the pages' rate and time left
        self._progress = asyncio.Event()
        self._on_end: list[Callable[[], None]] = []

    @property
    def done(self) -> bool:
        return self.blob is not None or self.error is not None

    @property
    def contiguous(self) -> int:
        """Length of the prefix written without gaps (what the hasher may read)."""
        for segment in self.segments:
            if not segment.complete:
                return segment.position
        return self.size

    def readable_end(self, position: int) -> int:
        """End of the run of written bytes starting at ``position`` (exclusive).

        The last byte of the blob is held back until the whole blob is verified.
        """
        if self.blob is not None:
            return self.size
        end = position
        for segment in self.segments:
            if segment.end <= end:
                continue
            if segment.start > end:
                break
            end = segment.position
            if not segment.complete:
                break
        return min(end, self.size - 1)

    def distance_ahead(self, position: int) -> int:
        """How far ``position`` lies beyond the bytes its segment has written so far."""
        for segment in self.segments:
            if segment.start <= position < segment.end:
                return max(0, position - segment.position)
        return 0

    def advance(self) -> None:
        self.flowing = True
        self._wake()

    def stalled(self) -> None:
        """An attempt to fetch failed: until bytes come again, new readers wait."""
        self.flowing = False

    def progress(self, state: int = RUNNING) -> Progress:
        return Progress(state, tuple((s.start, s.end, s.position) for s in self.segments))

    def follow(self, progress: Progress) -> bool:
        """Adopt another process's published progress (same plan, same segments); whether
        any segment grew."""
        if len(progress.segments) != len(self.segments):
            self.segments = [Segment(a, b) for a, b, _ in progress.segments]
        grew = False
        for segment, (_, _, position) in zip(self.segments, progress.segments, strict=True):
            grew = grew or position > segment.position
            segment.position = max(segment.position, position)
        self._wake()
        return grew

    def on_end(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the fill has ended (stored, failed or cancelled); now if
        it has. Whoever counts fills (the per-client limit) releases them here."""
        if self.done:
            callback()
        else:
            self._on_end.append(callback)

    def finish(self, blob: StoredBlob, final_path: Path) -> None:
        self.blob, self.final_path = blob, final_path
        self._end()

    def fail(self, error: BaseException) -> None:
        self.error = error
        self._end()

    def _end(self) -> None:
        self._wake()
        callbacks, self._on_end = self._on_end, []
        for callback in callbacks:
            callback()

    async def wait_beyond(self, position: int) -> None:
        """Return once a byte at ``position`` is readable or the fill has ended."""
        while self.readable_end(position) <= position and not self.done:
            await self._progress.wait()

    async def ready(self, first: int, last: int) -> None:
        """Return once a response for bytes ``first..last`` may send its status line: the
        fill is flowing, holds all of them already, or is stored. Raise how it ended if it
        failed first: during an upstream outage the client gets an error status, not a
        200 whose body is cut."""
        while not self.done and not self.flowing and self.readable_end(first) <= last:
            await self._progress.wait()
        if self.blob is None and self.error is not None:
            raise _as_exception(self.error)

    async def wait_progress(self) -> None:
        if not self.done:
            await self._progress.wait()

    def _wake(self) -> None:
        event, self._progress = self._progress, asyncio.Event()
        event.set()


def _as_exception(error: BaseException) -> Exception:
    """A fill cancelled at shutdown ended with ``CancelledError``: not the reader's own."""
    if isinstance(error, Exception):
        return error
    return UpstreamUnavailable("the mirror stopped this download (shutting down); retry")


async def open_when_readable(fill: Fill) -> int:
    """``open_for_reading``, waiting while a followed fill has no file to open yet.

    A fill run by another process is seen through its lock and progress record: a
    reader may look before that process created its temp file, or after it renamed
    it but before this process learnt the final path. Either lasts one poll.
    """
    while True:
        try:
            return open_for_reading(fill)
        except IntegrityError:
            if fill.done:
                raise
        await fill.wait_progress()


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
