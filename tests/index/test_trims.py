"""Keeping what strangers can grow to a number of rows, the oldest going first, on both backends."""

from __future__ import annotations

from hubmirror.index.audit import AuditRecord, AuditRecords
from hubmirror.index.records import ApiAnswer
from hubmirror.types import RepoId, RepoType

REPO = RepoId(RepoType.MODEL, "acme/bert")


def test_missing_files_beyond_the_limit_go_oldest_first(index):
    for n in range(30):
        index.put_missing(REPO, "c" * 40, f"missing-{n:02d}.bin", 1000.0 + n)
    assert index.trim("missing_entries", 10) == 20
    assert index.missing_at(REPO, "c" * 40) == [f"missing-{n:02d}.bin" for n in range(20, 30)]
    assert index.trim("missing_entries", 10) == 0


def test_remembered_404s_are_trimmed_apart_from_the_answers_they_sit_with(index):
    for n in range(5):
        index.put_answer(f"found-{n}", REPO, ApiAnswer(200, b"[]", None, 900.0 + n))
    for n in range(20):
        index.put_answer(f"gone-{n}", REPO, ApiAnswer(404, b"{}", None, 1000.0 + n))
    assert index.trim("missing_answers", 4) == 16
    assert [n for n in range(20) if index.get_answer(f"gone-{n}")] == [16, 17, 18, 19]
    assert all(index.get_answer(f"found-{n}") for n in range(5))  # older, but not misses
    assert index.trim("api_answers", 6) == 3  # every answer: the oldest three go
    assert [n for n in range(5) if index.get_answer(f"found-{n}")] == [3, 4]


def test_audit_keeps_the_newest_records(index_db):
    audit = AuditRecords(index_db)
    audit.add(
        [
            AuditRecord(1000.0 + n, "refused", "10.0.0.1", None, "anonymous", "model", f"r/{n}")
            for n in range(25)
        ]
    )
    audit.trim(10)
    kept = audit.find(None, None, None, 100)
    assert [r.repo for r in kept] == [f"r/{n}" for n in range(15, 25)]
