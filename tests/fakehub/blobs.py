"""File contents as the Hub stores them: regular git blobs and LFS objects.

A blob is immutable and may live in memory (small data set files) or on disk (the large
files of `largefiles`, which must never be held in memory whole).
"""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.fakehub.gitobjects import git_blob_oid, lfs_pointer, xet_hash

READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Blob:
    """One file's bytes plus the ids the Hub publishes for them.

    `oid` is what tree listings call `oid`: the git sha1 of the content for a regular file,
    of the pointer text for an LFS file.
    """

    size: int
    sha256: str
    oid: str
    lfs: bool
    data: bytes | None = None
    disk_path: Path | None = None

    @classmethod
    def regular(cls, data: bytes) -> "Blob":
        sha256 = hashlib.sha256(data).hexdigest()
        return cls(len(data), sha256, git_blob_oid(data), lfs=False, data=data)

    @classmethod
    def lfs_bytes(cls, data: bytes) -> "Blob":
        sha256 = hashlib.sha256(data).hexdigest()
        oid = git_blob_oid(lfs_pointer(sha256, len(data)))
        return cls(len(data), sha256, oid, lfs=True, data=data)

    @classmethod
    def lfs_file(cls, path: Path, size: int, sha256: str) -> "Blob":
        oid = git_blob_oid(lfs_pointer(sha256, size))
        return cls(size, sha256, oid, lfs=True, disk_path=path)

    @property
    def pointer_size(self) -> int:
        return len(lfs_pointer(self.sha256, self.size))

    @property
    def xet_hash(self) -> str:
        return xet_hash(self.sha256)

    def read(self) -> bytes:
        """All the bytes; only for small files and for tests that compare contents."""
        return b"".join(self.chunks(0, self.size))

    def chunks(self, start: int, end: int, size: int = READ_CHUNK) -> Iterator[bytes]:
        """Bytes [start, end) in pieces of at most `size`, read lazily from disk if needed."""
        if self.data is not None:
            view = memoryview(self.data)
            for pos in range(start, end, size):
                yield bytes(view[pos : min(pos + size, end)])
            return
        with open(self.disk_path, "rb") as handle:
            handle.seek(start)
            remaining = end - start
            while remaining > 0:
                piece = handle.read(min(size, remaining))
                if not piece:
                    raise OSError(f"{self.disk_path} is shorter than {self.size} bytes")
                remaining -= len(piece)
                yield piece
