"""Xet upstream fills hold a bounded number of bytes in Python whatever the file's size
(upstream/xetfetch.py ``Held``): sub-ranges of ``SUBRANGE`` per stream, at most
``STREAMS_PER_FILL`` streams per fill, a queue bounded in bytes."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from hubmirror.upstream.xetfetch import (
    QUEUE_BYTES,
    STREAM_BOUND,
    STREAMS_PER_FILL,
    SUBRANGE,
    Held,
    _Pump,
)
from tests.fakehub import TINY_BERT
from tests.support.http import get

pytestmark = pytest.mark.timeout(120)

MODEL = "model"
BIG = "weights/xet-64.bin"
SIZE = 64 * 1024 * 1024 + 5  # four sub-ranges and a few bytes
MIB = 1024 * 1024


@pytest.fixture
def xet_hub(fakehub):
    fakehub.xet_files = True
    fakehub.add_large_file(MODEL, TINY_BERT, BIG, SIZE, seed=64)
    fakehub.clear_log()
    return fakehub


def fill_through_xet(hub, mirror) -> Held:
    """One whole GET through the mirror, checked byte for byte; the fetcher's counter."""
    answer = get(f"{mirror.url}/{TINY_BERT}/resolve/main/{BIG}", timeout=100)
    assert answer.status == 200
    assert answer.body == hub.file_bytes(MODEL, TINY_BERT, "main", BIG)
    assert hub.body_bytes(host="cdn") == 0  # every byte came through the CAS
    held = mirror.mirror.fills.upstream.fetcher.held
    assert held.now == 0 and held.streams == 0  # nothing left behind
    return held


def reconstruction_ranges(hub) -> list[str]:
    entries = [e for e in hub.log if e.host == "cas" and "/reconstructions/" in e.target]
    return sorted(e.headers.get("range", "") for e in entries)


def test_one_64_mib_segment_is_fetched_in_subranges_holding_one_streams_bound(xet_hub, make_mirror):
    mirror = make_mirror(xet_upstream=True, fill_segments=1)

    held = fill_through_xet(xet_hub, mirror)

    assert 0 < held.peak <= STREAM_BOUND  # one stream: a 64 MiB range never held whole
    assert held.peak_streams == 1
    starts = [i * SUBRANGE for i in range(-(-SIZE // SUBRANGE))]
    expected = [f"bytes={a}-{min(a + SUBRANGE, SIZE) - 1}" for a in starts]
    assert reconstruction_ranges(xet_hub) == sorted(expected)


def test_a_fill_of_many_segments_runs_at_most_streams_per_fill_xet_streams(xet_hub, make_mirror):
    mirror = make_mirror(xet_upstream=True, fill_segments=16, fill_segment_mib=1)

    held = fill_through_xet(xet_hub, mirror)

    assert held.peak_streams == STREAMS_PER_FILL  # 16 segments, never more at once
    segment = -(-SIZE // 16)  # each stream holds at most its own range
    assert 0 < held.peak <= STREAMS_PER_FILL * min(segment, STREAM_BOUND)
    assert mirror.mirror.fills.upstream.counts["xet_segments"] == 16


def test_the_pump_queue_is_bounded_in_bytes_not_only_in_items():
    piece = QUEUE_BYTES // 2 + 1  # two of these do not fit the byte bound together
    produced = []

    def stream():
        for _ in range(4):
            produced.append(piece)
            yield b"x" * piece

    async def main():
        held = Held()
        pump = _Pump(asyncio.get_running_loop(), held)
        asyncio.get_running_loop().run_in_executor(None, pump.run, stream)
        sizes = []
        async with contextlib.aclosing(pump.chunks()) as chunks:
            async for chunk in chunks:
                await asyncio.sleep(0.2)  # a slow disk: the thread runs ahead if it can
                sizes.append((len(chunk), pump.queued[1]))
        pump.stop()
        return held, sizes

    held, sizes = asyncio.run(main())
    assert [size for size, _ in sizes] == [piece] * 4
    assert all(queued <= QUEUE_BYTES for _, queued in sizes)
    # one being read, one queued, one in the thread's hand: never all four at once
    assert held.peak <= 3 * piece < 4 * piece
    assert held.now == 0


def metric(text: str, name: str) -> int:
    return int(next(line.split()[1] for line in text.splitlines() if line.startswith(name + " ")))


def test_metrics_count_xet_segments_bytes_fallbacks_and_the_peak_held(xet_hub, make_mirror):
    mirror = make_mirror(xet_upstream=True, fill_segments=4, fill_segment_mib=1)
    held = fill_through_xet(xet_hub, mirror)

    text = get(f"{mirror.url}/metrics").body.decode()

    assert metric(text, "hubmirror_xet_upstream_segments_total") == 4
    assert metric(text, "hubmirror_xet_upstream_bytes_total") == SIZE
    assert metric(text, "hubmirror_xet_upstream_fallbacks_total") == 0
    assert metric(text, "hubmirror_xet_upstream_held_peak_bytes") == held.peak > 0


def test_without_xet_upstream_the_metrics_name_no_xet(fakehub, make_mirror):
    mirror = make_mirror()

    assert "hubmirror_xet_upstream" not in get(f"{mirror.url}/metrics").body.decode()
