"""A Xet client asking for a file the mirror let go gets it again, fetched upstream.

huggingface_hub keeps the tree listing it was given (with ``xetHash``) and, for
Xet files, goes straight to the CAS without a HEAD. If the mirror evicted the blob
since, the reconstruction starts the file's fill again, with the credential the
client's token carries (sealed: only the mirror can read it).
"""

from __future__ import annotations

import base64
import json
import time

import pytest

from hubmirror.mirror.xet.tokens import read_token
from tests.audit.support import audited
from tests.fakehub import GATED_MODEL, OWNER_TOKEN, TINY_BERT
from tests.support.http import get
from tests.support.waiting import wait_for
from tests.xet import cas_support as cas

pytestmark = pytest.mark.timeout(120)

SIZE = 3 * 1024 * 1024 + 5
QUOTA = 4 * 1024 * 1024  # one of the files fits: the second pushes the first out
OWNER = {"Authorization": f"Bearer {OWNER_TOKEN}"}


def warm(server, fakehub, repo: str, path: str, seed: int, headers=None) -> cas.Served:
    """A file downloaded through ``server``, with its Xet hash recorded."""
    fakehub.add_large_file("model", repo, path, SIZE, seed=seed)
    return cas.fill(server, path, repo, headers)


def wait_evicted(server, sha256: str) -> None:
    wait_for(
        lambda: server.call(lambda: server.mirror.index.blob_by_id(sha256)) is None,
        "the quota to evict the first file",
        timeout=30,
    )


def read_token_route(server, repo: str, headers) -> str:
    answer = get(f"{server.url}/api/models/{repo}/xet-read-token/main", headers=headers)
    assert answer.status == 200, answer.body[:200]
    return json.loads(answer.body)["accessToken"]


def test_a_reconstruction_fetches_again_a_file_the_quota_let_go(make_mirror, fakehub):
    server = make_mirror(xet_serve=True, max_size=QUOTA)
    first = warm(server, fakehub, TINY_BERT, "a.bin", seed=3)
    warm(server, fakehub, TINY_BERT, "b.bin", seed=4)
    wait_evicted(server, first.sha256)
    fakehub.clear_log()

    answer = cas.reconstruction(server, first.xet_hash, token_value=cas.token(server)[0])

    assert cas.rebuild(answer, 2, SIZE) == first.data
    assert fakehub.body_bytes(host="cdn") == SIZE
    assert [r.cache for r in audited(server) if r.action == "xet"] == ["MISS"]


def test_a_gated_file_is_fetched_again_with_the_credential_its_token_carries(make_mirror, fakehub):
    server = make_mirror(xet_serve=True, max_size=QUOTA)
    first = warm(server, fakehub, GATED_MODEL, "a.bin", seed=5, headers=OWNER)
    warm(server, fakehub, GATED_MODEL, "b.bin", seed=6, headers=OWNER)
    wait_evicted(server, first.sha256)
    token = read_token_route(server, GATED_MODEL, OWNER)
    fakehub.clear_log()

    answer = cas.reconstruction(server, first.xet_hash, token_value=token)

    assert cas.rebuild(answer, 2, SIZE) == first.data
    sent = {e.headers.get("authorization") for e in fakehub.log if e.host == "hub"}
    assert sent == {f"Bearer {OWNER_TOKEN}"}


def test_the_credential_in_a_token_is_sealed_and_bound_to_the_mirrors_secret(make_mirror, fakehub):
    server = make_mirror(xet_serve=True)
    token = read_token_route(server, GATED_MODEL, OWNER)
    body = token.split(".")[0]
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))

    assert OWNER_TOKEN not in json.dumps(claims) and "p" in claims
    secret = server.call(server.mirror.index.xet.secret)
    assert read_token(secret, token, time.time()).presented == f"Bearer {OWNER_TOKEN}"
    assert read_token("another secret", token, time.time()) is None


def test_a_hash_the_repo_never_had_is_still_not_found(make_mirror, fakehub):
    server = make_mirror(xet_serve=True)
    other = warm(server, fakehub, GATED_MODEL, "a.bin", seed=7, headers=OWNER)
    server.call(server.mirror.index.forget_blob, other.sha256)

    answer = cas.reconstruction(server, other.xet_hash, token_value=cas.token(server)[0])

    assert answer.status == 404  # the token is for tiny-bert: gated-model's file stays hidden
