"""Cutting files into parts, and the sidecar that lets a later run resume them."""

from __future__ import annotations

import pytest

from hubmirror.client.partial import FileBusy, PartialFile
from hubmirror.client.parts import (
    LARGE_FILE,
    MIN_PART,
    Part,
    parts_from_sidecar,
    plan_parts,
    sidecar_body,
)

ETAG = "e" * 64


@pytest.mark.parametrize(
    ("size", "jobs", "count"),
    [
        (0, 8, 0),
        (1, 8, 1),
        (LARGE_FILE - 1, 8, 1),
        (LARGE_FILE, 8, 4),
        (80 * 2**20, 8, 5),
        (2**30, 8, 8),
    ],
)
def test_parts_tile_the_file(size, jobs, count):
    parts = plan_parts(size, jobs)
    assert len(parts) == count
    bounds = [0, *(p.end for p in parts)]
    assert [p.start for p in parts] == bounds[:-1]
    assert bounds[-1] == size
    assert all(p.pos == p.start and p.end - p.start >= min(size, MIN_PART) for p in parts)


def test_a_resumed_part_asks_only_for_its_missing_bytes():
    assert Part(100, 200, 150).range_header() == "bytes=150-199"


def test_the_sidecar_round_trips():
    parts = [Part(0, 10, 4), Part(10, 20, 20)]
    assert parts_from_sidecar(sidecar_body(20, ETAG, parts), 20, ETAG) == parts


@pytest.mark.parametrize(
    "body",
    [
        sidecar_body(20, "f" * 64, [Part(0, 20, 5)]),  # another version of the file
        sidecar_body(21, ETAG, [Part(0, 21, 5)]),  # another size
        sidecar_body(20, ETAG, [Part(0, 10, 5), Part(12, 20, 12)]),  # a hole
        sidecar_body(20, ETAG, [Part(0, 20, 25)]),  # past the end
        {"version": 99},
        "garbage",
    ],
)
def test_a_sidecar_that_does_not_fit_is_ignored(body):
    assert parts_from_sidecar(body, 20, ETAG) is None


def test_a_partial_file_resumes_what_the_sidecar_records(tmp_path):
    first = PartialFile(tmp_path / "blob.incomplete", 10, ETAG)
    first.open(jobs=1)
    first.write(first.parts[0], b"abcd")
    first.close()

    again = PartialFile(tmp_path / "blob.incomplete", 10, ETAG)
    again.open(jobs=1)
    assert again.present == 4
    again.write(again.parts[0], b"efghij")
    again.done()
    assert (tmp_path / "blob.incomplete").read_bytes() == b"abcdefghij"
    assert not again.sidecar.exists()


def test_two_downloads_of_one_file_do_not_write_over_each_other(tmp_path):
    first = PartialFile(tmp_path / "blob.incomplete", 10, ETAG)
    first.open(jobs=1)
    with pytest.raises(FileBusy):
        PartialFile(tmp_path / "blob.incomplete", 10, ETAG).open(jobs=1)
    first.close()
