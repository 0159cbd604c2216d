"""Revocation holds in the room, not only at the door: every CAS request decides again.

A Xet client holds a token from the mirror's token route and signed xorb URLs from a
reconstruction. Each later reconstruction and xorb fetch decides access for the token's
holder as ``/resolve/`` would at that moment, so a mirror token revoked, a repo denied
or an approval withdrawn (seen within seconds), or a gated repo upstream no longer lets
the holder read (asked again after ``access_ttl``) stops the download that is under way.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import pytest

from hubmirror.mirror.access.identities import create_token
from tests.fakehub import GATED_MODEL, OWNER_TOKEN, TINY_BERT
from tests.support import http
from tests.support.commands import hubmirror
from tests.support.waiting import wait_for
from tests.xet import cas_support as cas

pytestmark = pytest.mark.timeout(180)

SIZE = 3 * 1024 * 1024 + 5
OWNER = {"Authorization": f"Bearer {OWNER_TOKEN}"}
DEADLINE = 30  # seconds a refusal is waited for at most (the mirror's promise: 5)


@dataclass
class Download:
    """A Xet client's download under way: its token and one signed xorb URL."""

    server: object
    served: cas.Served
    token: str
    expires: int
    url: str
    byte_range: dict

    def reconstruction(self) -> http.Answer:
        return cas.reconstruction(self.server, self.served.xet_hash, token_value=self.token)

    def xorb(self) -> http.Answer:
        first, last = self.byte_range["start"], self.byte_range["end"]
        return http.get(self.url, headers={"Range": f"bytes={first}-{last}"})


def start_download(server, served: cas.Served, repo: str, headers=None) -> Download:
    """Token route, reconstruction and xorb fetches, as hf_xet sends them: the bytes whole."""
    answer = http.get(f"{server.url}/api/models/{repo}/xet-read-token/main", headers=headers)
    assert answer.status == 200, answer.body[:300]
    token, expires = json.loads(answer.body)["accessToken"], json.loads(answer.body)["exp"]
    reconstruction = cas.reconstruction(server, served.xet_hash, token_value=token)
    assert cas.rebuild(reconstruction, 2, len(served.data)) == served.data
    descriptors = cas.fetch_descriptors(json.loads(reconstruction.body), 2)
    _chunks, url, byte_range = next(iter(descriptors.values()))[0]
    return Download(server, served, token, expires, url, byte_range)


def wait_refused(request) -> http.Answer:
    """``request()`` again until it is refused (or the deadline passes): the refusal."""
    deadline = time.monotonic() + DEADLINE
    answer = request()
    while answer.status in (200, 206) and time.monotonic() < deadline:
        time.sleep(0.1)
        answer = request()
    return answer


def served_file(server, fakehub, repo: str, seed: int, headers=None) -> cas.Served:
    fakehub.add_large_file("model", repo, "weights.bin", SIZE, seed=seed)
    return cas.fill(server, "weights.bin", repo, headers)


def issue(server, name: str) -> str:
    index = server.mirror.index
    return server.call(lambda: create_token(index, name, (), None, time.time()))


def test_a_revoked_mirror_token_is_refused_at_the_next_reconstruction_and_xorb_fetch(
    make_mirror, fakehub
):
    server = make_mirror(xet_serve=True)
    served = served_file(server, fakehub, TINY_BERT, seed=51)
    alice, bob = issue(server, "alice"), issue(server, "bob")
    revoked = start_download(server, served, TINY_BERT, {"Authorization": f"Bearer {alice}"})
    kept = start_download(server, served, TINY_BERT, {"Authorization": f"Bearer {bob}"})

    hubmirror("token", "revoke", "alice", "--data", str(server.data_dir), check=True)

    for refused in (wait_refused(revoked.reconstruction), wait_refused(revoked.xorb)):
        assert refused.status == 401
        assert refused.header("X-Error-Message") == "Invalid credentials in Authorization header"
    assert kept.reconstruction().status == 200  # another holder's download goes on
    assert kept.xorb().status == 206


@pytest.mark.parametrize("mode", ["open", "approval"])
def test_a_repo_denied_after_the_token_was_issued_is_refused_at_the_cas(make_mirror, fakehub, mode):
    """In open mode an operator denies the repo; in approval mode withdraws its approval."""
    server = make_mirror(xet_serve=True, access_mode=mode)
    store = ("--data", str(server.data_dir), "--upstream", fakehub.url)
    if mode == "approval":
        hubmirror("approve", "--no-sync", TINY_BERT, *store, check=True)
        wait_served(f"{server.url}/{TINY_BERT}/resolve/main/config.json")
    served = served_file(server, fakehub, TINY_BERT, seed=52)
    download = start_download(server, served, TINY_BERT)

    hubmirror("deny", TINY_BERT, *store, check=True)

    for refused in (wait_refused(download.reconstruction), wait_refused(download.xorb)):
        assert refused.status == 403
        assert refused.header("X-Error-Code") == "RepoNotAllowed"


def test_a_gated_repo_upstream_no_longer_lets_the_holder_read_is_refused_after_access_ttl(
    make_mirror, fakehub
):
    server = make_mirror(xet_serve=True, access_ttl=1.0)
    served = served_file(server, fakehub, GATED_MODEL, seed=53, headers=OWNER)
    download = start_download(server, served, GATED_MODEL, OWNER)

    fakehub.repo("model", GATED_MODEL).access_withdrawn = True

    for refused in (wait_refused(download.reconstruction), wait_refused(download.xorb)):
        assert refused.status == 403
        assert refused.header("X-Error-Code") == "GatedRepo"


def test_xet_tokens_and_signed_xorb_urls_live_minutes(make_mirror, fakehub):
    server = make_mirror(xet_serve=True)
    served = served_file(server, fakehub, TINY_BERT, seed=54)

    download = start_download(server, served, TINY_BERT)

    url_expires = int(dict(parse_qsl(urlsplit(download.url).query))["e"])
    assert 60 <= download.expires - time.time() <= 600
    assert 60 <= url_expires - time.time() <= 600


def wait_served(url: str) -> None:
    wait_for(lambda: http.head(url).status == 200, f"{url} served", timeout=DEADLINE, every=0.1)
