"""Every refused repo request is audited with its status; the policy's decisions too."""

from __future__ import annotations

from hubmirror.mirror.access.callers import Caller, token_fingerprint
from hubmirror.types import RepoId, RepoType
from tests.audit.support import audit_lines, audited
from tests.fakehub import GATED_MODEL, OWNER_TOKEN, PRIVATE_MODEL, USER_TOKEN
from tests.support.http import get, head

GATED_FILE = f"/{GATED_MODEL}/resolve/main/config.json"


def test_a_gated_file_without_a_token_is_recorded_as_refused(mirror):
    answer = get(mirror.url + GATED_FILE)
    assert (answer.status, answer.header("X-Error-Code")) == (401, "GatedRepo")
    (record,) = audited(mirror)
    assert (record.event, record.status, record.verdict, record.reason) == (
        "refused",
        401,
        "denied",
        "GatedRepo",
    )
    assert (record.repo, record.path, record.method) == (GATED_MODEL, "config.json", "GET")
    assert (record.fingerprint, record.bytes) == ("anonymous", len(answer.body))


def test_a_token_upstream_refuses_is_recorded_by_its_fingerprint(mirror):
    get(mirror.url + GATED_FILE, headers={"Authorization": f"Bearer {OWNER_TOKEN}"})
    answer = get(mirror.url + GATED_FILE, headers={"Authorization": f"Bearer {USER_TOKEN}"})
    assert answer.status == 403
    owner, user = audited(mirror)
    assert (owner.event, owner.status) == ("download", 200)
    assert (user.event, user.status, user.reason) == ("refused", 403, "GatedRepo")
    assert user.fingerprint == token_fingerprint(f"Bearer {USER_TOKEN}")
    assert user.fingerprint != owner.fingerprint
    text = (mirror.data_dir / "audit.jsonl").read_text()
    assert USER_TOKEN not in text and OWNER_TOKEN not in text


def test_a_refused_head_is_recorded(mirror):
    assert head(mirror.url + GATED_FILE).status == 401
    (record,) = audited(mirror)
    assert (record.event, record.method, record.status, record.bytes) == (
        "refused",
        "HEAD",
        401,
        0,
    )


def test_a_refused_api_request_is_recorded_with_its_action(mirror):
    answer = get(mirror.url + f"/api/models/{PRIVATE_MODEL}/tree/main")
    assert answer.status == 401
    (record,) = audited(mirror)
    assert (record.event, record.action, record.revision, record.path) == (
        "refused",
        "tree",
        "main",
        None,
    )
    assert (record.repo, record.reason) == (PRIVATE_MODEL, "RepoNotFound")
    assert audit_lines(mirror.data_dir / "audit.jsonl")[0]["status"] == 401


def test_a_policy_decision_is_recorded_with_its_verdict_and_reason(mirror):
    caller = Caller("10.0.0.7", "Bearer hf_someone", "Bearer hf_someone", identity="alice")
    repo = RepoId(RepoType.DATASET, "acme/tiny-csv")
    mirror.call(mirror.mirror.audit.decision, caller, repo, "main", None, "pending", "awaits")
    mirror.call(mirror.mirror.audit.decision, None, repo, None, None, "approved", "operator")
    pending, approved = audited(mirror)
    assert (pending.event, pending.verdict, pending.reason) == ("decision", "pending", "awaits")
    assert (pending.address, pending.identity, pending.fingerprint) == (
        "10.0.0.7",
        "alice",
        token_fingerprint("Bearer hf_someone"),
    )
    assert (pending.repo_type, pending.repo, pending.revision) == (
        "dataset",
        "acme/tiny-csv",
        "main",
    )
    assert (approved.verdict, approved.address, approved.status) == ("approved", "-", None)
    assert "hf_someone" not in (mirror.data_dir / "audit.jsonl").read_text()
