"""The admin page lists pending approvals a page at a time, newest first, with their count."""

from __future__ import annotations

import re

import pytest

from hubmirror.types import RepoId, RepoType
from tests.dashboard.conftest import ADMIN_TOKEN
from tests.support.http import get

pytestmark = pytest.mark.timeout(60)
BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def listed(body: bytes) -> list[str]:
    return re.findall(r'<span class="repo">([^<]*)</span>', body.decode())


def test_pending_approvals_are_paged_newest_first_with_their_count(make_mirror):
    server = make_mirror(admin_token=ADMIN_TOKEN, access_mode="approval")
    records = server.mirror.index.access
    for n in range(120):
        repo = RepoId(RepoType.MODEL, f"stranger/repo-{n:03d}")
        server.call(records.request_approval, repo, "10.0.0.1", 1000.0 + n)

    first = get(f"{server.url}/dashboard/admin", headers=BEARER)
    third = get(f"{server.url}/dashboard/admin?page=3", headers=BEARER)
    beyond = get(f"{server.url}/dashboard/admin?page=99999999999", headers=BEARER)

    assert first.status == third.status == beyond.status == 200
    assert b"120 pending" in first.body
    names = listed(first.body)
    assert len(names) == 50 and names[0] == "stranger/repo-119" and names[-1] == "stranger/repo-070"
    assert b"?page=2" in first.body
    assert listed(third.body) == [f"stranger/repo-{n:03d}" for n in range(19, -1, -1)]
    assert b"?page=4" not in third.body
    assert len(listed(beyond.body)) == 50  # a page number out of reason is the first page
