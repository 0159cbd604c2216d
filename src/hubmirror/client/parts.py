"""How one file is cut into byte ranges, and the sidecar that remembers how far each got.

Pure functions and small values. A file under ``LARGE_FILE`` is one part (one request, no
``Range`` unless resuming); a larger one is cut into up to ``jobs`` parts of at least
``MIN_PART``, fetched in parallel. Each part remembers ``pos``, the next byte it needs, so a
dropped connection or a new run asks only for ``Range: bytes=pos-end``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MiB = 1024 * 1024
LARGE_FILE = 64 * MiB
MIN_PART = 16 * MiB
SIDECAR_VERSION = 1


@dataclass(slots=True)
class Part:
    """Bytes ``[start, end)`` of a file; ``[start, pos)`` are already on disk."""

    start: int
    end: int
    pos: int

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def range_header(self) -> str:
        return f"bytes={self.pos}-{self.end - 1}"


def plan_parts(size: int, jobs: int) -> list[Part]:
    """Fresh parts covering ``[0, size)``; empty for an empty file."""
    if size <= 0:
        return []
    count = 1 if size < LARGE_FILE else max(1, min(jobs, size // MIN_PART))
    bounds = [size * i // count for i in range(count + 1)]
    return [Part(bounds[i], bounds[i + 1], bounds[i]) for i in range(count)]


def sidecar_body(size: int, etag: str, parts: list[Part]) -> dict[str, Any]:
    return {
        "version": SIDECAR_VERSION,
        "size": size,
        "etag": etag,
        "parts": [[p.start, p.end, p.pos] for p in parts],
    }


def parts_from_sidecar(body: Any, size: int, etag: str) -> list[Part] | None:
    """The recorded parts if the sidecar belongs to this very file and makes sense, else None.

    A sidecar of another version of the file (other etag or size), or one that does not
    tile ``[0, size)`` exactly, is ignored and the file starts over.
    """
    if not isinstance(body, dict) or body.get("version") != SIDECAR_VERSION:
        return None
    if body.get("size") != size or body.get("etag") != etag:
        return None
    try:
        parts = [Part(int(s), int(e), int(p)) for s, e, p in body.get("parts", ())]
    except (TypeError, ValueError):
        return None
    return parts if _tiles(parts, size) else None


def _tiles(parts: list[Part], size: int) -> bool:
    expected_start = 0
    for part in parts:
        if part.start != expected_start or not part.start <= part.pos <= part.end:
            return False
        expected_start = part.end
    return expected_start == size and (size == 0) == (not parts)
