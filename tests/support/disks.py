"""Small real disks (tmpfs mounts) for tests of what a full disk does."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_disk(folder: Path, mib: int) -> Iterator[Path]:
    """A ``mib`` MiB tmpfs mounted at ``folder``: a real full disk, not a simulated one."""
    with _tmpfs(folder, f"size={mib}m"):
        yield folder


@contextlib.contextmanager
def read_only_disk(folder: Path) -> Iterator[Path]:
    """A read-only tmpfs mounted at ``folder``: writes fail with EROFS, even for root."""
    with _tmpfs(folder, "ro,size=1m"):
        yield folder


@contextlib.contextmanager
def _tmpfs(folder: Path, options: str) -> Iterator[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True
    )
    if done.returncode != 0:
        why = f"mounting a tmpfs needs root (CAP_SYS_ADMIN): {done.stderr.decode().strip()}"
        if os.environ.get("CI"):  # CI runs as root: these tests must run there, not vanish
            pytest.fail(why)
        pytest.skip(why)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


class Sampler:
    """Samples a number (free space, bytes stored) every ``interval`` seconds in a thread;
    the lowest and highest seen."""

    def __init__(self, measure, interval: float = 0.005) -> None:
        self.measure = measure
        self.interval = interval
        self.low = self.high = measure()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            value = self.measure()
            self.low, self.high = min(self.low, value), max(self.high, value)


def free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def stored_bytes(data: Path) -> int:
    """Bytes in the store's blobs and in fills' temp files under data directory ``data``."""
    total = 0
    for folder in (data / "blobs", data / "tmp"):
        for path in folder.rglob("*"):
            with contextlib.suppress(FileNotFoundError):
                if path.is_file() and (len(path.name) == 64 or path.suffix == ".part"):
                    total += path.stat().st_size
    return total
