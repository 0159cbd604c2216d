"""A branch named with 40 hex characters is a branch: it is asked again after the TTL.
Only a revision upstream named as a commit is immutable."""

from __future__ import annotations

import json
import time

from tests.support.http import get

MODEL = "acme/tiny-bert"
HEX_BRANCH = "ab" * 20


def _resolve(server, revision: str, path: str = "notes.txt"):
    return get(f"{server.url}/{MODEL}/resolve/{revision}/{path}")


def test_a_hex_named_branch_is_refreshed_after_the_ttl(make_mirror, fakehub):
    server = make_mirror(metadata_ttl=0.5)
    first = fakehub.move_branch("model", MODEL, HEX_BRANCH, {"notes.txt": b"first\n"})
    answer = _resolve(server, HEX_BRANCH)
    assert (answer.status, answer.body, answer.header("X-Repo-Commit")) == (200, b"first\n", first)
    second = fakehub.move_branch("model", MODEL, HEX_BRANCH, {"notes.txt": b"second\n"})
    time.sleep(0.6)
    answer = _resolve(server, HEX_BRANCH)
    assert (answer.status, answer.body) == (200, b"second\n")
    assert answer.header("X-Repo-Commit") == second


def test_a_tree_at_a_hex_named_branch_is_not_kept_for_ever(make_mirror, fakehub):
    server = make_mirror(metadata_ttl=0.5)
    fakehub.move_branch("model", MODEL, HEX_BRANCH, {"notes.txt": b"first\n"})
    tree = f"{server.url}/api/models/{MODEL}/tree/{HEX_BRANCH}"
    assert "later.txt" not in _paths(get(tree).body)
    fakehub.move_branch("model", MODEL, HEX_BRANCH, {"later.txt": b"later\n"})
    time.sleep(0.6)
    assert "later.txt" in _paths(get(tree).body)


def test_a_commit_upstream_named_is_served_without_asking_again(make_mirror, fakehub):
    server = make_mirror(metadata_ttl=0.5)
    commit = _resolve(server, "main", "config.json").header("X-Repo-Commit")
    assert commit == fakehub.commit_of("model", MODEL, "main")
    time.sleep(0.6)
    fakehub.log.clear()
    answer = _resolve(server, commit, "config.json")
    assert answer.status == 200
    assert answer.header("X-Cache-Status") == "HIT"
    asked = [e.target for e in fakehub.log if "/resolve/" in e.target or "/revision/" in e.target]
    assert asked == []


def _paths(body: bytes) -> list[str]:
    return [item["path"] for item in json.loads(body)]
