"""The dashboard names a gated or private repo only to the admin and to a token upstream
confirmed for it: after the owner pulled one through the mirror, every other visitor sees
neither its name, its commit, its files nor its transfers (as the API refuses them)."""

from __future__ import annotations

import json
import re
import time

import pytest

from hubmirror.types import RepoId, RepoType
from tests.dashboard.conftest import ADMIN_TOKEN
from tests.dashboard.helpers import session_cookie, start_download
from tests.fakehub import GATED_MODEL, OWNER_TOKEN, PRIVATE_MODEL, TINY_BERT, USER_TOKEN
from tests.support.http import get
from tests.support.waiting import wait_for
from tests.tokens.conftest import bearer, issue  # noqa: F401 - fixture

pytestmark = pytest.mark.timeout(120)

MiB = 1024 * 1024
INVALID_TOKEN = "hf_not_a_real_token"
RESTRICTED = {GATED_MODEL, PRIVATE_MODEL}
# visitor -> the token it sends as Bearer ("admin-cookie" logs in instead)
VISITORS = {
    "anonymous": None,
    "refused": USER_TOKEN,  # a valid account upstream refuses these repos
    "invalid": INVALID_TOKEN,
    "owner": OWNER_TOKEN,
    "admin": ADMIN_TOKEN,
}
SEES_RESTRICTED = {"owner", "admin", "admin-cookie"}


def _headers(server, visitor: str) -> dict[str, str]:
    if visitor == "admin-cookie":
        return {"Cookie": session_cookie(server.url)}
    return bearer(VISITORS[visitor])


def _listed(url: str, headers: dict[str, str]) -> set[str]:
    """The repo names /dashboard/repos links to."""
    answer = get(f"{url}/dashboard/repos", headers=headers)
    assert answer.status == 200
    return set(re.findall(r'/dashboard/repos/model/[^"]+">([^<]+)</a>', answer.body.decode()))


def _owner_pulls(url: str, *repos: str) -> None:
    for repo in repos:
        answer = get(f"{url}/{repo}/resolve/main/config.json", headers=bearer(OWNER_TOKEN))
        assert answer.status == 200, repo


@pytest.fixture
def pulled(make_mirror, fakehub):
    """A mirror through which the owner pulled the gated and the private repo."""
    server = make_mirror(admin_token=ADMIN_TOKEN)
    assert get(f"{server.url}/{TINY_BERT}/resolve/main/config.json").status == 200
    _owner_pulls(server.url, GATED_MODEL, PRIVATE_MODEL)
    for repo in RESTRICTED:  # the refused token tried too, and upstream said no
        answer = get(f"{server.url}/{repo}/resolve/main/config.json", headers=bearer(USER_TOKEN))
        assert answer.status in (401, 403, 404), repo
    return server


VISITOR_IDS = [*VISITORS, "admin-cookie"]


@pytest.mark.parametrize("visitor", VISITOR_IDS)
def test_repo_list_names_gated_and_private_repos_only_to_admin_and_confirmed_token(pulled, visitor):
    listed = _listed(pulled.url, _headers(pulled, visitor))

    expected = {TINY_BERT} | (RESTRICTED if visitor in SEES_RESTRICTED else set())
    assert listed == expected


@pytest.mark.parametrize("visitor", VISITOR_IDS)
def test_private_repo_page_shows_commit_and_files_only_to_admin_and_confirmed_token(
    pulled, fakehub, visitor
):
    commit = fakehub.commit_of("model", PRIVATE_MODEL, "main")

    answer = get(
        f"{pulled.url}/dashboard/repos/model/{PRIVATE_MODEL}", headers=_headers(pulled, visitor)
    )

    page = answer.body.decode()
    if visitor in SEES_RESTRICTED:
        assert answer.status == 200
        assert f"<code>{commit}</code>" in page and "<td>config.json</td>" in page
    else:
        assert answer.status == 404
        assert commit not in page and "config.json" not in page
    assert answer.header("Cache-Control") == "no-store"


def test_hidden_repo_page_is_the_page_of_a_repo_never_cached(pulled):
    hidden = get(f"{pulled.url}/dashboard/repos/model/{GATED_MODEL}")
    unknown = get(f"{pulled.url}/dashboard/repos/model/acme/never-asked")
    assert hidden.status == unknown.status == 404
    assert hidden.body == unknown.body


def test_transfers_of_a_private_repo_are_listed_only_to_admin_and_confirmed_token(pulled, fakehub):
    fakehub.add_large_file("model", PRIVATE_MODEL, "big-secret.bin", 48 * MiB, seed=12)
    fakehub.faults.bandwidth = 1 * MiB
    target = f"{pulled.url}/{PRIVATE_MODEL}/resolve/main/big-secret.bin"
    reader = pulled.call(start_download, target, bearer(OWNER_TOKEN))
    try:
        admin = _headers(pulled, "admin")
        wait_for(lambda: _transfers(pulled.url, admin), "the admin sees the transfer")
        for visitor in VISITOR_IDS:
            headers = _headers(pulled, visitor)
            shown = _transfers(pulled.url, headers)
            front = get(f"{pulled.url}/", headers=headers).body.decode()
            if visitor in SEES_RESTRICTED:
                assert shown == [(PRIVATE_MODEL, "big-secret.bin")], visitor
                assert "big-secret.bin" in front, visitor
            else:
                assert shown == [], visitor
                assert "big-secret.bin" not in front and PRIVATE_MODEL not in front, visitor
                assert 'data-field="transfer_count">0<' in front, visitor
    finally:
        fakehub.faults.bandwidth = None
        pulled.call(reader.cancel)


def _transfers(url: str, headers: dict[str, str]) -> list[tuple[str, str]]:
    answer = get(f"{url}/dashboard/api/status", headers=headers)
    assert answer.status == 200
    return [(t["repo"], t["path"]) for t in json.loads(answer.body)["transfers"]]


def test_repo_of_unknown_visibility_is_named_only_to_the_admin(make_mirror):
    """A repo the index holds without a visibility upstream told (an old bundle, say)."""
    server = make_mirror(admin_token=ADMIN_TOKEN)
    repo = RepoId(RepoType.MODEL, "acme/unknown-visibility")
    server.call(lambda: server.mirror.index.put_commit(repo, "main", "a" * 40, time.time()))

    assert _listed(server.url, {}) == set()
    assert get(f"{server.url}/dashboard/repos/model/{repo.name}").status == 404
    assert _listed(server.url, bearer(ADMIN_TOKEN)) == {repo.name}


def test_with_require_token_a_visitor_sees_the_repos_its_mirror_token_reads(
    make_mirror,
    fakehub,
    issue,  # noqa: F811
):
    """The API answers 401 to anyone without a mirror token: the pages name no repo to them;
    a token limited to some repos sees those; the organisation token's grants count."""
    server = make_mirror(admin_token=ADMIN_TOKEN, require_token=True, upstream_token=OWNER_TOKEN)
    alice, bob = issue(server, "alice"), issue(server, "bob", "model:acme/tiny-*")
    for repo in (TINY_BERT, PRIVATE_MODEL):
        answer = get(f"{server.url}/{repo}/resolve/main/config.json", headers=bearer(alice))
        assert answer.status == 200, repo
    assert get(f"{server.url}/api/models/{TINY_BERT}").status == 401

    assert _listed(server.url, {}) == set()
    assert _listed(server.url, bearer("hm_not_issued")) == set()
    assert _listed(server.url, bearer(OWNER_TOKEN)) == set()  # not a mirror token: refused
    assert _listed(server.url, bearer(bob)) == {TINY_BERT}
    assert _listed(server.url, bearer(alice)) == {TINY_BERT, PRIVATE_MODEL}
    assert _listed(server.url, bearer(ADMIN_TOKEN)) == {TINY_BERT, PRIVATE_MODEL}
    page = f"{server.url}/dashboard/repos/model/{PRIVATE_MODEL}"
    assert get(page).status == 404 and get(page, headers=bearer(bob)).status == 404
    assert get(page, headers=bearer(alice)).status == 200


def _top_repos(url: str, headers: dict[str, str]) -> set[str]:
    """The repo names the front page's top-repos tables link to."""
    page = get(f"{url}/", headers=headers).body.decode()
    top = page[page.index('id="top"') : page.index('id="usage"')]
    return set(re.findall(r'/dashboard/repos/model/[^"]+">([^<]+)</a>', top))


@pytest.mark.parametrize("visitor", ["anonymous", "refused", "owner"])
def test_top_repos_name_gated_and_private_repos_only_to_admin_and_confirmed_token(pulled, visitor):
    expected = {TINY_BERT} | (RESTRICTED if visitor in SEES_RESTRICTED else set())
    headers = _headers(pulled, visitor)
    top = wait_for(
        lambda: TINY_BERT in (found := _top_repos(pulled.url, headers)) and found, "top repos"
    )
    assert top == expected
