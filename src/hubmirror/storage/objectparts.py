"""The pieces of a verified upload: parts read and hashed off the event loop, a window
of parts in flight, and the part size that keeps any blob under S3's part limit.

Every byte is read once: the reader hashes the whole file (sha256, in order) while it
cuts the parts, and each part carries the MD5 the store must echo back as its ETag
(computed in the part's own worker thread, so the MD5s of parts in flight use every core).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from hubmirror.errors import IntegrityError

MIN_PART_SIZE = 5 * 1024**2  # S3 refuses smaller parts (except the last one)
MAX_PARTS = 9000  # S3 allows 10 000; the margin absorbs rounding
PARTS_IN_FLIGHT = 4


def part_size_for(size: int, part_size: int) -> int:
    """At least ``part_size``, and large enough that ``size`` needs at most MAX_PARTS."""
    return max(part_size, math.ceil(size / MAX_PARTS))


@dataclass(frozen=True, slots=True)
class Part:
    number: int  # 1-based, as S3 counts
    data: bytes
    md5_hex: str  # what the ETag of a correctly stored part is

    @classmethod
    def of(cls, number: int, data: bytes) -> Part:
        """Blocking (MD5 of the whole part): each part's runs in its own worker thread."""
        return cls(number, data, hashlib.md5(data, usedforsecurity=False).hexdigest())

    @property
    def md5_b64(self) -> str:
        """The Content-MD5 header: the store refuses the part if the bytes differ."""
        return base64.b64encode(bytes.fromhex(self.md5_hex)).decode()


def etag_matches(answer: dict[str, Any], part: Part) -> bool:
    """The store kept the bytes we hashed. Under SSE-KMS or SSE-C the ETag is not an MD5;
    there S3's own Content-MD5 check (a BadDigest refusal) is the proof."""
    if answer.get("ServerSideEncryption") == "aws:kms" or answer.get("SSECustomerAlgorithm"):
        return True
    return (answer.get("ETag") or "").strip('"').lower() == part.md5_hex


class PartReader:
    """Cuts a file into parts in order; blocking, so every call runs in a worker thread."""

    def __init__(self, path: Path, size: int, part_size: int) -> None:
        self.path = path
        self.size = size
        self.part_size = part_size
        self.count = max(1, math.ceil(size / part_size))
        self._file: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._sha256 = hashlib.sha256()
        self._read = 0

    def read_part(self) -> bytes:
        """The next part's bytes, hashed into the whole file's sha256 on the way."""
        length = min(self.part_size, self.size - self._read)
        data = self._file.read(length)
        if len(data) != length:
            raise IntegrityError(
                f"{self.path} ended at {self._read + len(data)} bytes, expected {self.size}"
            )
        self._read += length
        self._sha256.update(data)
        return data

    def finish(self, digest: str) -> None:
        """The file ended where announced and its bytes hash to ``digest``."""
        if self._file.read(1):
            raise IntegrityError(f"{self.path} is longer than the {self.size} bytes announced")
        if self._sha256.hexdigest() != digest:
            raise IntegrityError(f"{self.path} does not hash to {digest}")

    def close(self) -> None:
        self._file.close()


def read_whole(path: Path, size: int, digest: str) -> Part:
    """A small file as one part, checked against its size and digest (blocking)."""
    reader = PartReader(path, size, max(size, 1))
    try:
        data = reader.read_part()
        reader.finish(digest)
    finally:
        reader.close()
    return Part.of(1, data)


class Window:
    """At most ``limit`` tasks at once; the first failure is raised by ``add`` or ``drain``."""

    def __init__(self, limit: int = PARTS_IN_FLIGHT) -> None:
        self.limit = limit
        self._tasks: set[asyncio.Task] = set()
        self._results: list[Any] = []

    async def add(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Start ``fn(*args)`` once there is room (the call is only made if it starts)."""
        while len(self._tasks) >= self.limit:
            await self._wait_one()
        self._tasks.add(asyncio.ensure_future(fn(*args)))

    async def drain(self) -> list[Any]:
        """Every result, in the order the tasks finished."""
        while self._tasks:
            await self._wait_one()
        return self._results

    async def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _wait_one(self) -> None:
        done, _ = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            self._tasks.discard(task)
            self._results.append(task.result())  # a failed part raises here
