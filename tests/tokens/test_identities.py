"""``MirrorIdentities``: who a caller is, what goes upstream, and what its token may read.

A real index in a temporary directory and a clock the test moves: revokes made
elsewhere and expiry are seen exactly when the memory says they should be.
"""

from __future__ import annotations

import pytest

from hubmirror.errors import Forbidden, InvalidCredentials
from hubmirror.index.database import Database
from hubmirror.index.queries import Index
from hubmirror.mirror.access.identities import (
    INVALID_CREDENTIALS,
    RECHECK,
    MirrorIdentities,
    create_token,
    revoke_token,
)
from hubmirror.types import RepoId, RepoType

T0 = 1_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class CountingIndex(Index):
    """Counts token look-ups, to show the warm path never reads the index."""

    lookups = 0

    def mirror_token(self, token_hash: str):
        self.lookups += 1
        return super().mirror_token(token_hash)


@pytest.fixture
def index(tmp_path):
    database = Database(tmp_path / "index.sqlite")
    yield CountingIndex(database)
    database.close()


@pytest.fixture
def clock():
    return Clock()


def identities(index, clock, **settings) -> MirrorIdentities:
    return MirrorIdentities(index, clock=clock, **settings)


def test_mirror_token_names_the_caller_and_sends_nothing_upstream(index, clock):
    token = create_token(index, "alice", ["model:acme/*"], None, T0)

    caller = identities(index, clock).identify("10.0.0.7", f"Bearer {token}")

    assert (caller.identity, caller.repos, caller.upstream_auth) == (
        "alice",
        ("model:acme/*",),
        None,
    )
    assert caller.who == "alice" and caller.address == "10.0.0.7"


def test_mirror_token_caller_goes_upstream_with_the_organisation_token(index, clock):
    token = create_token(index, "alice", [], None, T0)

    caller = identities(index, clock, upstream_token="hf_org").identify("-", f"Bearer {token}")

    assert caller.upstream_auth == "Bearer hf_org"
    assert caller.presented == f"Bearer {token}"


def test_hugging_face_token_passes_through_unchanged(index, clock):
    caller = identities(index, clock, upstream_token="hf_org").identify("-", "Bearer hf_mine")

    assert (caller.identity, caller.upstream_auth) == (None, "Bearer hf_mine")


def test_unknown_mirror_token_is_invalid_credentials_in_the_hubs_words(index, clock):
    with pytest.raises(InvalidCredentials) as refused:
        identities(index, clock).identify("-", "Bearer hm_nobody")

    assert refused.value.message == INVALID_CREDENTIALS


@pytest.mark.parametrize("authorization", [None, "Bearer hf_mine"])
def test_required_token_refuses_other_callers_and_says_how_to_get_one(index, clock, authorization):
    with pytest.raises(InvalidCredentials) as refused:
        identities(index, clock, require_token=True).identify("-", authorization)

    assert "requires a mirror token" in refused.value.message
    assert "hubmirror token create" in refused.value.message


def test_warm_lookup_does_not_read_the_index(index, clock):
    token = create_token(index, "alice", [], None, T0)
    who = identities(index, clock)

    for _ in range(100):
        who.identify("-", f"Bearer {token}")

    assert index.lookups == 1


def test_revoke_elsewhere_is_seen_once_the_memory_expires(index, clock):
    token = create_token(index, "alice", [], None, T0)
    who = identities(index, clock)
    who.identify("-", f"Bearer {token}")

    revoke_token(index, "alice", T0)
    clock.now = T0 + RECHECK - 0.1
    still = who.identify("-", f"Bearer {token}")
    clock.now = T0 + RECHECK

    assert still.identity == "alice"
    with pytest.raises(InvalidCredentials):
        who.identify("-", f"Bearer {token}")


def test_token_expires_at_its_time_even_when_remembered(index, clock):
    token = create_token(index, "temp", [], 2.0, T0)
    who = identities(index, clock)
    who.identify("-", f"Bearer {token}")

    clock.now = T0 + 2.0

    with pytest.raises(InvalidCredentials):
        who.identify("-", f"Bearer {token}")


def test_use_is_recorded_as_last_used(index, clock):
    token = create_token(index, "alice", [], None, T0)
    clock.now = T0 + 60

    identities(index, clock).identify("-", f"Bearer {token}")

    assert [t.last_used for t in index.mirror_tokens()] == [T0 + 60]


def test_check_refuses_repos_outside_the_tokens_globs(index, clock):
    token = create_token(index, "ci", ["model:acme/tiny-*"], None, T0)
    who = identities(index, clock)
    caller = who.identify("-", f"Bearer {token}")

    who.check(caller, RepoId(RepoType.MODEL, "acme/tiny-bert"))
    with pytest.raises(Forbidden) as refused:
        who.check(caller, RepoId(RepoType.DATASET, "acme/tiny-csv"))

    assert refused.value.message == (
        "The mirror token 'ci' may not read dataset acme/tiny-csv: it is limited to"
        " model:acme/tiny-*"
    )


def test_check_lets_unlimited_callers_read_any_repo(index, clock):
    caller = identities(index, clock).identify("-", "Bearer hf_mine")

    identities(index, clock).check(caller, RepoId(RepoType.SPACE, "x/y"))
