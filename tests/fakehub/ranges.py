"""HTTP Range decisions as a pure function (decide first, then do the I/O).

Clients depend on exact answers (datasets streaming reads byte ranges): a server that
ignores Range makes HfFileSystem return the wrong bytes silently, so every satisfiable
single range is a 206 with exactly those bytes and anything starting past the end is a 416.
"""

import re
from dataclasses import dataclass

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class RangePlan:
    """status 200 (whole body), 206 (bytes [start, end)) or 416."""

    status: int
    start: int
    end: int
    total: int

    @property
    def length(self) -> int:
        return self.end - self.start

    def content_range(self) -> str:
        if self.status == 416:
            return f"bytes */{self.total}"
        return f"bytes {self.start}-{self.end - 1}/{self.total}"


def plan_range(header: str | None, total: int) -> RangePlan:
    """Interpret one Range header value; malformed or multi-range headers are ignored."""
    whole = RangePlan(200, 0, total, total)
    match = RANGE_RE.match((header or "").replace(" ", ""))
    if match is None or match.groups() == ("", ""):
        return whole
    first, last = match.groups()
    if first == "":
        start = max(total - int(last), 0)
        end = total if int(last) > 0 else 0
    else:
        start = int(first)
        end = total if last == "" else min(int(last) + 1, total)
        if last != "" and int(last) < start:
            return whole
    if start >= total or end <= start:
        return RangePlan(416, 0, 0, total)
    return RangePlan(206, start, end, total)
