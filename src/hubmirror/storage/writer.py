"""Temp file → running hash → verify digest and size → fsync → atomic rename.

Why this order: a reader of the final path must only ever see complete, verified
bytes. Hashing while writing avoids reading the blob a second time; the fsync
before the rename makes sure a crash cannot leave a renamed but empty blob.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from hubmirror.errors import IntegrityError


@dataclass(frozen=True, slots=True)
class Expected:
    """What the Hub announced: exact size and the sha256 (LFS) or git blob sha1 (regular)."""

    size: int
    sha256: str | None = None
    git_sha1: str | None = None


@dataclass(frozen=True, slots=True)
class Verified:
    sha256: str
    git_sha1: str  # "" when not computed (LFS blobs)
    size: int


class BlobWriter:
    """Writes bytes at their offsets into a temp file; hashes the contiguous prefix in order.

    Segments of a parallel fill arrive out of order, but sha256 and git-sha1 need the
    bytes in order: ``hash_until`` reads the prefix back (from the page cache) as it
    becomes contiguous. It blocks, so the fill runs it in a worker thread, where
    hashlib releases the GIL and the hashing uses the other core.
    """

    HASH_CHUNK = 4 * 1024 * 1024

    def __init__(self, temp: Path, expected: Expected, *, keep: bool = False) -> None:
        """``keep`` reuses bytes already in ``temp`` (a resumed fill); they are hashed too."""
        self.temp = temp
        self.expected = expected
        flags = os.O_RDWR | os.O_CREAT | (0 if keep else os.O_TRUNC)
        self._fd = os.open(temp, flags, 0o644)
        self._sha256 = hashlib.sha256()
        # The git blob sha1 is only worth its cost when it is what we must check
        # (regular files); LFS blobs are named and verified by sha256 alone.
        self._sha1 = hashlib.sha1() if expected.git_sha1 else None
        if self._sha1:
            self._sha1.update(b"blob %d\0" % expected.size)
        self.hashed = 0

    def write_at(self, offset: int, chunk: bytes | memoryview) -> None:
        """Write where the bytes belong; nothing past the announced size is accepted."""
        if offset + len(chunk) > self.expected.size:
            raise IntegrityError(
                f"upstream sent more than the announced {self.expected.size} bytes"
            )
        view = memoryview(chunk)
        while view:
            written = os.pwrite(self._fd, view, offset)
            view, offset = view[written:], offset + written

    def hash_until(self, end: int) -> None:
        """Feed bytes ``hashed..end`` (already written) to the hashes, in order."""
        while self.hashed < end:
            data = os.pread(self._fd, min(self.HASH_CHUNK, end - self.hashed), self.hashed)
            if not data:
                raise IntegrityError(f"temp file shorter than {end} bytes")
            self._sha256.update(data)
            if self._sha1:
                self._sha1.update(data)
            self.hashed += len(data)

    def finish(self) -> Verified:
        """Check size and hash, then fsync; raises ``IntegrityError`` on any mismatch."""
        self.hash_until(self.expected.size)
        git_sha1 = self._sha1.hexdigest() if self._sha1 else ""
        verified = Verified(self._sha256.hexdigest(), git_sha1, self.hashed)
        problem = _mismatch(self.expected, verified)
        if problem:
            self.discard()
            raise IntegrityError(problem)
        os.fsync(self._fd)
        self._close()
        return verified

    def discard(self) -> None:
        self._close()
        self.temp.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop writing but keep the bytes (an interrupted fill, to be resumed)."""
        self._close()

    def _close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _mismatch(expected: Expected, got: Verified) -> str | None:
    if got.size != expected.size:
        return f"size mismatch: expected {expected.size} bytes, got {got.size}"
    if expected.sha256 and got.sha256 != expected.sha256:
        return f"sha256 mismatch: expected {expected.sha256}, got {got.sha256}"
    if expected.git_sha1 and got.git_sha1 != expected.git_sha1:
        return f"git blob sha1 mismatch: expected {expected.git_sha1}, got {got.git_sha1}"
    return None
