"""Advisory file locks that say "this process is filling this blob".

With several worker processes (or ``hubmirror sync`` beside a server) on one data
directory, the one-fill-per-blob guarantee needs a lock every process can see.
``flock`` is released by the kernel when its holder dies, so a crashed filler
never blocks a blob forever.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class FileLock:
    """An exclusive ``flock`` on ``path``, held until ``release``."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def try_acquire(cls, path: Path) -> FileLock | None:
        """The lock, or ``None`` when another process holds it. Never blocks."""
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return None
            if _same_file(fd, path):
                return cls(path, fd)
            os.close(fd)  # the holder removed it between our open and flock: try again

    def release(self, remove: bool = True) -> None:
        """Unlock; ``remove`` deletes the lock file first (while still holding it)."""
        if self._fd < 0:
            return
        if remove:
            self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = -1


def is_locked(path: Path) -> bool:
    """Whether some live process holds the lock at ``path``."""
    lock = FileLock.try_acquire(path)
    if lock is None:
        return True
    lock.release()
    return False


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False
