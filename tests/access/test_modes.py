"""Allow lists, deny lists and approval mode, end to end through a live mirror."""

from __future__ import annotations

import pytest

from tests.support.clients import MODEL, TINY_BERT, TINY_CSV, run_client
from tests.support.commands import hubmirror
from tests.support.http import get, head
from tests.support.waiting import wait_for

pytestmark = pytest.mark.timeout(180)
GATED = "acme/gated-model"

DOWNLOAD = """
from huggingface_hub import hf_hub_download
try:
    path = hf_hub_download({repo!r}, "config.json", repo_type={kind!r})
    emit({{"ok": open(path, "rb").read().decode()}})
except Exception as exc:  # the mirror's 403 is the cause huggingface_hub reports
    emit({{"error": type(exc).__name__, "message": f"{{exc}} {{exc.__cause__}}"}})
"""


def download(endpoint, home, repo, kind="model"):
    return run_client(DOWNLOAD.format(repo=repo, kind=kind), endpoint, home)


def requests_about(fakehub, repo: str) -> list:
    return [e.target for e in fakehub.log if repo in e.target]


def test_allowlist_serves_listed_repos_and_refuses_the_rest_without_asking_upstream(
    make_mirror, fakehub, new_home
):
    server = make_mirror(access_mode="allowlist", allow=("model:acme/tiny-*",))
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")

    allowed = download(server.url, new_home(), TINY_BERT)
    refused = download(server.url, new_home(), GATED)
    dataset = head(f"{server.url}/datasets/{TINY_CSV}/resolve/main/README.md")
    api = get(f"{server.url}/api/models/{GATED}")

    assert allowed == {"ok": fakehub.file_bytes(MODEL, TINY_BERT, commit, "config.json").decode()}
    assert "403" in refused["message"] and "not on this mirror's allow list" in refused["message"]
    assert (dataset.status, dataset.header("X-Error-Code")) == (403, "RepoNotAllowed")
    assert (api.status, api.header("X-Error-Code")) == (403, "RepoNotAllowed")
    assert requests_about(fakehub, GATED) == [] and requests_about(fakehub, TINY_CSV) == []


def test_deny_pattern_refuses_in_open_mode(make_mirror, fakehub):
    server = make_mirror(deny=("dataset:*",))

    model = head(f"{server.url}/{TINY_BERT}/resolve/main/config.json")
    dataset = head(f"{server.url}/datasets/{TINY_CSV}/resolve/main/README.md")

    assert model.status == 200
    assert (dataset.status, dataset.header("X-Error-Code")) == (403, "RepoNotAllowed")
    assert "not served by this mirror" in dataset.header("X-Error-Message")


def test_approval_mode_records_the_request_and_approve_syncs_and_opens_the_repo(
    make_mirror, fakehub, new_home, tmp_path
):
    data = tmp_path / "data"
    server = make_mirror(access_mode="approval", data=str(data))
    store = ("--data", str(data), "--upstream", fakehub.url)

    waiting = download(server.url, new_home(), TINY_BERT)
    listed = hubmirror("approvals", *store, check=True)
    approved = hubmirror("approve", TINY_BERT, *store, check=True)
    fakehub.clear_log()
    wait_for(
        lambda: head(f"{server.url}/{TINY_BERT}/resolve/main/config.json").status == 200, timeout=15
    )
    served = download(server.url, new_home(), TINY_BERT)

    assert "403" in waiting["message"] and "awaits approval" in waiting["message"]
    assert listed.stdout.startswith(f"pending   {TINY_BERT} ") and "127.0.0.1" in listed.stdout
    assert approved.stdout.splitlines()[0] == f"approved  {TINY_BERT}"
    assert approved.stdout.splitlines()[1].startswith(f"new       {TINY_BERT}@main ")
    assert "ok" in served
    assert fakehub.body_bytes(host="cdn") == 0  # the approval's sync fetched everything
    assert "no repos waiting" in hubmirror("approvals", *store, check=True).stdout


def test_operator_deny_closes_a_repo_in_open_mode(make_mirror, fakehub, tmp_path):
    data = tmp_path / "data"
    server = make_mirror(data=str(data))
    target = f"{server.url}/{TINY_BERT}/resolve/main/config.json"
    assert head(target).status == 200

    hubmirror("deny", TINY_BERT, "--data", str(data), check=True)

    wait_for(lambda: head(target).status == 403, timeout=15)
    assert head(target).header("X-Error-Code") == "RepoNotAllowed"


def test_bad_allow_pattern_stops_serve_with_the_pattern_named(tmp_path):
    proc = hubmirror(
        "serve", "--data", str(tmp_path / "d"), env={"HUBMIRROR_ALLOW": "weights:acme/*"}
    )
    assert proc.returncode == 1
    assert "weights:acme/*" in proc.stderr and "unknown repo type" in proc.stderr
