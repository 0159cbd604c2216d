"""Admin sessions end: at their expiry, and at logout for every worker sharing the index."""

from __future__ import annotations

import re
import time

import pytest

from hubmirror.dashboard.auth import LIFETIME, Session, session_value
from tests.dashboard.conftest import ADMIN_TOKEN
from tests.dashboard.helpers import FORM, log_in, session_cookie
from tests.fakehub.defaults import TINY_BERT
from tests.support.http import get, request
from tests.support.mirror import MirrorThread

pytestmark = pytest.mark.timeout(60)

ADMIN = "/dashboard/admin"


def _csrf(url: str, cookie: str) -> str:
    page = get(f"{url}{ADMIN}", headers={"Cookie": cookie}).body.decode()
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)


def _log_out(url: str, cookie: str, csrf: str) -> int:
    body = f"csrf={csrf}".encode()
    return request(
        "POST", f"{url}/dashboard/logout", headers=FORM | {"Cookie": cookie}, body=body
    ).status


def test_cookie_copied_before_logout_opens_nothing_after_it(make_mirror):
    server = make_mirror(admin_token=ADMIN_TOKEN, access_mode="approval")
    assert get(f"{server.url}/{TINY_BERT}/resolve/main/config.json").status == 403
    cookie = session_cookie(server.url)
    csrf = _csrf(server.url, cookie)

    assert _log_out(server.url, cookie, csrf) == 303

    answer = get(f"{server.url}{ADMIN}", headers={"Cookie": cookie})
    assert answer.status == 401 and b"Pending approvals" not in answer.body
    body = f"csrf={csrf}&repo_type=model&repo={TINY_BERT}".encode()
    approve = f"{server.url}/dashboard/admin/approve"
    answer = request("POST", approve, headers=FORM | {"Cookie": cookie}, body=body)
    assert answer.status == 403
    assert get(f"{server.url}/{TINY_BERT}/resolve/main/config.json").status == 403


def test_logout_on_one_worker_ends_the_session_on_the_other(make_mirror):
    """Two server processes on one data directory, as ``--workers 2`` runs them."""
    first = make_mirror(admin_token=ADMIN_TOKEN)
    second = MirrorThread(first.settings).start()
    try:
        cookie = session_cookie(first.url)
        assert get(f"{second.url}{ADMIN}", headers={"Cookie": cookie}).status == 200

        assert _log_out(second.url, cookie, _csrf(second.url, cookie)) == 303

        assert get(f"{first.url}{ADMIN}", headers={"Cookie": cookie}).status == 401
        assert get(f"{second.url}{ADMIN}", headers={"Cookie": cookie}).status == 401
    finally:
        second.stop()


def test_other_sessions_live_on_after_one_logs_out(make_mirror):
    server = make_mirror(admin_token=ADMIN_TOKEN)
    leaving, staying = session_cookie(server.url), session_cookie(server.url)

    assert _log_out(server.url, leaving, _csrf(server.url, leaving)) == 303

    assert get(f"{server.url}{ADMIN}", headers={"Cookie": staying}).status == 200


def test_session_cookie_lasts_the_session_lifetime(make_mirror):
    server = make_mirror(admin_token=ADMIN_TOKEN)
    before = time.time()
    set_cookie = log_in(server.url)
    assert f"Max-Age={LIFETIME};" in set_cookie
    expires = int(set_cookie.split(";", 1)[0].split(".")[1])
    assert int(before) + LIFETIME <= expires <= int(time.time()) + LIFETIME


def test_expired_session_cookie_is_refused(make_mirror):
    server = make_mirror(admin_token=ADMIN_TOKEN)
    expired = Session("aged-session-id", int(time.time()) - 1)
    cookie = f"hubmirror_admin={session_value(ADMIN_TOKEN, expired)}"
    answer = get(f"{server.url}{ADMIN}", headers={"Cookie": cookie})
    assert answer.status == 401 and b"Pending approvals" not in answer.body


def test_session_cookie_with_a_moved_expiry_or_another_key_is_refused(make_mirror):
    server = make_mirror(admin_token=ADMIN_TOKEN)
    session_id, expires, mac = session_cookie(server.url).split("=", 1)[1].split(".")
    moved = f"hubmirror_admin={session_id}.{int(expires) + 10 * LIFETIME}.{mac}"
    assert get(f"{server.url}{ADMIN}", headers={"Cookie": moved}).status == 401
    foreign = session_value("another-admin-token", Session(session_id, int(expires)))
    cookie = f"hubmirror_admin={foreign}"
    assert get(f"{server.url}{ADMIN}", headers={"Cookie": cookie}).status == 401
