"""A mirror token's repo globs: what it may read, refused before anything is asked upstream."""

from __future__ import annotations

import json

import pytest

from tests.fakehub import GATED_MODEL, TINY_BERT, TINY_CSV
from tests.support.clients import run_client
from tests.support.http import get, head
from tests.tokens.conftest import bearer

pytestmark = pytest.mark.timeout(120)

LIMIT = "model:acme/tiny-*"
REFUSED_URLS = [
    f"/{GATED_MODEL}/resolve/main/config.json",
    f"/api/models/{GATED_MODEL}",
    f"/datasets/{TINY_CSV}/resolve/main/README.md",
    f"/api/datasets/{TINY_CSV}",
    f"/api/datasets/{TINY_CSV}/tree/main",
]


def _upstream_targets(fakehub) -> list[str]:
    return [entry.target for entry in fakehub.log]


@pytest.mark.parametrize("path", REFUSED_URLS)
def test_repo_outside_the_tokens_globs_is_403_naming_repo_and_token(
    make_mirror, fakehub, issue, path
):
    server = make_mirror()
    token = issue(server, "ci", LIMIT)

    answer = get(server.url + path, headers=bearer(token))

    assert answer.status == 403
    assert answer.header("X-Error-Code") is None
    repo = GATED_MODEL if GATED_MODEL in path else TINY_CSV
    message = json.loads(answer.body)["error"]
    assert f"{repo}:" in message and "'ci'" in message and LIMIT in message
    assert answer.header("X-Error-Message") == message
    assert _upstream_targets(fakehub) == []


def test_repo_inside_the_globs_is_served(make_mirror, fakehub, issue):
    server = make_mirror()
    token = issue(server, "ci", LIMIT)

    answer = get(f"{server.url}/{TINY_BERT}/resolve/main/config.json", headers=bearer(token))

    assert answer.status == 200
    assert answer.body == fakehub.file_bytes("model", TINY_BERT, "main", "config.json")


def test_cached_file_of_another_repo_is_still_refused(make_mirror, fakehub, issue):
    """The owner's fill puts the gated bytes on disk; the limited token still gets 403."""
    server = make_mirror()
    token = issue(server, "ci", LIMIT)
    url = f"{server.url}/{GATED_MODEL}/resolve/main/config.json"
    assert get(url, headers=bearer("hf_owner")).status == 200
    fakehub.clear_log()

    answers = [get(url, headers=bearer(token)), head(url, headers=bearer(token))]

    assert [a.status for a in answers] == [403, 403]
    assert _upstream_targets(fakehub) == []


def test_organisation_token_does_not_widen_the_tokens_globs(make_mirror, fakehub, issue):
    server = make_mirror(upstream_token="hf_owner")
    token = issue(server, "ci", LIMIT)

    answer = get(f"{server.url}/{GATED_MODEL}/resolve/main/config.json", headers=bearer(token))

    assert answer.status == 403
    assert _upstream_targets(fakehub) == []


def test_client_with_a_limited_token_reads_its_repos_only(make_mirror, fakehub, issue, tmp_path):
    server = make_mirror(require_token=True)
    token = issue(server, "ci", LIMIT)
    code = f"""
    from huggingface_hub import HfApi, hf_hub_download
    def refusal(fn, *args, **kwargs):
        try:
            fn(*args, **kwargs)
        except Exception as exc:
            said = str(exc) + str(exc.__cause__)  # hf_hub_download wraps a 403
            return [type(exc).__name__, "'ci' may not read" in said]
        return "ok"
    emit({{
        "allowed": outcome(hf_hub_download, {TINY_BERT!r}, "config.json"),
        "gated": refusal(hf_hub_download, {GATED_MODEL!r}, "config.json"),
        "dataset": refusal(HfApi().dataset_info, {TINY_CSV!r}),
    }})
    """

    answers = run_client(code, server.url, tmp_path / "home", token=token)

    assert answers == {
        "allowed": "ok",
        "gated": ["LocalEntryNotFoundError", True],
        "dataset": ["HfHubHTTPError", True],
    }
