"""No leaks through two tiers: gated and private bytes cached at either tier reach only
callers the Hub accepts, and every refusal reads as the Hub's (status + X-Error-Code).

The site forwards each caller's own token to the central, which forwards it to the Hub;
a refusal from the Hub travels back unchanged. With ``require_token`` on the central, the
site reaches it as one identity (a mirror token as the site's ``upstream_token``).
"""

from __future__ import annotations

import pytest

from tests.support.clients import GATED, OWNER_TOKEN, PRIVATE, TINY_BERT, USER_TOKEN
from tests.support.commands import hubmirror
from tests.support.http import get, head

pytestmark = pytest.mark.timeout(60)

WEIGHTS = "model.safetensors"


def ask(url: str, token: str | None = None, method=get):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = method(url, headers=headers)
    return answer.status, answer.header("X-Error-Code")


def hub_answer(fakehub, path: str, token: str | None = None):
    return ask(fakehub.url + path, token, head)


@pytest.mark.parametrize(
    ("repo", "refusals"),
    [
        (GATED, {None: (401, "GatedRepo"), USER_TOKEN: (403, "GatedRepo")}),
        (PRIVATE, {None: (401, "RepoNotFound"), USER_TOKEN: (404, "RepoNotFound")}),
    ],
    ids=["gated", "private"],
)
def test_restricted_files_cached_at_both_tiers_never_leak(chain, fakehub, repo, refusals):
    path = f"/{repo}/resolve/main/{WEIGHTS}"
    data = fakehub.file_bytes("model", repo, "main", WEIGHTS)
    for token, expected in refusals.items():
        assert hub_answer(fakehub, path, token) == expected  # what the Hub itself says
        assert ask(chain.url(path), token) == expected

    owner = get(chain.url(path), headers={"Authorization": f"Bearer {OWNER_TOKEN}"})
    assert owner.status == 200 and owner.body == data

    for token, expected in refusals.items():  # now cached at both tiers
        assert ask(chain.url(path), token) == expected
        assert ask(chain.url(path), token, head) == expected
        assert ask(chain.central.url + path, token) == expected


def test_owner_gets_the_same_bytes_again_from_the_site_cache(chain, fakehub):
    path = f"/{GATED}/resolve/main/{WEIGHTS}"
    owner = {"Authorization": f"Bearer {OWNER_TOKEN}"}
    first, second = get(chain.url(path), headers=owner), get(chain.url(path), headers=owner)

    assert first.body == second.body == fakehub.file_bytes("model", GATED, "main", WEIGHTS)
    assert second.header("X-Cache-Status") == "HIT"


def site_behind_token_central(make_mirror, **site_settings):
    central = make_mirror(require_token=True)
    create = ("token", "create", "site-a", "--data", str(central.data_dir))
    tier_token = hubmirror(*create, check=True).stdout.strip()
    site = make_mirror(upstream=(central.url,), upstream_token=tier_token, **site_settings)
    return central, site


def test_site_mirror_tokens_reach_a_token_central_as_the_site(make_mirror, fakehub):
    """Site users with a site token get public files through a central with require_token."""
    central, site = site_behind_token_central(make_mirror, require_token=True)
    user = hubmirror("token", "create", "alice", "--data", str(site.data_dir), check=True)
    alice = {"Authorization": f"Bearer {user.stdout.strip()}"}
    path = f"/{TINY_BERT}/resolve/main/config.json"

    answer = get(site.url + path, headers=alice)

    assert answer.status == 200
    assert answer.body == fakehub.file_bytes("model", TINY_BERT, "main", "config.json")
    # The central sends no token to the Hub (it has no upstream_token): gated stays gated,
    # told as the Hub tells an authenticated caller without access.
    gated = site.url + f"/{GATED}/resolve/main/{WEIGHTS}"
    assert ask(gated, user.stdout.strip()) == (403, "GatedRepo")
    assert ask(site.url + path) == (401, None)  # the site's own require_token


def test_a_token_central_serves_the_sites_anonymous_callers_as_the_site(make_mirror, fakehub):
    """The site's mirror token goes with callers who bring none, so the site serves its
    network; gated content stays gated (the central has no organisation token here)."""
    central, site = site_behind_token_central(make_mirror)
    path = f"/{TINY_BERT}/resolve/main/config.json"
    data = fakehub.file_bytes("model", TINY_BERT, "main", "config.json")

    first, second = get(site.url + path), get(site.url + path)

    assert first.status == 200 and first.body == data
    assert second.header("X-Cache-Status") == "HIT"
    assert ask(site.url + f"/{GATED}/resolve/main/{WEIGHTS}") == (401, "GatedRepo")
    assert ask(central.url + path) == (401, None)  # the central itself still wants a token


def test_a_token_the_hub_refuses_is_refused_at_the_site_even_for_cached_public_files(
    chain, fakehub
):
    """The Hub's exact words travel back, so huggingface_hub reports invalid credentials."""
    path = f"/{TINY_BERT}/resolve/main/config.json"
    assert get(chain.url(path)).status == 200  # cached at both tiers

    answer = get(chain.url(path), headers={"Authorization": "Bearer hf_revoked"})

    assert (answer.status, answer.header("X-Error-Code")) == (401, None)
    assert answer.header("X-Error-Message") == "Invalid credentials in Authorization header"
    assert answer.body != fakehub.file_bytes("model", TINY_BERT, "main", "config.json")
