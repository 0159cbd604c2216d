"""A fill's progress, published in a small file for readers in other processes.

Layout: magic, state, segment count, then (start, end, position) per segment, all
little-endian 64-bit, followed by a CRC32 of everything before it. A reader that
catches a half-written record sees a bad CRC and simply reads again: it must never
act on a torn position, which could point it at bytes not yet written.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

_MAGIC = 0x48_4D_46_50  # "HMFP"
_HEAD = struct.Struct("<IIQ")
_SEGMENT = struct.Struct("<QQQ")
_CRC = struct.Struct("<I")

RUNNING, DONE, FAILED = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Progress:
    state: int
    segments: tuple[tuple[int, int, int], ...]  # (start, end, position)


def encode(progress: Progress) -> bytes:
    body = _HEAD.pack(_MAGIC, progress.state, len(progress.segments))
    body += b"".join(_SEGMENT.pack(*s) for s in progress.segments)
    return body + _CRC.pack(zlib.crc32(body))


def decode(data: bytes) -> Progress | None:
    """The record, or ``None`` if it is incomplete or torn."""
    if len(data) < _HEAD.size + _CRC.size:
        return None
    magic, state, count = _HEAD.unpack_from(data)
    size = _HEAD.size + count * _SEGMENT.size
    if magic != _MAGIC or len(data) < size + _CRC.size:
        return None
    if _CRC.unpack_from(data, size)[0] != zlib.crc32(data[:size]):
        return None
    segments = tuple(
        _SEGMENT.unpack_from(data, _HEAD.size + i * _SEGMENT.size) for i in range(count)
    )
    return Progress(state, segments)


class ProgressWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)

    def publish(self, progress: Progress) -> None:
        os.pwrite(self._fd, encode(progress), 0)

    def close(self, remove: bool = True) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if remove:
            self.path.unlink(missing_ok=True)


def read_progress(path: Path) -> Progress | None:
    """The latest intact record, or ``None`` if there is none (yet, or any more)."""
    for _ in range(3):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        progress = decode(data)
        if progress is not None:
            return progress
    return None
