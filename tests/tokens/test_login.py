"""``hf auth login`` / ``hf auth whoami`` against the mirror: ``/api/whoami-v2``.

A mirror token is described by the mirror (its name, repos, expiry) and never sent
upstream; a Hugging Face token is upstream's to describe; no token is the Hub's 401.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime

import pytest

from hubmirror.mirror.access.identities import INVALID_CREDENTIALS, create_token
from tests.fakehub import GATED_MODEL, TINY_BERT
from tests.fakehub.payloads import account
from tests.support.clients import run_cli
from tests.support.commands import hubmirror
from tests.support.hashing import sha256_hex
from tests.support.http import get
from tests.tokens.conftest import bearer

pytestmark = pytest.mark.timeout(120)

WHOAMI = "/api/whoami-v2"
# The stored token is what the client sends: no HF_TOKEN, the implicit token allowed.
STORED_TOKEN = {"HF_HUB_DISABLE_IMPLICIT_TOKEN": "0"}


def _whoami_requests(fakehub) -> list[tuple[str, str | None]]:
    return [(e.target, e.headers.get("authorization")) for e in fakehub.log if WHOAMI in e.target]


def test_hf_auth_login_with_the_advised_commands_then_whoami_and_download(
    mirror, fakehub, tmp_path
):
    created = hubmirror(
        "token", "create", "alice", "--repos", "model:acme/tiny-*", "--expires", "90d",
        "--data", str(mirror.data_dir), env={"HUBMIRROR_PUBLIC_URL": mirror.url}, check=True,
    )  # fmt: skip
    token = created.stdout.strip()
    advice = created.stderr
    assert f"export HF_ENDPOINT={mirror.url}\n" in advice
    assert "hf auth login --token hm_..." in advice and "HF_TOKEN=hm_..." in advice
    endpoint = re.search(r"export HF_ENDPOINT=(\S+)", advice).group(1)
    home = tmp_path / "home"

    login = run_cli(["auth", "login", "--token", token], endpoint, home, env=STORED_TOKEN)
    whoami = run_cli(["auth", "whoami"], endpoint, home, env=STORED_TOKEN)
    download = run_cli(["download", TINY_BERT, "config.json"], endpoint, home, env=STORED_TOKEN)
    refused = run_cli(
        ["download", GATED_MODEL, "config.json"], endpoint, home, env=STORED_TOKEN, check=False
    )

    assert (home / "token").read_text() == token
    assert "Login successful" in login.stdout + login.stderr
    assert "alice" in whoami.stdout and mirror.url in whoami.stdout
    commit = fakehub.commit_of("model", TINY_BERT, "main")
    path = home / "hub" / "models--acme--tiny-bert" / "snapshots" / commit / "config.json"
    assert str(path) in download.stdout
    expected = fakehub.file_bytes("model", TINY_BERT, "main", "config.json")
    assert sha256_hex(path.read_bytes()) == sha256_hex(expected)
    assert refused.returncode != 0
    assert "'alice' may not read model acme/gated-model" in refused.stdout + refused.stderr
    assert _whoami_requests(fakehub) == []
    assert not any("hm_" in (e.headers.get("authorization") or "") for e in fakehub.log)


def test_whoami_of_a_mirror_token_names_it_its_repos_and_expiry(mirror, fakehub):
    now = time.time()
    repos = ("model:acme/*", "dataset:*")
    index = mirror.mirror.index
    token = mirror.call(lambda: create_token(index, "ci", repos, 12 * 3600, now))
    expires = datetime.fromtimestamp(now + 12 * 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    answer = get(mirror.url + WHOAMI, headers=bearer(token))

    assert answer.status == 200
    body = json.loads(answer.body)
    assert (body["type"], body["name"], body["orgs"]) == ("user", "ci", [])
    assert body["auth"]["accessToken"] == {
        "displayName": "ci",
        "role": "read",
        "expiration": expires,
    }
    assert body["mirrorToken"] == {"name": "ci", "repos": list(repos), "expiresAt": expires}
    assert body["fullname"] == f"ci (mirror token: model:acme/*, dataset:*; expires {expires})"
    assert list(fakehub.log) == []


def test_whoami_of_a_hub_token_is_upstreams_answer(mirror, fakehub):
    answer = get(mirror.url + WHOAMI, headers=bearer("hf_owner"))
    refused = get(mirror.url + WHOAMI, headers=bearer("hf_typo"))

    assert answer.status == 200
    assert json.loads(answer.body) == account("owner")
    assert refused.status == 401
    assert refused.header("X-Error-Message") == INVALID_CREDENTIALS
    assert _whoami_requests(fakehub) == [(WHOAMI, "Bearer hf_owner"), (WHOAMI, "Bearer hf_typo")]


def test_whoami_without_a_token_is_401_and_asks_nobody(mirror, fakehub):
    answer = get(mirror.url + WHOAMI)

    assert answer.status == 401
    assert json.loads(answer.body) == {"error": INVALID_CREDENTIALS}
    assert list(fakehub.log) == []


def test_whoami_of_a_hub_token_in_an_upstream_outage_is_a_5xx(mirror, fakehub):
    fakehub.go_down()

    answer = get(mirror.url + WHOAMI, headers=bearer("hf_owner"))

    assert answer.status in (503, 504)
    assert answer.header("X-Error-Code") in ("UpstreamUnavailable", "UpstreamTimeout")
