"""A byte range being read from the object store: its place in the blob, and its chunks.

The HTTP library's own payload errors cannot be named in the storage layer (it knows
nothing of HTTP), so any failure while the body streams becomes ``StoreUnavailable``:
a broken download is an outage, never a short file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from hubmirror.storage.objecterrors import StoreTarget, translate

CHUNK_SIZE = 256 * 1024


class ObjectRange:
    """``size`` is the whole object's; ``start`` and ``length`` the part being read."""

    __slots__ = ("_body", "_target", "length", "size", "start")

    def __init__(self, body: Any, size: int, start: int, length: int, target: StoreTarget):
        self._body = body
        self._target = target
        self.size = size
        self.start = start
        self.length = length

    async def iter_chunks(self, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        """The range's bytes, at most ``chunk_size`` at a time; all of them, or an error."""
        chunks = self._body.iter_chunks(chunk_size)
        while True:
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            except Exception as exc:
                raise translate(exc, self._target) from exc
            yield chunk

    async def read(self) -> bytes:
        """The whole range in memory: for small blobs only."""
        return b"".join([chunk async for chunk in self.iter_chunks()])


def total_size(answer: dict[str, Any]) -> int:
    """The whole object's size from a GetObject answer: ``Content-Range: bytes a-b/TOTAL``."""
    content_range = answer.get("ContentRange")
    if content_range:
        return int(content_range.rsplit("/", 1)[1])
    return answer["ContentLength"]
