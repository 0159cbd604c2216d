"""Range header parsing: a pure function returning a ``RangeSpec``, decided before any I/O."""

from __future__ import annotations

import re

from hubmirror.errors import InvalidInput
from hubmirror.hub.ranges import RangeSpec

_SPEC = re.compile(r"^bytes=(\d*)-(\d*)$")
# A byte position of more digits than this is past any file (10^19 > 2^63): refused as
# malformed, before int() of a 4,300-digit string raises instead of answering.
MAX_POSITION_DIGITS = 19


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
