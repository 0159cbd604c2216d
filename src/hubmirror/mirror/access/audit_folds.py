"""One audit record per file download, however many ranged requests brought it.

``hubmirror download`` fetches a large file in parallel ranges (and asks again from
where a dropped connection stopped); each request tags itself with
``X-Hubmirror-Download: <id>; parts=<n>``. Records with the same tag, caller and file
are folded into one: their bytes summed, ``MISS`` if any part was a miss. It is
written once ``n`` requests have ended whole (status 200, bytes the sum), or, for a
download that stopped part-way, ``IDLE_SECONDS`` after its last request (marked
``incomplete``), or when the log closes. Untagged requests (every other client: a
single GET, or ranges a reader chose) stay one record each, as they were asked.

The tag comes from the client, so it only groups what the client says belongs
together; it cannot hide a download (every byte is counted in some record) nor
grow memory beyond ``MAX_OPEN`` open downloads (past that, parts are recorded as
they come).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

IDLE_SECONDS = 600.0  # a tagged download with no request for this long has stopped
MAX_OPEN = 10_000  # open downloads kept in memory at most
_SAME_DOWNLOAD = ("address", "fingerprint", "identity", "repo_type", "repo", "commit", "path")


@dataclass
class _Open:
    record: dict[str, Any]
    parts: int
    whole: int = 0  # requests that ended with their body sent whole
    last: float = field(default_factory=time.monotonic)


class DownloadFolds:
    """Open tagged downloads; ``write`` receives each folded record when it is done."""

    def __init__(
        self, write: Callable[[dict[str, Any]], None], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.write = write
        self.clock = clock
        self._open: dict[tuple, _Open] = {}

    def add(self, record: dict[str, Any], download_id: str, parts: int) -> None:
        """Fold one tagged download record (``event`` ``download``) into its download."""
        key = (download_id, *(record.get(name) for name in _SAME_DOWNLOAD))
        folded = self._open.get(key)
        if folded is None:
            if len(self._open) >= MAX_OPEN:
                self.write(record)
                return
            folded = self._open[key] = _Open(dict(record), parts)
        else:
            _merge(folded.record, record)
        folded.last = self.clock()
        if record.get("reason") is None and record.get("status") in (200, 206):
            folded.whole += 1
        if folded.whole >= folded.parts:
            del self._open[key]
            folded.record |= {"status": 200, "reason": None}
            self.write(folded.record)

    def expire(self, everything: bool = False) -> None:
        """Write the downloads idle for ``IDLE_SECONDS`` (all of them: ``everything``)."""
        now = self.clock()
        for key, folded in list(self._open.items()):
            if everything or now - folded.last >= IDLE_SECONDS:
                del self._open[key]
                folded.record["reason"] = f"incomplete: {folded.whole} of {folded.parts} parts"
                self.write(folded.record)

    def __len__(self) -> int:
        return len(self._open)


def _merge(into: dict[str, Any], record: dict[str, Any]) -> None:
    into["bytes"] = (into.get("bytes") or 0) + (record.get("bytes") or 0)
    if record.get("cache") == "MISS":
        into["cache"] = "MISS"
    if record.get("status") not in (200, 206):
        into["status"] = record.get("status")
