"""A file being downloaded: ``<name>.incomplete`` plus ``<name>.incomplete.parts``.

Bytes are written in place (``pwrite`` at their offset), so parallel parts share one file.
The sidecar records each part's position and is rewritten at most every
``SAVE_INTERVAL`` seconds and whenever the download stops; it only ever claims bytes that
were already written, so a killed process loses at most a moment of progress, never
correctness (and the final hash check would catch anything else). Only a verified file
leaves the ``.incomplete`` name, by rename.

An exclusive ``flock`` on the ``.incomplete`` file keeps two downloads of one blob (two
``hubmirror download`` runs on one cache) from writing over each other.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from pathlib import Path

from hubmirror.client.parts import Part, parts_from_sidecar, plan_parts, sidecar_body
from hubmirror.errors import HubMirrorError

SAVE_INTERVAL = 0.5


class FileBusy(HubMirrorError):
    """Another process is downloading the same file into the same place."""


class PartialFile:
    def __init__(self, path: Path, size: int, etag: str) -> None:
        self.path = path
        self.sidecar = path.with_name(path.name + ".parts")
        self.size = size
        self.etag = etag
        self.parts: list[Part] = []
        self._fd = -1
        self._saved_at = 0.0

    @property
    def present(self) -> int:
        """Bytes already on disk (resumed from an earlier run, or fetched in this one)."""
        return sum(p.pos - p.start for p in self.parts)

    def open(self, jobs: int) -> None:
        """Resume what the sidecar records, or start over with fresh parts."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = -1
            raise FileBusy(f"another download is writing {self.path}") from None
        resumed = parts_from_sidecar(_read_json(self.sidecar), self.size, self.etag)
        if resumed is None or os.fstat(self._fd).st_size != self.size:
            resumed = plan_parts(self.size, jobs)
            os.ftruncate(self._fd, 0)
            os.ftruncate(self._fd, self.size)
        self.parts = resumed
        self.save()

    def write(self, part: Part, data: bytes) -> None:
        """Put ``data`` at ``part.pos``; advance the part; save the sidecar now and then."""
        view = memoryview(data)
        while view:
            written = os.pwrite(self._fd, view, part.pos)
            part.pos += written
            view = view[written:]
        if time.monotonic() - self._saved_at >= SAVE_INTERVAL:
            self.save()

    def save(self) -> None:
        body = sidecar_body(self.size, self.etag, self.parts)
        temp = self.sidecar.with_name(self.sidecar.name + ".tmp")
        temp.write_text(json.dumps(body))
        os.replace(temp, self.sidecar)
        self._saved_at = time.monotonic()

    def close(self) -> None:
        """Stop writing (progress recorded, lock released); the file stays for a resume."""
        if self._fd >= 0:
            self.save()
            os.close(self._fd)
            self._fd = -1

    def done(self) -> None:
        """The bytes are in and verified: the sidecar is no longer needed."""
        self.close()
        self.sidecar.unlink(missing_ok=True)

    def discard(self) -> None:
        """Throw the bytes away (they failed verification): nothing of them stays."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        for path in (self.path, self.sidecar):
            path.unlink(missing_ok=True)


def _read_json(path: Path) -> object:
    with contextlib.suppress(OSError, ValueError):
        return json.loads(path.read_text())
    return None
