"""A repo is public only when upstream says so: an odd 200 never opens cached private bytes.

The owner's download leaves a private repo's file on the mirror's disk. Afterwards upstream
answers the anonymous visibility check with a 200 that is not a repo card (an error object,
a trimmed schema): anonymous callers must still get upstream's refusal, never those bytes,
neither online, nor during an outage, nor after a restart that reads the stored answer.
"""

from __future__ import annotations

import time

import pytest

from tests.fakehub import PRIVATE_MODEL, TINY_BERT
from tests.support.clients import MODEL, OWNER_TOKEN
from tests.support.http import get

pytestmark = pytest.mark.timeout(120)
TTL = 0.2  # metadata_ttl: the visibility is asked again on (almost) every request
ODD_ANSWERS = [
    {"error": "Internal Error"},
    {"id": PRIVATE_MODEL, "sha": "0" * 40},  # trimmed: no private, no gated
    {"id": PRIVATE_MODEL, "private": 0, "gated": None},  # wrong types
]
ODD_IDS = ["error-object", "trimmed", "wrong-types"]
OWNER = {"Authorization": f"Bearer {OWNER_TOKEN}"}


def _expire() -> None:
    time.sleep(TTL * 1.5)  # the remembered visibility is older than metadata_ttl


@pytest.fixture
def private_filled(make_mirror, fakehub, tmp_path):
    """(server, data dir, commit): the owner pulled the private config (at main and at its
    commit) and the tree at the commit."""
    data = tmp_path / "data"
    server = make_mirror(data=str(data), metadata_ttl=TTL)
    commit = fakehub.commit_of(MODEL, PRIVATE_MODEL, "main")
    assert (
        get(f"{server.url}/{PRIVATE_MODEL}/resolve/main/config.json", headers=OWNER).status == 200
    )
    assert (
        get(f"{server.url}/{PRIVATE_MODEL}/resolve/{commit}/config.json", headers=OWNER).status
        == 200
    )
    assert (
        get(f"{server.url}/api/models/{PRIVATE_MODEL}/tree/{commit}", headers=OWNER).status == 200
    )
    return server, data, commit


@pytest.mark.parametrize("odd", ODD_ANSWERS, ids=ODD_IDS)
def test_odd_info_answer_does_not_open_cached_private_files(fakehub, private_filled, odd):
    server, _data, commit = private_filled
    secret = fakehub.file_bytes(MODEL, PRIVATE_MODEL, "main", "config.json")
    fakehub.faults.info_body = odd
    _expire()

    file = get(f"{server.url}/{PRIVATE_MODEL}/resolve/{commit}/config.json")
    tree = get(f"{server.url}/api/models/{PRIVATE_MODEL}/tree/{commit}")

    assert (file.status, file.header("X-Error-Code")) == (401, "RepoNotFound")
    assert secret not in file.body
    assert (tree.status, tree.header("X-Error-Code")) == (401, "RepoNotFound")
    assert b"config.json" not in tree.body


def test_odd_info_answer_then_outage_serves_no_private_files(make_mirror, fakehub, private_filled):
    server, data, _commit = private_filled
    fakehub.faults.info_body = ODD_ANSWERS[0]
    _expire()
    assert get(f"{server.url}/api/models/{PRIVATE_MODEL}").status == 200  # the odd answer
    fakehub.go_down()
    _expire()
    target = f"/{PRIVATE_MODEL}/resolve/main/config.json"

    during = get(server.url + target)
    restarted = make_mirror(data=str(data), metadata_ttl=TTL)  # reads the stored answer
    after_restart = get(restarted.url + target)

    secret = fakehub.file_bytes(MODEL, PRIVATE_MODEL, "main", "config.json")
    for answer in (during, after_restart):
        assert answer.status == 503 and secret not in answer.body
    owner = get(restarted.url + target, headers=OWNER)  # upstream confirmed the owner before
    assert (owner.status, owner.body) == (200, secret)


def test_odd_info_answer_leaves_public_files_to_upstream_not_the_cache_blindly(
    make_mirror, fakehub
):
    """A public repo with an odd answer is "unknown": still served, after upstream said yes."""
    server = make_mirror(metadata_ttl=TTL)
    target = f"{server.url}/{TINY_BERT}/resolve/main/config.json"
    assert get(target).status == 200
    fakehub.faults.info_body = ODD_ANSWERS[0]
    _expire()
    fakehub.clear_log()

    answer = get(target)

    assert (answer.status, answer.body) == (
        200,
        fakehub.file_bytes(MODEL, TINY_BERT, "main", "config.json"),
    )
    asked = [e.target for e in fakehub.log if e.host == "hub" and "/resolve/" in e.target]
    assert asked == [f"/{TINY_BERT}/resolve/main/config.json"]  # upstream confirmed the caller
