"""Folding the tagged ranged parts of one download into one audit record."""

from __future__ import annotations

from hubmirror.hub.headers import download_tag, parse_download_tag
from hubmirror.mirror.access.audit_folds import IDLE_SECONDS, DownloadFolds


def part(nbytes: int, status: int = 206, cache: str = "HIT", reason: str | None = None) -> dict:
    return {
        "event": "download",
        "address": "10.0.0.7",
        "fingerprint": "anonymous",
        "repo_type": "model",
        "repo": "acme/bert",
        "commit": "c" * 40,
        "path": "big.bin",
        "bytes": nbytes,
        "status": status,
        "cache": cache,
        "reason": reason,
    }


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_parts_and_a_retried_part_fold_into_one_whole_download():
    written, clock = [], Clock()
    folds = DownloadFolds(written.append, clock)
    folds.add(part(10), "d0wnl0ad", 2)
    folds.add(part(4, cache="MISS", reason="interrupted: client left"), "d0wnl0ad", 2)
    assert written == []  # one part whole, one cut: not done
    folds.add(part(6), "d0wnl0ad", 2)  # the cut part, asked again from where it stopped
    assert [(r["bytes"], r["status"], r["cache"], r["reason"]) for r in written] == [
        (20, 200, "MISS", None)
    ]
    assert len(folds) == 0


def test_a_download_that_stopped_part_way_is_written_when_idle_marked_incomplete():
    written, clock = [], Clock()
    folds = DownloadFolds(written.append, clock)
    folds.add(part(10), "d0wnl0ad", 3)
    clock.now = IDLE_SECONDS - 1
    folds.expire()
    assert written == []
    clock.now = IDLE_SECONDS + 1
    folds.expire()
    assert [(r["bytes"], r["status"], r["reason"]) for r in written] == [
        (10, 206, "incomplete: 1 of 3 parts")
    ]


def test_other_callers_or_files_with_the_same_tag_are_not_folded_together():
    written = []
    folds = DownloadFolds(written.append, Clock())
    folds.add(part(10), "d0wnl0ad", 1)
    folds.add(part(10) | {"address": "10.0.0.8"}, "d0wnl0ad", 1)
    assert [r["address"] for r in written] == ["10.0.0.7", "10.0.0.8"]


def test_the_download_tag_round_trips_and_malformed_ones_are_ignored():
    assert parse_download_tag(download_tag("0123456789abcdef", 4)) == ("0123456789abcdef", 4)
    for bad in (None, "", "short; parts=2", "0123456789abcdef; parts=0", "0123456789abcdef"):
        assert parse_download_tag(bad) is None, bad
