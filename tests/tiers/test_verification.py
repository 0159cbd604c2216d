"""Verification through two tiers: wrong bytes never reach a client whole, nor any store.

Each tier verifies what it fetches against the size and hash its upstream announced;
a tier that finds a mismatch aborts the connection instead of ending it, so the tier
(or client) below sees a broken transfer, never a complete wrong file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client

import pytest

from tests.support.clients import MODEL, TINY_BERT
from tests.support.http import get
from tests.tiers.conftest import stored_blobs

pytestmark = pytest.mark.timeout(60)

BIG_TEXT = "notes/big.txt"  # a regular (git) file: verified by its git blob sha1
BIG_DATA = bytes(range(256)) * 1024  # 256 KiB
LARGE = "weights/large.bin"  # an LFS file: verified by sha256
LARGE_SIZE = 2 * 1024 * 1024


def fetch(url: str) -> tuple[int, bytes] | str:
    """``(status, body)``, or ``"aborted"`` when the answer broke off before its end."""
    try:
        answer = get(url, timeout=30)
    except (http.client.IncompleteRead, ConnectionError):
        return "aborted"
    return answer.status, answer.body


def serve_corrupt(hub, path: str):
    """Make the fake hub send wrong bytes (same size) for ``path`` at main; returns an undo."""
    repo = hub.repo(MODEL, TINY_BERT)
    sha = repo.branches["main"]
    commit = repo.commits[sha]
    blob = commit.files[path]
    wrong = dataclasses.replace(blob, data=bytes(b ^ 0x5A for b in blob.read()))
    repo.commits[sha] = dataclasses.replace(commit, files={**commit.files, path: wrong})
    return lambda: repo.commits.__setitem__(sha, commit)


def test_corrupt_hub_bytes_abort_both_tiers_and_nothing_is_stored(chain, fakehub):
    fakehub.move_branch(MODEL, TINY_BERT, "main", {BIG_TEXT: BIG_DATA})
    undo = serve_corrupt(fakehub, BIG_TEXT)
    url = chain.url(f"/{TINY_BERT}/resolve/main/{BIG_TEXT}")

    outcome = fetch(url)

    assert outcome == "aborted" or outcome[0] >= 500
    assert stored_blobs(chain.site) == []
    assert stored_blobs(chain.central) == []
    undo()
    assert fetch(url) == (200, BIG_DATA)
    assert len(stored_blobs(chain.site)) == len(stored_blobs(chain.central)) == 1


def test_a_site_refuses_wrong_bytes_its_central_serves_from_disk(chain, fakehub):
    """Bit rot in the central's store: the site's own verification stops it."""
    config = fakehub.file_bytes(MODEL, TINY_BERT, "main", "config.json")
    path = f"/{TINY_BERT}/resolve/main/config.json"
    assert get(chain.central.url + path).body == config
    (blob,) = stored_blobs(chain.central)
    blob.chmod(0o644)
    blob.write_bytes(bytes(b ^ 0x5A for b in config))

    outcome = fetch(chain.url(path))

    assert outcome == "aborted" or outcome[0] >= 500
    assert stored_blobs(chain.site) == []


def test_a_link_cut_between_the_tiers_is_resumed_and_the_file_is_right(relayed, fakehub):
    """The central's answer breaks off mid-body: the site resumes, the Hub sends it once."""
    chain, relay = relayed
    digest = fakehub.add_large_file(MODEL, TINY_BERT, LARGE, LARGE_SIZE, seed=3)
    fakehub.clear_log()
    relay.cut_after = LARGE_SIZE // 4

    status, body = fetch(chain.url(f"/{TINY_BERT}/resolve/main/{LARGE}"))

    assert status == 200 and hashlib.sha256(body).hexdigest() == digest
    assert relay.cuts == 1
    assert fakehub.body_bytes(host="cdn", path_contains=digest) == LARGE_SIZE


def test_a_body_cut_between_hub_and_central_is_resumed_through_the_chain(chain, fakehub):
    digest = fakehub.add_large_file(MODEL, TINY_BERT, LARGE, LARGE_SIZE, seed=4)
    fakehub.faults.drop_after = LARGE_SIZE // 3
    fakehub.faults.drop_count = 1

    status, body = fetch(chain.url(f"/{TINY_BERT}/resolve/main/{LARGE}"))

    assert status == 200 and hashlib.sha256(body).hexdigest() == digest
    cdn = [e for e in fakehub.log if e.host == "cdn"]
    assert len(cdn) >= 2  # the cut transfer and its resumption
    assert fakehub.body_bytes(host="cdn", path_contains=digest) == LARGE_SIZE
