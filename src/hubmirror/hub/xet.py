"""The Xet download protocol over plain blobs: "virtual xorbs", pure arithmetic.

A Xet client reconstructs a file from *terms* (runs of chunks in *xorbs*) and
fetches xorb byte ranges. It checks chunk headers and lengths, never hashes of
chunks or xorbs, so the mirror can describe any blob it holds as xorbs it never
stores: the blob cut into fixed chunks of ``CHUNK`` bytes, each sent uncompressed
(scheme 0) behind its 8-byte header, ``XORB_CHUNKS`` chunks to a xorb. Every
offset is arithmetic on the blob's size, so a reconstruction can be answered
before the blob's bytes are here, and a xorb range is the blob's bytes with the
headers put in between (``xorb_pieces``).

What clients do verify, and what this module keeps: headers with version 0 and
uncompressed length at most 128 KiB, terms contained in one fetch range, and
the sum of a term's chunks equal to its ``unpacked_length``.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

CHUNK = 64 * 1024  # bytes of the blob per chunk; clients refuse chunks above 128 KiB
XORB_CHUNKS = 1000  # chunks per xorb: 1000 records of CHUNK + 8 bytes stay under 64 MiB
HEADER = 8  # version, compressed length (u24), scheme, uncompressed length (u24)
RECORD = CHUNK + HEADER
_ID_SALT = b"hubmirror virtual xorb v1"


def hash_string(raw: bytes) -> str:
    """A 32-byte Xet hash as Xet prints it: four little-endian u64 words in hex."""
    if len(raw) != 32:
        raise ValueError("a Xet hash has 32 bytes")
    return "".join(raw[i : i + 8][::-1].hex() for i in range(0, 32, 8))


def is_xet_hash(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def xorb_id(sha256: str, index: int) -> str:
    """A stable, unique id for xorb ``index`` of the blob ``sha256`` (clients never check it)."""
    digest = hashlib.sha256(
        _ID_SALT + bytes.fromhex(sha256) + struct.pack("<QI", index, CHUNK)
    ).digest()
    return hash_string(digest)


def chunk_count(size: int) -> int:
    return -(-size // CHUNK)


def chunk_length(size: int, chunk: int) -> int:
    """Bytes of the blob in global chunk ``chunk`` (the last one may be short)."""
    return max(0, min(CHUNK, size - chunk * CHUNK))


def header(length: int) -> bytes:
    """The record header of an uncompressed chunk of ``length`` bytes."""
    packed = length.to_bytes(3, "little")
    return b"\x00" + packed + b"\x00" + packed


@dataclass(frozen=True, slots=True)
class Term:
    """Chunks ``[start, end)`` of one xorb, as the reconstruction lists them."""

    xorb: int  # index of the xorb in the blob
    start: int  # first chunk, within the xorb
    end: int  # one past the last chunk, within the xorb
    unpacked_length: int  # blob bytes those chunks hold
    first_byte: int  # where the term's records start in the xorb's serialized bytes
    last_byte: int  # where they end (inclusive)


@dataclass(frozen=True, slots=True)
class Reconstruction:
    offset_into_first_range: int
    terms: tuple[Term, ...]


def reconstruct(size: int, start: int, end: int) -> Reconstruction:
    """The terms that rebuild blob bytes ``start..end`` (inclusive; ``0 <= start <= end <
    size``). The first term may start before ``start``: the client skips
    ``offset_into_first_range`` bytes of it; the last may run past ``end``."""
    first, last = start // CHUNK, end // CHUNK
    terms = []
    for xorb in range(first // XORB_CHUNKS, last // XORB_CHUNKS + 1):
        base = xorb * XORB_CHUNKS
        lo, hi = max(first, base) - base, min(last, base + XORB_CHUNKS - 1) - base + 1
        unpacked = sum(chunk_length(size, base + c) for c in range(lo, hi))
        last_byte = _record_start(hi - 1) + HEADER + chunk_length(size, base + hi - 1) - 1
        terms.append(Term(xorb, lo, hi, unpacked, _record_start(lo), last_byte))
    return Reconstruction(start - first * CHUNK, tuple(terms))


def xorb_length(size: int, xorb: int) -> int:
    """Serialized bytes of xorb ``xorb``: every record's header and chunk."""
    base = xorb * XORB_CHUNKS
    chunks = min(XORB_CHUNKS, chunk_count(size) - base)
    if chunks <= 0:
        return 0
    return (chunks - 1) * RECORD + HEADER + chunk_length(size, base + chunks - 1)


def xorb_pieces(size: int, xorb: int, first: int, last: int) -> list[bytes | tuple[int, int]]:
    """Serialized bytes ``first..last`` (inclusive) of a xorb, as header bytes and blob
    spans ``(start, end)`` (end exclusive), in order: what to send, from where."""
    pieces: list[bytes | tuple[int, int]] = []
    base = xorb * XORB_CHUNKS
    position = first
    while position <= last:
        record, offset = divmod(position, RECORD)
        chunk = base + record
        length = chunk_length(size, chunk)
        if offset < HEADER:
            part = header(length)[offset : min(HEADER, offset + last - position + 1)]
            pieces.append(part)
            position += len(part)
            continue
        blob_start = chunk * CHUNK + offset - HEADER
        blob_end = min(chunk * CHUNK + length, blob_start + last - position + 1)
        if blob_end <= blob_start:
            raise ValueError(f"xorb range {first}-{last} runs past the xorb's end")
        pieces.append((blob_start, blob_end))
        position += blob_end - blob_start
    return pieces


def _record_start(chunk_in_xorb: int) -> int:
    return chunk_in_xorb * RECORD
