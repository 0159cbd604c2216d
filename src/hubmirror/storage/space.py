"""Disk space a fill holds from its first byte: the node-wide lock, and preallocation.

Checking free space is not enough when several fills (in several worker processes,
or ``hubmirror sync`` beside a server) start at once: each sees the same free space,
all start, and the last ones hit ENOSPC half-way, after their clients got a 200.
So a fill's whole size is allocated (``posix_fallocate``) when it starts, under one
lock every process on the data directory takes: the free space the next fill sees
already excludes it, the filesystem itself is the ledger (nothing to leak when a
process dies), and a fill that started can no longer run out of space.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from hubmirror.errors import StorageFull

LOCK_NAME = "space.lock"  # beside the temp folder, in the data directory
PART_SUFFIX = ".part"  # a fill's bytes in the temp folder (storage/blobs.py names them)


@contextlib.contextmanager
def space_lock(tmp: Path) -> Iterator[None]:
    """Held while one fill checks and takes its space; other processes wait (milliseconds)."""
    fd = os.open(tmp.parent / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def parts_bytes(tmp: Path, besides: Path) -> int:
    """Bytes the fills of this data directory hold in their temp files, ``besides`` one.

    Preallocated parts have their full size; one left by an older version may be
    sparse and count more than it holds, which only errs on the safe side.
    """
    total = 0
    for entry in os.scandir(tmp):
        if entry.name.endswith(PART_SUFFIX) and entry.path != str(besides):
            with contextlib.suppress(FileNotFoundError):  # renamed into the store meanwhile
                total += entry.stat().st_size
    return total


def allocated_bytes(part: Path) -> int:
    """Bytes the filesystem has given ``part`` already (a resumed fill's)."""
    try:
        return part.stat().st_blocks * 512
    except FileNotFoundError:
        return 0


def preallocate(part: Path, size: int, *, fresh: bool) -> None:
    """Give ``part`` all of its ``size`` bytes on disk; ``fresh`` empties it first.

    Raises ``StorageFull`` when the disk cannot hold it (the fresh file is removed).
    A filesystem that cannot preallocate (some network mounts) is left sparse: the
    free-space check made under the lock still stands for it.
    """
    fd = os.open(part, os.O_RDWR | os.O_CREAT | (os.O_TRUNC if fresh else 0), 0o644)
    try:
        if size:
            os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            if exc.errno in (errno.EOPNOTSUPP, errno.EINVAL):
                return
            raise
        if fresh:
            part.unlink(missing_ok=True)
        raise StorageFull(
            f"no room for a {size}-byte file in {part.parent}: the disk is full"
        ) from exc
    finally:
        os.close(fd)
