"""How a fill's bytes reach the disk, the hashes and the other processes.

``SegmentSink`` writes one segment's chunks at their offsets; ``hash_along``
follows the contiguous prefix in a worker thread; ``ProgressPublisher`` writes
the progress record that other worker processes (and a later resume) read.
"""

from __future__ import annotations

import asyncio
import time

from hubmirror.errors import IntegrityError
from hubmirror.mirror.fills.state import Fill, Segment
from hubmirror.storage.progress import RUNNING, ProgressWriter
from hubmirror.storage.writer import BlobWriter

PUBLISH_INTERVAL = 0.01  # seconds between progress records for other processes


class SegmentSink:
    """Writes one segment's bytes where they belong and tells the readers."""

    def __init__(
        self, fill: Fill, segment: Segment, writer: BlobWriter, publisher: ProgressPublisher
    ) -> None:
        self.fill, self.segment, self.writer, self.publisher = fill, segment, writer, publisher

    def __call__(self, chunk: bytes) -> None:
        segment = self.segment
        if segment.position + len(chunk) > segment.end:
            raise IntegrityError("upstream sent more bytes than the range asked for")
        self.writer.write_at(segment.position, chunk)
        segment.position += len(chunk)
        self.fill.advance()
        self.publisher.maybe_publish()


async def hash_along(fill: Fill, writer: BlobWriter) -> None:
    """Hash the contiguous prefix as it grows, in a worker thread (the other core).

    A cancelled fill still waits for the thread's current read to end: the writer's
    file descriptor must not be closed (and its number reused) under a running pread.
    """
    loop = asyncio.get_running_loop()
    while writer.hashed < fill.size:
        target = fill.contiguous
        if target <= writer.hashed:
            await fill.wait_progress()
            continue
        running = loop.run_in_executor(None, writer.hash_until, target)
        try:
            await asyncio.shield(running)
        except asyncio.CancelledError:
            await asyncio.wait([running])
            raise


class ProgressPublisher:
    """Writes the fill's progress for other processes, at most every ``PUBLISH_INTERVAL``."""

    def __init__(self, fill: Fill) -> None:
        self.fill = fill
        self.keep = False  # leave the record behind: the fill stopped and may be resumed
        self.writer = ProgressWriter(fill.paths.progress)
        self.writer.publish(fill.progress())
        self.last = time.monotonic()

    def maybe_publish(self) -> None:
        now = time.monotonic()
        if now - self.last >= PUBLISH_INTERVAL:
            self.publish(RUNNING)
            self.last = now

    def publish(self, state: int) -> None:
        self.writer.publish(self.fill.progress(state))

    def close(self) -> None:
        self.writer.close(remove=not self.keep)
