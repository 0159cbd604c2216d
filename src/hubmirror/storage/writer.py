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
    git_sha1: str
    size: int


class BlobWriter:
    """Appends bytes to a temp file while hashing them; ``finish`` verifies and fsyncs."""

    def __init__(self, temp: Path, expected: Expected) -> None:
        self.temp = temp
        self.expected = expected
        # Unbuffered: readers of a fill in progress read this file through their own
        # descriptors, so every byte counted in ``written`` must already be in the OS.
        self._file = open(temp, "wb", buffering=0)  # noqa: SIM115 - closed in finish/discard
        self._sha256 = hashlib.sha256()
        self._sha1 = hashlib.sha1()
        self._sha1.update(b"blob %d\0" % expected.size)
        self.written = 0

    def write(self, chunk: bytes | memoryview) -> None:
        if self.written + len(chunk) > self.expected.size:
            raise IntegrityError(
                f"upstream sent more than the announced {self.expected.size} bytes"
            )
        view = memoryview(chunk)
        while view:
            view = view[self._file.write(view) :]
        self._sha256.update(chunk)
        self._sha1.update(chunk)
        self.written += len(chunk)

    def finish(self) -> Verified:
        """Check size and hash, then fsync; raises ``IntegrityError`` on any mismatch."""
        verified = Verified(self._sha256.hexdigest(), self._sha1.hexdigest(), self.written)
        problem = _mismatch(self.expected, verified)
        if problem:
            self.discard()
            raise IntegrityError(problem)
        os.fsync(self._file.fileno())
        self._file.close()
        return verified

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.temp.unlink(missing_ok=True)


def _mismatch(expected: Expected, got: Verified) -> str | None:
    if got.size != expected.size:
        return f"size mismatch: expected {expected.size} bytes, got {got.size}"
    if expected.sha256 and got.sha256 != expected.sha256:
        return f"sha256 mismatch: expected {expected.sha256}, got {got.sha256}"
    if expected.git_sha1 and got.git_sha1 != expected.git_sha1:
        return f"git blob sha1 mismatch: expected {expected.git_sha1}, got {got.git_sha1}"
    return None
