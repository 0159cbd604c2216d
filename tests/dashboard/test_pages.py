"""The dashboard over plain HTTP: numbers, escaping, authentication and CSRF."""

from __future__ import annotations

import pytest

from hubmirror.types import RepoId, RepoType
from tests.dashboard.conftest import ADMIN_TOKEN
from tests.dashboard.helpers import FORM, session_cookie, status_of
from tests.fakehub.defaults import TINY_BERT
from tests.support.http import get, request
from tests.support.waiting import wait_for

BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.mark.timeout(60)
def test_status_counts_one_miss_then_one_hit_with_their_bytes(mirror, fakehub):
    target = f"{mirror.url}/{TINY_BERT}/resolve/main/config.json"
    body = get(target).body
    assert get(target).status == 200
    numbers = wait_for(
        lambda: (s := status_of(mirror.url))["requests"]["hits"] == 1 and s, "the hit counted"
    )
    assert numbers["requests"] == {"hits": 1, "misses": 1, "hit_ratio": 0.5}
    assert numbers["bytes"]["from_cache"] == len(body)
    assert numbers["bytes"]["served"] == 2 * len(body)
    assert numbers["bytes"]["upstream"] == len(body)  # the file, once
    assert numbers["cache"]["blobs"] == 1 and numbers["cache"]["bytes"] == len(body)


@pytest.mark.timeout(60)
def test_front_page_renders_the_endpoint_and_numbers_without_javascript(mirror):
    get(f"{mirror.url}/{TINY_BERT}/resolve/main/config.json")
    wait_for(lambda: status_of(mirror.url)["requests"]["misses"] == 1, "the miss counted")
    page = get(f"{mirror.url}/").body.decode()
    assert f"export HF_ENDPOINT={mirror.url}</pre>" in page
    assert f'os.environ["HF_ENDPOINT"] = "{mirror.url}"' in page
    assert f"docker run -e HF_ENDPOINT={mirror.url}" in page
    assert f"HF_ENDPOINT: {mirror.url}" in page
    assert '<b data-field="hit_ratio">0.0% (0 hits, 1 misses)</b>' in page
    assert '<b data-field="quota">no quota</b>' in page


@pytest.mark.timeout(60)
def test_admin_page_without_cookie_is_401(make_mirror):
    server = make_mirror(admin_token=ADMIN_TOKEN)
    answer = get(f"{server.url}/dashboard/admin")
    assert answer.status == 401
    assert b"Pending approvals" not in answer.body


@pytest.mark.timeout(60)
def test_admin_page_with_bearer_header_or_session_cookie_is_served(make_mirror):
    server = make_mirror(admin_token=ADMIN_TOKEN)
    assert get(f"{server.url}/dashboard/admin", headers=BEARER).status == 200
    cookie = session_cookie(server.url)
    assert ADMIN_TOKEN not in cookie
    answer = get(f"{server.url}/dashboard/admin", headers={"Cookie": cookie})
    assert answer.status == 200 and b"Pending approvals" in answer.body


@pytest.mark.timeout(60)
def test_session_cookie_is_httponly_and_samesite_strict(make_mirror):
    server = make_mirror(admin_token=ADMIN_TOKEN)
    answer = request(
        "POST", f"{server.url}/dashboard/login", headers=FORM, body=f"token={ADMIN_TOKEN}".encode()
    )
    flags = answer.header("Set-Cookie")
    assert "HttpOnly" in flags and "SameSite=Strict" in flags and ADMIN_TOKEN not in flags


@pytest.mark.timeout(60)
def test_login_with_a_wrong_token_is_401_without_cookie(make_mirror):
    server = make_mirror(admin_token=ADMIN_TOKEN)
    answer = request("POST", f"{server.url}/dashboard/login", headers=FORM, body=b"token=nope")
    assert answer.status == 401 and answer.header("Set-Cookie") is None
    assert b"Wrong admin token" in answer.body


@pytest.mark.timeout(60)
def test_approve_post_without_csrf_token_is_refused(make_mirror):
    server = make_mirror(admin_token=ADMIN_TOKEN, access_mode="approval")
    assert get(f"{server.url}/{TINY_BERT}/resolve/main/config.json").status == 403
    cookie = session_cookie(server.url)
    body = f"repo_type=model&repo={TINY_BERT}".encode()
    answer = request(
        "POST",
        f"{server.url}/dashboard/admin/approve",
        headers=FORM | {"Cookie": cookie},
        body=body,
    )
    assert answer.status == 403
    repo = RepoId(RepoType.MODEL, TINY_BERT)
    assert server.call(lambda: server.mirror.index.access.approval(repo).state) == "pending"


@pytest.mark.timeout(60)
def test_admin_pages_do_not_exist_without_admin_token(mirror):
    assert get(f"{mirror.url}/dashboard/admin").status == 404


@pytest.mark.timeout(60)
def test_audited_path_with_markup_is_escaped(make_mirror):
    server = make_mirror(admin_token=ADMIN_TOKEN, audit=True)
    evil = "%3Cscript%3Ealert(1)%3C/script%3E.txt"
    assert get(f"{server.url}/{TINY_BERT}/resolve/main/{evil}").status == 404

    def shown():
        page = get(f"{server.url}/dashboard/admin", headers=BEARER).body.decode()
        return "alert(1)" in page and page

    page = wait_for(shown, "the audit entry on the admin page")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.txt" in page
    assert "<script>alert" not in page


@pytest.mark.timeout(60)
def test_deny_post_with_bearer_header_needs_no_csrf_token(make_mirror):
    server = make_mirror(admin_token=ADMIN_TOKEN, access_mode="approval")
    assert get(f"{server.url}/{TINY_BERT}/resolve/main/config.json").status == 403
    body = f"repo_type=model&repo={TINY_BERT}".encode()
    answer = request("POST", f"{server.url}/dashboard/admin/deny", headers=FORM | BEARER, body=body)
    assert answer.status == 303
    repo = RepoId(RepoType.MODEL, TINY_BERT)
    assert server.call(lambda: server.mirror.index.access.approval(repo).state) == "denied"
    answer = get(f"{server.url}/{TINY_BERT}/resolve/main/config.json")
    assert answer.status == 403 and b"denied by its operators" in answer.body


@pytest.mark.timeout(60)
def test_front_page_shows_the_quota_when_max_size_is_set(make_mirror):
    server = make_mirror(max_size=5 * 1024 * 1024)
    page = get(f"{server.url}/").body.decode()
    assert '<b data-field="quota">5.0 MiB</b>' in page
    assert status_of(server.url)["cache"]["quota"] == 5242880


@pytest.mark.timeout(60)
def test_admin_link_shows_only_when_the_admin_pages_exist(make_mirror):
    without, with_admin = make_mirror(), make_mirror(admin_token=ADMIN_TOKEN)
    link = '<a href="/dashboard/admin">Admin</a>'
    assert link not in get(f"{without.url}/").body.decode()
    assert link in get(f"{with_admin.url}/").body.decode()
    assert get(f"{without.url}/dashboard/admin").status == 404
