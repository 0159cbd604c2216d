"""Putting a server's copy of a blob into the page cache, or taking it out.

"Evicted" means `posix_fadvise(DONTNEED)` on every copy after a `sync` (dirty pages are not
dropped), so the next read comes from the disk. "Cached" means one untimed read first.
"""

import os
from collections.abc import Iterable
from pathlib import Path

READ_BLOCK = 4 * 1024 * 1024


def evict(paths: Iterable[Path]) -> None:
    os.sync()
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def preload(paths: Iterable[Path]) -> None:
    buffer = bytearray(READ_BLOCK)
    for path in paths:
        with open(path, "rb", buffering=0) as handle:
            while handle.readinto(buffer):
                pass


def mirror_blob(data: Path, sha256: str) -> Path:
    """Where the mirror keeps a blob: DATA/blobs/sha256/ab/cd/<sha256>."""
    return data / "blobs" / "sha256" / sha256[:2] / sha256[2:4] / sha256


def big_files(root: Path, min_size: int) -> list[Path]:
    """Files under `root` of at least min_size bytes (olah splits a blob into blocks)."""
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.stat().st_size >= min_size:
                found.append(path)
    return found
