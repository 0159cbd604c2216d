"""Errors through two tiers: the Hub's refusals arrive with their X-Error-Code, and an
outage anywhere in the chain is a 5xx, never a "not found" that clients remember forever.
"""

from __future__ import annotations

import pytest

from tests.support.clients import MODEL, TINY_BERT
from tests.support.http import get, head
from tests.support.waiting import wait_for

pytestmark = pytest.mark.timeout(60)

NOT_FOUND_CODES = {"EntryNotFound", "RepoNotFound", "RevisionNotFound", "GatedRepo"}


@pytest.mark.parametrize(
    "path",
    [
        "/acme/does-not-exist/resolve/main/config.json",
        f"/{TINY_BERT}/resolve/v9.9/config.json",
        f"/{TINY_BERT}/resolve/main/missing.json",
        "/api/models/acme/does-not-exist",
        f"/api/models/{TINY_BERT}/revision/v9.9",
        f"/api/models/{TINY_BERT}/tree/main/no-such-dir",
    ],
    ids=["repo", "revision", "entry", "api-repo", "api-revision", "api-tree-entry"],
)
@pytest.mark.parametrize("method", [head, get], ids=["HEAD", "GET"])
def test_hub_refusals_pass_through_both_tiers_with_their_code(chain, fakehub, path, method):
    hub = method(fakehub.url + path)
    site = method(chain.url(path))

    assert hub.header("X-Error-Code") in NOT_FOUND_CODES
    assert (site.status, site.header("X-Error-Code")) == (hub.status, hub.header("X-Error-Code"))


def test_entry_not_found_carries_the_commit_and_is_remembered_by_the_site(relayed, fakehub):
    """Like the Hub's: X-Repo-Commit on the 404, and asked again it needs no upstream."""
    chain, relay = relayed
    path = f"/{TINY_BERT}/resolve/main/missing.json"
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    first = head(chain.url(path))
    relay.go_down()

    again = get(chain.url(path))

    for answer in (first, again):
        assert (answer.status, answer.header("X-Error-Code")) == (404, "EntryNotFound")
        assert answer.header("X-Repo-Commit") == commit


def test_central_down_site_serves_its_cache_and_5xx_for_the_rest(relayed, fakehub):
    chain, relay = relayed
    cached = f"/{TINY_BERT}/resolve/main/config.json"
    cold = f"/{TINY_BERT}/resolve/main/vocab.txt"
    assert get(chain.url(cached)).status == 200
    relay.go_down()

    warm, missing = get(chain.url(cached)), get(chain.url(cold))

    assert warm.status == 200
    assert warm.body == fakehub.file_bytes(MODEL, TINY_BERT, "main", "config.json")
    assert warm.header("X-Cache-Status") == "HIT"
    assert missing.status >= 500
    assert missing.header("X-Error-Code") not in NOT_FOUND_CODES
    relay.come_up()  # the site probes the central in the background and asks it again
    back = wait_for(lambda: (a := get(chain.url(cold))).status == 200 and a, "the central back")
    assert back.status == 200
    assert back.body == fakehub.file_bytes(MODEL, TINY_BERT, "main", "vocab.txt")


def test_hub_down_behind_a_healthy_central_keeps_the_centrals_cache_reachable(chain, fakehub):
    """The central answers 503 for what it lacks; the site must not take that as the central
    failing (its breaker would then also hide everything the central has cached)."""
    cached = f"/{TINY_BERT}/resolve/main/config.json"
    assert get(chain.central.url + cached).status == 200
    fakehub.go_down()

    misses = [get(chain.url(f"/{TINY_BERT}/resolve/main/{n}")) for n in ("vocab.txt",) * 4]
    served = get(chain.url(cached))

    assert {m.status for m in misses} <= {502, 503, 504}
    assert {m.header("X-Error-Code") for m in misses}.isdisjoint(NOT_FOUND_CODES)
    assert served.status == 200
    assert served.body == fakehub.file_bytes(MODEL, TINY_BERT, "main", "config.json")


@pytest.mark.parametrize(
    ("mode", "code"), [("allowlist", "RepoNotAllowed"), ("approval", "AwaitingApproval")]
)
def test_the_centrals_own_refusals_reach_site_clients_with_their_code(
    make_mirror, fakehub, mode, code
):
    """A central serving only some repos: its 403 and code are what site users see."""
    central = make_mirror(access_mode=mode, allow=(f"model:{TINY_BERT}",))
    site = make_mirror(upstream=(central.url,))
    path = "/acme/many-files/resolve/main/README.md"

    refused, allowed = get(site.url + path), get(site.url + f"/{TINY_BERT}/resolve/main/vocab.txt")

    direct = get(central.url + path)
    assert (refused.status, refused.header("X-Error-Code")) == (403, code)
    assert (direct.status, direct.header("X-Error-Code")) == (403, code)
    assert allowed.status == 200
