"""The operator's rules, decided per repo: deny beats everything, then the mode."""

import pytest

from hubmirror.errors import AwaitingApproval, NotAllowed
from hubmirror.hub.repoglobs import parse_repo_globs
from hubmirror.index.database import Database
from hubmirror.index.queries import Index
from hubmirror.mirror.access.admission import AccessRules, Admission, Verdict
from hubmirror.mirror.access.callers import Caller
from hubmirror.types import RepoId, RepoType

BERT = RepoId(RepoType.MODEL, "acme/bert")
SQUAD = RepoId(RepoType.DATASET, "acme/squad")


def rules(mode, allow=(), deny=()):
    return AccessRules(mode, parse_repo_globs(allow), parse_repo_globs(deny))


@pytest.mark.parametrize(
    ("mode", "decision", "expected"),
    [
        ("open", None, Verdict.ALLOWED),
        ("open", "denied", Verdict.DENIED),
        ("allowlist", None, Verdict.NOT_LISTED),
        ("allowlist", "approved", Verdict.ALLOWED),
        ("approval", None, Verdict.PENDING),
        ("approval", "pending", Verdict.PENDING),
        ("approval", "approved", Verdict.ALLOWED),
        ("approval", "denied", Verdict.DENIED),
    ],
)
def test_mode_and_operator_decision_give_the_verdict(mode, decision, expected):
    assert rules(mode).verdict(BERT, decision) is expected


def test_allow_patterns_are_per_repo_type():
    allowlist = rules("allowlist", allow=("model:acme/*",))
    assert allowlist.verdict(BERT, None) is Verdict.ALLOWED
    assert allowlist.verdict(SQUAD, None) is Verdict.NOT_LISTED


def test_deny_pattern_wins_over_allow_and_approval():
    strict = rules("approval", allow=("acme/*",), deny=("dataset:*",))
    assert strict.verdict(SQUAD, "approved") is Verdict.DENIED
    assert strict.verdict(BERT, None) is Verdict.ALLOWED


@pytest.fixture
def records(tmp_path):
    database = Database(tmp_path / "index.sqlite")
    yield Index(database).access
    database.close()


def test_request_in_approval_mode_is_recorded_once_with_a_count(records):
    admission = Admission(rules("approval"), records, clock=lambda: 1000.0)
    caller = Caller("10.0.0.7", None, None)

    for _ in range(3):
        admission.forget(BERT)  # ask the index every time
        with pytest.raises(AwaitingApproval, match="awaits approval"):
            admission.admit(caller, BERT)

    [pending] = records.approvals("pending")
    assert (pending.repo, pending.requested_by, pending.requests) == (BERT, "10.0.0.7", 3)


def test_approval_in_another_process_applies_after_the_recheck(records):
    now = [1000.0]
    admission = Admission(rules("approval"), records, clock=lambda: now[0])
    caller = Caller("10.0.0.7", None, None)
    with pytest.raises(AwaitingApproval):
        admission.admit(caller, BERT)

    records.decide(BERT, "approved", "cli:ops", now[0])
    with pytest.raises(AwaitingApproval):
        admission.admit(caller, BERT)  # the verdict is still remembered
    now[0] += 6
    admission.admit(caller, BERT)


def test_refusals_name_the_repo_and_what_to_do(records):
    admission = Admission(rules("allowlist", deny=("dataset:*",)), records)
    caller = Caller("10.0.0.7", None, None)
    with pytest.raises(NotAllowed, match="model acme/bert is not on this mirror's allow list"):
        admission.admit(caller, BERT)
    with pytest.raises(NotAllowed, match="dataset acme/squad is not served by this mirror"):
        admission.admit(caller, SQUAD)
