"""Range header parsing: a pure function returning a small value, decided before any I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hubmirror.errors import InvalidInput, RangeNotSatisfiable

_SPEC = re.compile(r"^bytes=(\d*)-(\d*)$")


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
    first, last = (int(g) if g else None for g in match.groups())
    if first is not None and last is not None and last < first:
        raise InvalidInput(f"Malformed Range header {header[:60]!r}: end before start")
    return RangeSpec(first, last)
