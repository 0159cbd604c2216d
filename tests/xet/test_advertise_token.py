"""The mirror's ``xet-read-token`` route: its own token, after a download's access decision."""

from __future__ import annotations

import json

import pytest

from hubmirror.mirror.xet.tokens import read_token
from hubmirror.types import RepoId, RepoType
from tests.fakehub.access import OWNER_TOKEN, USER_TOKEN
from tests.fakehub.defaults import GATED_MODEL, PRIVATE_MODEL, TINY_BERT, TINY_CSV
from tests.support.http import get, head

WEIGHTS = "model.safetensors"


def auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def token_url(mirror, repo: str, revision: str = "main", plural: str = "models") -> str:
    return f"{mirror.url}/api/{plural}/{repo}/xet-read-token/{revision}"


def refusal(answer) -> tuple[int, str | None]:
    return answer.status, answer.header("X-Error-Code")


@pytest.fixture
def mirror(make_mirror, fakehub):
    return make_mirror(xet_serve=True)


def assert_granted(mirror, answer, repo: RepoId) -> None:
    assert answer.status == 200
    body = json.loads(answer.body)
    assert body == {
        "accessToken": answer.header("X-Xet-Access-Token"),
        "exp": int(answer.header("X-Xet-Token-Expiration")),
        "casUrl": answer.header("X-Xet-Cas-Url"),
    }
    assert body["casUrl"] == f"{mirror.url}/xet-cas"
    secret = mirror.call(mirror.mirror.index.xet.secret)
    assert read_token(secret, body["accessToken"], body["exp"] - 1).repo == repo


def test_a_public_repo_gets_a_token_for_that_repo(mirror):
    assert_granted(mirror, get(token_url(mirror, TINY_BERT)), RepoId(RepoType.MODEL, TINY_BERT))


def test_a_public_dataset_gets_a_dataset_token(mirror):
    answer = get(token_url(mirror, TINY_CSV, plural="datasets"))
    assert_granted(mirror, answer, RepoId(RepoType.DATASET, TINY_CSV))


def test_a_commit_revision_gets_a_token(mirror, fakehub):
    commit = fakehub.commit_of("model", TINY_BERT, "main")
    assert_granted(
        mirror, get(token_url(mirror, TINY_BERT, commit)), RepoId(RepoType.MODEL, TINY_BERT)
    )


@pytest.mark.parametrize("repo", [GATED_MODEL, PRIVATE_MODEL])
def test_a_restricted_repo_refuses_as_a_download_would(mirror, repo):
    for token in (None, USER_TOKEN):
        download = head(f"{mirror.url}/{repo}/resolve/main/{WEIGHTS}", headers=auth(token))
        answer = get(token_url(mirror, repo), headers=auth(token))
        assert refusal(answer) == refusal(download)
        assert answer.status in (401, 403, 404)
        assert answer.header("X-Xet-Access-Token") is None


def test_the_gated_error_is_the_hubs(mirror):
    assert refusal(get(token_url(mirror, GATED_MODEL))) == (401, "GatedRepo")
    answer = get(token_url(mirror, GATED_MODEL), headers=auth(USER_TOKEN))
    assert refusal(answer) == (403, "GatedRepo")


@pytest.mark.parametrize("repo", [GATED_MODEL, PRIVATE_MODEL])
def test_the_owner_of_a_restricted_repo_gets_a_token(mirror, repo):
    answer = get(token_url(mirror, repo), headers=auth(OWNER_TOKEN))
    assert_granted(mirror, answer, RepoId(RepoType.MODEL, repo))


def test_an_unknown_repo_is_not_found(mirror):
    answer = get(token_url(mirror, "acme/nope"), headers=auth(USER_TOKEN))
    assert refusal(answer) == (404, "RepoNotFound")
    download = head(f"{mirror.url}/acme/nope/resolve/main/{WEIGHTS}")
    assert refusal(get(token_url(mirror, "acme/nope"))) == refusal(download)


def test_an_unknown_revision_is_not_found(mirror):
    answer = get(token_url(mirror, TINY_BERT, "no-such-branch"))
    assert refusal(answer) == (404, "RevisionNotFound")


def test_a_revision_is_one_path_segment(mirror):
    answer = get(token_url(mirror, TINY_BERT, "main/extra"))
    assert refusal(answer) == (404, "NotFound")


def test_a_repo_the_mirror_does_not_serve_gets_no_token(make_mirror, fakehub):
    mirror = make_mirror(xet_serve=True, deny=("dataset:*",))
    download = head(f"{mirror.url}/datasets/{TINY_CSV}/resolve/main/data/train.csv")
    answer = get(token_url(mirror, TINY_CSV, plural="datasets"))
    assert answer.status == 403
    assert refusal(answer) == refusal(download)
    assert answer.header("X-Xet-Access-Token") is None
    assert not any(TINY_CSV in entry.target for entry in fakehub.log)  # refused before upstream
