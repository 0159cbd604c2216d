"""``require_token``: only mirror-token callers are served; real clients send it as HF_TOKEN."""

from __future__ import annotations

import time

import pytest

from hubmirror.mirror.access.identities import INVALID_CREDENTIALS
from tests.fakehub import TINY_BERT
from tests.support.clients import run_client
from tests.support.commands import hubmirror
from tests.support.hashing import sha256_hex
from tests.support.http import get
from tests.tokens.conftest import bearer

pytestmark = pytest.mark.timeout(120)

CONFIG_URL = f"/{TINY_BERT}/resolve/main/config.json"
DOWNLOAD = f"""
import hashlib
from huggingface_hub import hf_hub_download
paths = [hf_hub_download({TINY_BERT!r}, name) for name in ("config.json", "model.safetensors")]
emit([hashlib.sha256(open(p, "rb").read()).hexdigest() for p in paths])
"""
ANONYMOUS_DOWNLOAD = f"""
from huggingface_hub import hf_hub_download
try:
    hf_hub_download({TINY_BERT!r}, "config.json")
except Exception as exc:
    emit([type(exc).__name__, str(exc)])
"""


def test_client_with_a_mirror_token_downloads_from_a_mirror_that_requires_one(
    make_mirror, fakehub, issue, tmp_path
):
    server = make_mirror(require_token=True)
    token = issue(server, "alice")

    digests = run_client(DOWNLOAD, server.url, tmp_path / "home", token=token)

    expected = [
        sha256_hex(fakehub.file_bytes("model", TINY_BERT, "main", name))
        for name in ("config.json", "model.safetensors")
    ]
    assert digests == expected
    sent_upstream = {entry.headers.get("authorization") for entry in fakehub.log}
    assert sent_upstream == {None}  # no organisation token: anonymous upstream, never hm_


def test_client_reads_the_mirror_token_from_its_token_file(make_mirror, fakehub, issue, tmp_path):
    """Where ``hf auth login`` would store it: $HF_HOME/token (login itself asks whoami)."""
    server = make_mirror(require_token=True)
    home = tmp_path / "home"
    home.mkdir()
    (home / "token").write_text(issue(server, "alice"))

    digests = run_client(DOWNLOAD, server.url, home, env={"HF_HUB_DISABLE_IMPLICIT_TOKEN": "0"})

    assert digests[0] == sha256_hex(fakehub.file_bytes("model", TINY_BERT, "main", "config.json"))


def test_client_without_a_token_is_told_how_to_get_one(make_mirror, fakehub, tmp_path):
    server = make_mirror(require_token=True)

    name, message = run_client(ANONYMOUS_DOWNLOAD, server.url, tmp_path / "home")

    assert name == "HfHubHTTPError"
    assert "401" in message and "hubmirror token create" in message
    assert list(fakehub.log) == []


@pytest.mark.parametrize("token", [None, "hf_owner"], ids=["anonymous", "hub-token"])
def test_callers_without_a_mirror_token_get_401(make_mirror, fakehub, token):
    server = make_mirror(require_token=True)

    answer = get(server.url + CONFIG_URL, headers=bearer(token))

    assert answer.status == 401
    assert answer.header("X-Error-Code") is None
    assert "requires a mirror token" in answer.header("X-Error-Message")
    assert b"hubmirror token create" in answer.body
    assert list(fakehub.log) == []


def test_unknown_mirror_token_gets_the_hubs_invalid_credentials(make_mirror, fakehub):
    server = make_mirror()

    answer = get(server.url + CONFIG_URL, headers=bearer("hm_not-a-token"))

    assert answer.status == 401
    assert answer.header("X-Error-Message") == INVALID_CREDENTIALS
    assert answer.header("X-Error-Code") is None
    assert list(fakehub.log) == []


def test_token_revoked_by_the_command_is_refused_by_the_running_mirror(make_mirror, fakehub, issue):
    server = make_mirror(require_token=True)
    token = issue(server, "alice")
    assert get(server.url + CONFIG_URL, headers=bearer(token)).status == 200

    hubmirror("token", "revoke", "alice", "--data", str(server.data_dir), check=True)

    answers = _until_refused(server.url + CONFIG_URL, token)
    assert answers[-1].status == 401
    assert answers[-1].header("X-Error-Message") == INVALID_CREDENTIALS
    assert {a.status for a in answers[:-1]} <= {200}


def _until_refused(url: str, token: str, patience: float = 30.0) -> list:
    """GET until the mirror refuses the token (it re-reads tokens every few seconds)."""
    answers = []
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        answers.append(get(url, headers=bearer(token)))
        if answers[-1].status != 200:
            break
        time.sleep(0.2)
    return answers
