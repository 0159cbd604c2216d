"""Approvals, grants, ended sessions and the audit table on both backends."""

from __future__ import annotations

from hubmirror.index.access import AccessRecords, Approval
from hubmirror.index.audit import AuditRecord, AuditRecords
from hubmirror.index.sessions import SessionRecords
from hubmirror.types import RepoId, RepoType

REPO = RepoId(RepoType.MODEL, "acme/gated-model")
OTHER = RepoId(RepoType.DATASET, "acme/tiny-csv")
WHEN = 1_790_000_000.654321


def test_approval_requests_are_counted_and_keep_the_first_asker(index_db):
    access = AccessRecords(index_db)
    access.request_approval(REPO, "alice", WHEN)
    access.request_approval(REPO, "bob", WHEN + 1)
    assert access.approval(REPO) == Approval(REPO, "pending", WHEN, "alice", 2, None, None)
    assert access.approval(OTHER) is None


def test_a_decision_keeps_the_request_and_filters_by_state(index_db):
    access = AccessRecords(index_db)
    access.request_approval(REPO, "alice", WHEN)
    access.decide(REPO, "approved", "ops", WHEN + 5)
    access.decide(OTHER, "denied", "ops", WHEN + 6)
    assert access.approval(REPO) == Approval(REPO, "approved", WHEN, "alice", 1, WHEN + 5, "ops")
    assert [a.repo for a in access.approvals("denied")] == [OTHER]
    assert {a.repo for a in access.approvals()} == {REPO, OTHER}


def test_grants_are_per_fingerprint_and_repo(index_db):
    access = AccessRecords(index_db)
    access.put_grant("fp1", REPO, WHEN)
    access.put_grant("fp1", REPO, WHEN + 1)  # again: replaced, no error
    assert access.has_grant("fp1", REPO)
    assert not access.has_grant("fp2", REPO)
    assert not access.has_grant("fp1", OTHER)


def test_granted_repos_are_those_confirmed_since_a_time(index_db):
    access = AccessRecords(index_db)
    access.put_grant("fp1", REPO, WHEN)
    access.put_grant("fp1", OTHER, WHEN - 100)
    access.put_grant("fp2", OTHER, WHEN)
    assert access.granted_repos("fp1", WHEN - 50) == [REPO]
    access.put_grant("fp1", OTHER, WHEN + 1)  # confirmed again: counts from then
    assert set(access.granted_repos("fp1", WHEN - 50)) == {REPO, OTHER}
    assert access.granted_repos("fp3", 0) == []


def test_ended_sessions_are_known_until_they_would_have_expired(index_db):
    sessions = SessionRecords(index_db)
    sessions.end("old", WHEN + 10, WHEN)
    assert sessions.ended("old") and not sessions.ended("other")
    sessions.end("old", WHEN + 10, WHEN)  # a second logout of the same session: no error
    sessions.end("new", WHEN + 100, WHEN + 20)  # "old" expired meanwhile: its row goes
    assert sessions.ended("new") and not sessions.ended("old")


def _record(at: float, who: str, repo: RepoId = REPO, size: int = 0) -> AuditRecord:
    return AuditRecord(
        at, "download", "10.0.0.1", who, "fp-" + who, repo.repo_type.value, repo.name,
        "main", "1" * 40, "model.safetensors", "GET", "resolve", size, 200, "HIT", None, None,
    )  # fmt: skip


def test_audit_records_round_trip_with_big_byte_counts(index_db):
    audit = AuditRecords(index_db)
    records = [_record(WHEN, "alice", size=2**40), _record(WHEN + 0.5, "bob")]
    audit.add(records)
    assert audit.find(None, None, None, 10) == records


def test_audit_find_filters_and_keeps_the_newest(index_db):
    audit = AuditRecords(index_db)
    audit.add([_record(WHEN + i, "alice" if i % 2 else "bob") for i in range(6)])
    audit.add([_record(WHEN + 9, "alice", OTHER)])
    assert [r.time for r in audit.find(REPO, None, "alice", 2)] == [WHEN + 3, WHEN + 5]
    assert [r.time for r in audit.find(None, WHEN + 4, None, 10)] == [WHEN + 4, WHEN + 5, WHEN + 9]
    assert [r.repo for r in audit.find(OTHER, None, None, 10)] == [OTHER.name]
    assert [r.time for r in audit.find(None, None, "fp-bob", 10)] == [WHEN, WHEN + 2, WHEN + 4]
