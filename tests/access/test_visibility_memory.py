"""What the access policy remembers per repo is bounded: strangers can name any repo."""

from __future__ import annotations

import asyncio
import json

import pytest

from hubmirror.errors import RepoNotFound
from hubmirror.index.database import Database
from hubmirror.index.queries import Index
from hubmirror.mirror.access.policy import PUBLIC, RESTRICTED, AccessPolicy
from hubmirror.types import RepoId, RepoType


@pytest.fixture
def index(tmp_path):
    database = Database(tmp_path / "index.sqlite")
    yield Index(database)
    database.close()


async def refused() -> bytes:
    raise RepoNotFound("Repository not found")


async def public() -> bytes:
    return json.dumps({"id": "acme/bert", "private": False, "gated": False}).encode()


def test_repos_upstream_refuses_are_remembered_in_memory_only_and_at_most_kept(index):
    policy = AccessPolicy(index, 600.0, 300.0, lambda: 1000.0, kept=10)
    strangers = [RepoId(RepoType.MODEL, f"stranger/repo-{n}") for n in range(50)]
    for repo in strangers:
        assert asyncio.run(policy.visibility(repo, refused)) == RESTRICTED
    assert len(policy._visibility) == 10
    assert policy.known_visibility(strangers[-1]) == RESTRICTED  # the newest, from memory
    assert [index.get_visibility(repo) for repo in strangers] == [None] * 50


def test_a_repo_that_turns_private_has_its_public_row_overwritten(index):
    clock = [1000.0]
    policy = AccessPolicy(index, 600.0, 300.0, lambda: clock[0])
    repo = RepoId(RepoType.MODEL, "acme/bert")
    assert asyncio.run(policy.visibility(repo, public)) == PUBLIC
    clock[0] += 601.0
    assert asyncio.run(policy.visibility(repo, refused)) == RESTRICTED
    assert index.get_visibility(repo) == (RESTRICTED, 1601.0)
