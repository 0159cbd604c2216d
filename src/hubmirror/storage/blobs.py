"""Content-addressed blob store: each blob once, at ``blobs/sha256/ab/cd/<digest>``.

The store knows digests and files only. Which repo, revision or path points at a
blob is the index's business, so one blob serves every repo that contains it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from hubmirror.types import is_digest


@dataclass(frozen=True, slots=True)
class FillPaths:
    part: Path  # the bytes, renamed into the store once verified (same filesystem: atomic)
    lock: Path
    progress: Path


class BlobStore:
    def __init__(self, root: Path, tmp: Path) -> None:
        self.root = root
        self.tmp = tmp

    def path_for(self, digest: str) -> Path:
        if not is_digest(digest):
            raise ValueError(f"not a sha256 digest: {digest!r}")
        return self.root / digest[:2] / digest[2:4] / digest

    def has(self, digest: str) -> bool:
        return self.path_for(digest).is_file()

    def size_of(self, digest: str) -> int | None:
        try:
            return self.path_for(digest).stat().st_size
        except FileNotFoundError:
            return None

    def fill_paths(self, key: str) -> FillPaths:
        """Where the fill of ``key`` keeps its bytes, lock and progress: one name per blob,
        so every process on this data directory finds the same fill."""
        return FillPaths(
            self.tmp / f"{key}.part", self.tmp / f"{key}.lock", self.tmp / f"{key}.progress"
        )

    def commit(self, temp: Path, digest: str) -> Path:
        """Move a verified, fsynced temp file into place; a blob already there wins."""
        final = self.path_for(digest)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, final)
        _fsync_dir(final.parent)
        return final

    def remove(self, digest: str) -> None:
        self.path_for(digest).unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    """Make the rename itself durable, not only the file's bytes."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
