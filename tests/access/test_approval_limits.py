"""Approval mode against strangers: new requests are rate-limited per address and capped."""

from __future__ import annotations

import pytest

from tests.support.http import get

pytestmark = pytest.mark.timeout(120)


def ask(server, name: str):
    return get(f"{server.url}/api/models/stranger/{name}")


def pending(server) -> int:
    return server.call(server.mirror.index.access.pending_count)


def test_new_approval_requests_past_the_hourly_limit_are_429_and_not_recorded(make_mirror, fakehub):
    server = make_mirror(access_mode="approval", approval_requests_per_hour=3)
    first = [ask(server, f"repo-{n}") for n in range(3)]
    refused = ask(server, "repo-3")
    again = ask(server, "repo-0")  # already waiting: counted, not new
    assert [a.status for a in first] == [403, 403, 403]
    assert (refused.status, refused.header("X-Error-Code")) == (429, "TooManyRequests")
    assert 0 < int(refused.header("Retry-After")) <= 3601
    assert again.status == 403
    assert pending(server) == 3
    requests = server.call(server.mirror.index.access.approvals, "pending")
    assert sorted((a.repo.name, a.requests) for a in requests) == [
        ("stranger/repo-0", 2),
        ("stranger/repo-1", 1),
        ("stranger/repo-2", 1),
    ]
    assert fakehub.log == []


def test_new_approval_requests_past_the_pending_limit_are_429(make_mirror):
    server = make_mirror(
        access_mode="approval", approval_requests_per_hour=0, max_pending_approvals=5
    )
    statuses = [ask(server, f"repo-{n}").status for n in range(8)]
    assert statuses == [403] * 5 + [429] * 3
    assert pending(server) == 5
