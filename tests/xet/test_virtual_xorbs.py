"""Virtual xorbs: what a Xet client decodes from them is exactly the blob's bytes."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubmirror.hub import xet

SIZES = [1, xet.CHUNK - 1, xet.CHUNK, xet.CHUNK + 1, xet.CHUNK * xet.XORB_CHUNKS + 5]


def _serialize(blob: bytes, xorb: int, first: int, last: int) -> bytes:
    pieces = xet.xorb_pieces(len(blob), xorb, first, last)
    return b"".join(p if isinstance(p, bytes) else blob[p[0] : p[1]] for p in pieces)


def _decode(records: bytes) -> list[bytes]:
    """Chunk payloads, checked the way hf_xet checks them."""
    chunks, position = [], 0
    while position < len(records):
        head = records[position : position + xet.HEADER]
        assert head[0] == 0 and head[4] == 0  # version 0, scheme 0 (uncompressed)
        compressed = int.from_bytes(head[1:4], "little")
        uncompressed = int.from_bytes(head[5:8], "little")
        assert compressed == uncompressed <= 128 * 1024
        chunks.append(records[position + xet.HEADER : position + xet.HEADER + compressed])
        assert len(chunks[-1]) == compressed
        position += xet.HEADER + compressed
    return chunks


def _rebuild(blob: bytes, start: int, end: int) -> bytes:
    plan = xet.reconstruct(len(blob), start, end)
    out = b""
    for term in plan.terms:
        records = _serialize(blob, term.xorb, term.first_byte, term.last_byte)
        chunks = _decode(records)
        assert len(chunks) == term.end - term.start
        assert sum(map(len, chunks)) == term.unpacked_length
        out += b"".join(chunks)
    return out[plan.offset_into_first_range :][: end - start + 1]


@pytest.mark.parametrize("size", SIZES)
def test_the_whole_blob_is_rebuilt_from_its_terms(size):
    blob = os.urandom(size)
    assert _rebuild(blob, 0, size - 1) == blob


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_range_is_rebuilt_exactly(data):
    size = data.draw(st.integers(1, 3 * xet.CHUNK + 17))
    blob = bytes(range(256)) * (size // 256 + 1)
    blob = blob[:size]
    start = data.draw(st.integers(0, size - 1))
    end = data.draw(st.integers(start, size - 1))
    assert _rebuild(blob, start, end) == blob[start : end + 1]


def test_a_range_inside_a_record_header_yields_those_header_bytes():
    blob = os.urandom(2 * xet.CHUNK)
    record = _serialize(blob, 0, 0, xet.xorb_length(len(blob), 0) - 1)
    assert (
        _serialize(blob, 0, xet.RECORD + 2, xet.RECORD + 12)
        == record[xet.RECORD + 2 : xet.RECORD + 13]
    )


def test_terms_split_at_xorb_boundaries_and_name_distinct_xorbs():
    size = xet.CHUNK * xet.XORB_CHUNKS * 2 + 10
    plan = xet.reconstruct(size, 0, size - 1)
    assert [(t.xorb, t.start, t.end) for t in plan.terms] == [
        (0, 0, xet.XORB_CHUNKS),
        (1, 0, xet.XORB_CHUNKS),
        (2, 0, 1),
    ]
    ids = {xet.xorb_id("ab" * 32, t.xorb) for t in plan.terms}
    assert len(ids) == 3 and all(xet.is_xet_hash(i) for i in ids)


def test_xorbs_stay_within_the_protocol_limits():
    size = xet.CHUNK * xet.XORB_CHUNKS * 3
    assert xet.xorb_length(size, 0) <= 64 * 1024 * 1024
    assert xet.XORB_CHUNKS <= 8192 and xet.CHUNK <= 128 * 1024


def test_hash_strings_reverse_each_eight_byte_word():
    raw = bytes(range(32))
    words = ["0706050403020100", "0f0e0d0c0b0a0908", "1716151413121110", "1f1e1d1c1b1a1918"]
    assert xet.hash_string(raw) == "".join(words)
