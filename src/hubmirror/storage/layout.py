"""The data directory's layout: a version stamp, and a sweep of leftovers at start.

A mirror that meets a data directory written by another layout version refuses
to start instead of guessing: serving from a misread store would be worse.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from hubmirror.storage.locks import FileLock
from hubmirror.storage.progress import RUNNING, read_progress

LAYOUT_VERSION = 1
RESUMABLE_FOR = 7 * 24 * 3600  # seconds an interrupted fill's bytes wait to be resumed
_STAMP = "LAYOUT"
_STAMP_TEXT = "hubmirror data layout {version}\n"

log = logging.getLogger(__name__)


class LayoutMismatch(RuntimeError):
    """The data directory was written by an incompatible hubmirror."""


class NoDataDir(LayoutMismatch):
    """A command that only reads a store was pointed where no store is."""


def require_data_dir(root: str | Path) -> None:
    """Refuse, rather than create, a data directory a reading command was pointed at: an
    empty new store would answer "nothing cached" where the real one is elsewhere."""
    path = Path(root).expanduser()
    if not (path / _STAMP).is_file():
        raise NoDataDir(
            f"no hubmirror data directory at {path}: point --data (or HUBMIRROR_HOME) at the "
            "one the server uses"
        )


@dataclass(frozen=True)
class DataLayout:
    """Where each kind of file lives below the data directory."""

    root: Path

    @property
    def blobs(self) -> Path:
        return self.root / "blobs" / "sha256"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def index(self) -> Path:
        return self.root / "index.sqlite"


def prepare_data_dir(root: str | Path) -> DataLayout:
    """Create or check the data directory, then sweep temp files left by a crash."""
    layout = DataLayout(Path(root).expanduser().resolve())
    layout.root.mkdir(parents=True, exist_ok=True)
    _check_stamp(layout.root / _STAMP)
    layout.blobs.mkdir(parents=True, exist_ok=True)
    layout.tmp.mkdir(parents=True, exist_ok=True)
    swept = sweep_temp_files(layout.tmp)
    if swept:
        log.info("swept %d unfinished temp file(s) from %s", swept, layout.tmp)
    return layout


def _check_stamp(stamp: Path) -> None:
    if not stamp.exists():
        if (stamp.parent / "blobs").exists():
            raise LayoutMismatch(
                f"{stamp.parent} holds a store without a layout stamp; "
                "point --data at an empty directory or restore its LAYOUT file"
            )
        stamp.write_text(_STAMP_TEXT.format(version=LAYOUT_VERSION))
        return
    found = stamp.read_text().strip().rsplit(" ", 1)[-1]
    if found != str(LAYOUT_VERSION):
        raise LayoutMismatch(
            f"{stamp.parent} uses data layout {found}, this hubmirror uses {LAYOUT_VERSION}; "
            "run the matching hubmirror version or start with an empty --data directory"
        )


def sweep_temp_files(tmp: Path, now: float | None = None) -> int:
    """Delete what dead fills left in ``tmp``; fills whose lock is held live on.

    Another process (a worker, ``hubmirror sync``) may be filling into the same data
    directory right now: its lock file is held, and its files are left alone. An
    interrupted fill's bytes and progress record are kept for ``RESUMABLE_FOR``
    seconds, so the next fill of that blob continues where it stopped.
    """
    count = 0
    now = time.time() if now is None else now
    for leftover in sorted(tmp.iterdir()):
        if leftover.suffix == ".staging" and leftover.is_dir() and not leftover.is_symlink():
            count += _sweep_folder(tmp, leftover)
            continue
        if not leftover.is_file() or leftover.suffix == ".lock":
            continue
        key = leftover.name.split(".", 1)[0]
        if now - leftover.stat().st_mtime < RESUMABLE_FOR and is_resumable(tmp, key):
            continue
        lock_path = tmp / (key + ".lock")
        lock = FileLock.try_acquire(lock_path)
        if lock is None:
            continue
        leftover.unlink(missing_ok=True)
        lock.release()
        count += 1
    return count


def _sweep_folder(tmp: Path, folder: Path) -> int:
    """``<key>.staging`` (``hubmirror import``) whose ``<key>.lock`` nobody holds: it died."""
    lock = FileLock.try_acquire(tmp / (folder.name.split(".", 1)[0] + ".lock"))
    if lock is None:
        return 0
    shutil.rmtree(folder, ignore_errors=True)
    lock.release()
    return 1


def is_resumable(tmp: Path, key: str) -> bool:
    """A fill of ``key`` stopped mid-way (no end recorded) and left its bytes."""
    progress = read_progress(tmp / f"{key}.progress")
    return progress is not None and progress.state == RUNNING and (tmp / f"{key}.part").is_file()
