"""``upstream_token``: mirror-token callers reach gated repos the organisation was granted.

The organisation's token goes upstream and nowhere else: not to callers, not into
error bodies, not into the log.
"""

from __future__ import annotations

import logging

import pytest

from hubmirror.mirror.access.identities import INVALID_CREDENTIALS
from tests.fakehub import GATED_MODEL, OWNER_TOKEN, TINY_BERT, TINY_CSV, USER_TOKEN
from tests.support.clients import run_client
from tests.support.hashing import sha256_hex
from tests.support.http import get, head, request
from tests.tokens.conftest import bearer

pytestmark = pytest.mark.timeout(120)

FILES = ("config.json", "model.safetensors")
GATED_DOWNLOAD = f"""
import hashlib
from huggingface_hub import hf_hub_download
def digest(name):
    try:
        path = hf_hub_download({GATED_MODEL!r}, name)
    except Exception as exc:
        return type(exc).__name__
    return hashlib.sha256(open(path, "rb").read()).hexdigest()
emit([digest(name) for name in {FILES!r}])
"""


def _tokens_sent_upstream(fakehub) -> set[str]:
    """Authorization values the mirror sent (repo visibility is always checked anonymously)."""
    return {e.headers["authorization"] for e in fakehub.log if "authorization" in e.headers}


def _gated_digests(fakehub) -> list[str]:
    return [sha256_hex(fakehub.file_bytes("model", GATED_MODEL, "main", name)) for name in FILES]


def test_mirror_token_caller_downloads_a_gated_repo_with_the_organisation_token(
    make_mirror, fakehub, issue, tmp_path
):
    server = make_mirror(upstream_token=OWNER_TOKEN, require_token=True)
    token = issue(server, "alice")

    answers = run_client(GATED_DOWNLOAD, server.url, tmp_path / "home", token=token)

    assert answers == _gated_digests(fakehub)
    assert _tokens_sent_upstream(fakehub) == {f"Bearer {OWNER_TOKEN}"}


def test_without_an_organisation_token_the_same_caller_gets_the_gated_error(
    make_mirror, fakehub, issue, tmp_path
):
    server = make_mirror(require_token=True)
    token = issue(server, "alice")

    answers = run_client(GATED_DOWNLOAD, server.url, tmp_path / "home", token=token)
    raw = get(f"{server.url}/{GATED_MODEL}/resolve/main/config.json", headers=bearer(token))

    assert answers == ["GatedRepoError", "GatedRepoError"]
    assert _tokens_sent_upstream(fakehub) == set()
    assert (raw.status, raw.header("X-Error-Code")) == (401, "GatedRepo")


def test_hugging_face_token_callers_keep_their_own_token(make_mirror, fakehub):
    """The organisation token is for mirror-token callers only, never a Hub account's."""
    server = make_mirror(upstream_token=OWNER_TOKEN)

    answer = get(f"{server.url}/{GATED_MODEL}/resolve/main/config.json", headers=bearer(USER_TOKEN))

    assert (answer.status, answer.header("X-Error-Code")) == (403, "GatedRepo")
    assert _tokens_sent_upstream(fakehub) == {f"Bearer {USER_TOKEN}"}


def test_tokens_never_appear_in_logs_errors_or_responses(make_mirror, fakehub, issue, caplog):
    caplog.set_level(logging.DEBUG)
    org_token = "hf_org_secret_refused"  # upstream refuses it: its 401 must not repeat it
    servers = [make_mirror(upstream_token=OWNER_TOKEN), make_mirror(upstream_token=org_token)]
    tokens = [issue(server, "alice") for server in servers]
    limited = issue(servers[0], "ci", "model:acme/tiny-*")

    answers = []
    for server, token in zip(servers, tokens, strict=True):
        answers += _every_kind_of_answer(server.url, token)
    answers += _every_kind_of_answer(servers[0].url, limited)
    answers.append(get(f"{servers[0].url}/{TINY_BERT}/resolve/main/x", headers=bearer("hm_bad")))

    statuses = {a.status for a in answers}
    assert {200, 401, 403, 404} <= statuses
    assert any(a.header("X-Error-Message") == INVALID_CREDENTIALS for a in answers)
    secrets = [OWNER_TOKEN, org_token, *tokens, limited]
    mirror_log = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("tests.")
    )
    assert "GET /" in mirror_log  # the access log was captured
    for secret in secrets:
        assert secret not in mirror_log
        for answer in answers:
            assert secret.encode() not in answer.body
            assert secret not in str(answer.headers)


def _every_kind_of_answer(url: str, token: str) -> list:
    """Files, API, a missing file, a gated file, a dataset: HEAD, GET and POST."""
    auth = bearer(token)
    gated = f"{url}/{GATED_MODEL}/resolve/main/config.json"
    form = b"paths=config.json"
    return [
        head(gated, headers=auth),
        get(gated, headers=auth),
        get(f"{url}/{TINY_BERT}/resolve/main/config.json", headers=auth),
        get(f"{url}/{TINY_BERT}/resolve/main/no-such-file", headers=auth),
        get(f"{url}/api/models/{GATED_MODEL}/tree/main", headers=auth),
        get(f"{url}/api/datasets/{TINY_CSV}", headers=auth),
        request(
            "POST",
            f"{url}/api/models/{GATED_MODEL}/paths-info/main",
            headers=auth | {"Content-Type": "application/x-www-form-urlencoded"},
            body=form,
        ),
    ]
