"""The data directory's layout: a version stamp, and a sweep of leftovers at start.

A mirror that meets a data directory written by another layout version refuses
to start instead of guessing: serving from a misread store would be worse.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from hubmirror.storage.locks import FileLock

LAYOUT_VERSION = 1
_STAMP = "LAYOUT"
_STAMP_TEXT = "hubmirror data layout {version}\n"

log = logging.getLogger(__name__)


class LayoutMismatch(RuntimeError):
    """The data directory was written by an incompatible hubmirror."""


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


def sweep_temp_files(tmp: Path) -> int:
    """Delete what dead fills left in ``tmp``; fills whose lock is held live on.

    Another process (a worker, ``hubmirror sync``) may be filling into the same data
    directory right now: its lock file is held, and its files are left alone.
    """
    count = 0
    for leftover in sorted(tmp.iterdir()):
        if not leftover.is_file() or leftover.suffix == ".lock":
            continue
        lock_path = tmp / (leftover.name.split(".", 1)[0] + ".lock")
        lock = FileLock.try_acquire(lock_path)
        if lock is None:
            continue
        leftover.unlink(missing_ok=True)
        lock.release()
        count += 1
    return count
