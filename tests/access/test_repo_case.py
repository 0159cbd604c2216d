"""One repo, one identity: the Hub matches repo ids without case, and so does the mirror.

``hubmirror deny acme/gated-model`` must also close ``ACME/Gated-Model``: with
``upstream_token`` set, a spelling that slipped past the deny would carry the
organisation's token upstream for a repo the operators closed. Approvals, the
dashboard's forms, the cache and the audit log name the repo the same way.
"""

from __future__ import annotations

import time

import pytest

from hubmirror.mirror.access.identities import create_token
from hubmirror.types import RepoId, RepoType
from tests.audit.support import audited
from tests.fakehub import GATED_MODEL, OWNER_TOKEN, TINY_BERT
from tests.support.clients import MODEL
from tests.support.commands import hubmirror
from tests.support.http import get, head, request
from tests.support.waiting import wait_for

pytestmark = pytest.mark.timeout(180)
SPELLINGS = ["Acme/Gated-Model", "ACME/gated-model", "acme/GATED-MODEL", GATED_MODEL]
ADMIN_TOKEN = "case-admin-secret"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _requests_for(repo: str) -> list[tuple[str, str, bytes | None]]:
    """(method, path, body) of every kind of request that names ``repo``."""
    return [
        ("GET", f"/{repo}/resolve/main/config.json", None),
        ("HEAD", f"/{repo}/resolve/main/model.safetensors", None),
        ("GET", f"/api/models/{repo}", None),
        ("GET", f"/api/models/{repo}/revision/main", None),
        ("GET", f"/api/models/{repo}/tree/main", None),
        ("POST", f"/api/models/{repo}/paths-info/main", b"paths=config.json"),
        ("GET", f"/api/models/{repo}/xet-read-token/main", None),
    ]


def _upstream_requests_about(fakehub, repo: str) -> list[str]:
    return [e.target for e in fakehub.log if repo.lower() in e.target.lower()]


def test_deny_closes_the_repo_in_every_letter_case_and_nothing_goes_upstream(
    make_mirror, fakehub, tmp_path
):
    data = tmp_path / "data"
    hubmirror("deny", GATED_MODEL, "--data", str(data), check=True)
    server = make_mirror(data=str(data), upstream_token=OWNER_TOKEN, xet_serve=True)
    token = server.call(lambda: create_token(server.mirror.index, "alice", (), None, time.time()))
    alice = {"Authorization": f"Bearer {token}"}

    answers = {}
    for spelling in SPELLINGS:
        for method, path, body in _requests_for(spelling):
            headers = alice | (FORM if body else {})
            answer = request(method, server.url + path, headers=headers, body=body)
            answers[method, path] = (answer.status, answer.header("X-Error-Code"))

    assert answers == dict.fromkeys(answers, (403, "RepoNotAllowed"))
    assert _upstream_requests_about(fakehub, GATED_MODEL) == []


def test_dashboard_deny_in_one_case_closes_every_other(make_mirror, fakehub):
    server = make_mirror(admin_token=ADMIN_TOKEN, upstream_token=OWNER_TOKEN)
    body = b"repo_type=model&repo=Acme/Gated-Model"
    answer = request("POST", f"{server.url}/dashboard/admin/deny", headers=FORM | ADMIN, body=body)
    assert answer.status == 303

    refused = [get(f"{server.url}/{s}/resolve/main/config.json").status for s in SPELLINGS]

    assert refused == [403] * len(SPELLINGS)
    assert _upstream_requests_about(fakehub, GATED_MODEL) == []


def test_approval_in_one_case_opens_every_other(make_mirror, fakehub, tmp_path):
    data = tmp_path / "data"
    server = make_mirror(data=str(data), access_mode="allowlist")
    hubmirror("approve", "ACME/Tiny-Bert", "--no-sync", "--data", str(data), check=True)
    target = f"{server.url}/{TINY_BERT}/resolve/main/config.json"

    wait_for(lambda: head(target).status == 200, timeout=15)  # the server sees the decision

    expected = fakehub.file_bytes(MODEL, TINY_BERT, "main", "config.json")
    assert get(target).body == expected
    assert get(f"{server.url}/acme/tiny-BERT/resolve/main/config.json").body == expected


def test_dashboard_approve_in_one_case_opens_every_other(make_mirror, fakehub):
    server = make_mirror(admin_token=ADMIN_TOKEN, access_mode="approval")
    target = f"{server.url}/{TINY_BERT}/resolve/main/config.json"
    assert get(target).status == 403  # waits for approval
    body = b"repo_type=model&repo=Acme/TINY-bert"
    answer = request(
        "POST", f"{server.url}/dashboard/admin/approve", headers=FORM | ADMIN, body=body
    )
    assert answer.status == 303

    served = get(target)

    expected = fakehub.file_bytes(MODEL, TINY_BERT, "main", "config.json")
    assert (served.status, served.body) == (200, expected)


def test_other_spellings_are_served_from_the_same_cache(mirror, fakehub):
    first = get(f"{mirror.url}/{TINY_BERT}/resolve/main/config.json")
    info = get(f"{mirror.url}/api/models/{TINY_BERT}/revision/main")
    fakehub.clear_log()

    again = get(f"{mirror.url}/ACME/Tiny-Bert/resolve/main/config.json")
    info_again = get(f"{mirror.url}/api/models/Acme/TINY-BERT/revision/main")

    assert (again.status, again.body) == (200, first.body)
    assert again.header("X-Cache-Status") == "HIT"
    assert (info_again.status, info_again.body) == (200, info.body)
    assert fakehub.log == []


def test_audit_records_every_spelling_under_one_repo(make_mirror, fakehub):
    server = make_mirror(audit=True)
    for spelling in ("acme/tiny-bert", "ACME/Tiny-Bert"):
        assert get(f"{server.url}/{spelling}/resolve/main/config.json").status == 200

    records = audited(server, RepoId(RepoType.MODEL, "Acme/TINY-bert"))

    assert [(r.event, r.repo) for r in records] == [("download", TINY_BERT)] * 2


def test_mirror_token_scope_is_compared_without_case(make_mirror, fakehub):
    server = make_mirror(upstream_token=OWNER_TOKEN)
    index = server.mirror.index
    token = server.call(
        lambda: create_token(index, "ci", ("model:ACME/Tiny-*",), None, time.time())
    )
    ci = {"Authorization": f"Bearer {token}"}

    inside = get(f"{server.url}/acme/TINY-BERT/resolve/main/config.json", headers=ci)
    outside = get(f"{server.url}/Acme/Gated-Model/resolve/main/config.json", headers=ci)

    assert inside.status == 200
    assert outside.status == 403 and "may not read" in outside.header("X-Error-Message")
    assert _upstream_requests_about(fakehub, GATED_MODEL) == []
