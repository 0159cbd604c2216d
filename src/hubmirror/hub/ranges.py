"""A byte range asked for: the value a Range header parses into, and its span in a file.

Pure, so the mirror's resolve plan can place it in a file of known size (or refuse it
with 416) without knowing where the header came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubmirror.errors import RangeNotSatisfiable


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
