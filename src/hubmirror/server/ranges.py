"""Range header parsing: a pure function returning a small value, decided before any I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hubmirror.errors import InvalidInput, RangeNotSatisfiable

_SPEC = re.compile(r"^bytes=(\d*)-(\d*)$")
# A byte position of more digits than this is past any file (10^19 > 2^63): refused as
# malformed, before int() of a 4,300-digit string raises instead of answering.
MAX_POSITION_DIGITS = 19


@dataclass(frozen=True, slots=True)
class RangeSpec:
    """``bytes=a-b`` (``last`` None for ``a-``) or the suffix form ``bytes=-n``."""

    first: int | None
    last: int | None

    def span(self, size: int) -> tuple[int, int]:
        """Inclusive ``(start, end)`` inside a file of ``size`` bytes, or 416."""
        if self.first is None:
            if self.last == 0 or size == 0:
                raise RangeNotSatisfiable(size)
            return max(0, size - self.last), size - 1
        if self.first >= size:
            raise RangeNotSatisfiable(size)
        end = size - 1 if self.last is None else min(self.last, size - 1)
        return self.first, end


def parse_range(header: str | None) -> RangeSpec | None:
    """``None`` when there is no Range; ``InvalidInput`` when it cannot be understood."""
    if header is None:
        return None
    match = _SPEC.match(header.strip().replace(" ", ""))
    if not match or match.groups() == ("", ""):
        raise InvalidInput(f"Malformed Range header {header[:60]!r}: use bytes=start-end")
    first, last = (position(g, header) if g else None for g in match.groups())
    if first is not None and last is not None and last < first:
        raise InvalidInput(f"Malformed Range header {header[:60]!r}: end before start")
    return RangeSpec(first, last)


def position(digits: str, header: str) -> int:
    """One byte position of a Range header, refused when no file could reach it."""
    if len(digits) > MAX_POSITION_DIGITS:
        raise InvalidInput(f"Malformed Range header {header[:60]!r}: position too large")
    return int(digits)
