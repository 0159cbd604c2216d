"""Gated and private repos through the mirror: every caller gets exactly the hub's answer.

The mirror stores blobs by content, so the dangerous moment is after someone with access has
pulled a file: the bytes are then on the mirror's disk, and a caller without access must still
get GatedRepoError / RepositoryNotFoundError, whatever URL, revision or method they use.
"""

from __future__ import annotations

import pytest

from tests.support.clients import (
    GATED,
    MODEL,
    OWNER_TOKEN,
    PRIVATE,
    REFERENCE_ORIGIN,
    TINY_BERT,
    USER_TOKEN,
    curl_fetch,
    run_client,
)

pytestmark = pytest.mark.timeout(180)

ANONYMOUS = None
INVALID_TOKEN = "hf_not_a_real_token"

PROBE = f"""
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from huggingface_hub import HfFileSystem
api = HfApi()
emit({{
    "gated_file": outcome(hf_hub_download, {GATED!r}, "config.json"),
    "gated_weights": outcome(hf_hub_download, {GATED!r}, "model.safetensors"),
    "gated_snapshot": outcome(snapshot_download, {GATED!r}),
    "gated_read": outcome(lambda: HfFileSystem().cat_file({GATED + "/model.safetensors"!r})),
    "gated_info": outcome(api.model_info, {GATED!r}),
    "gated_files": outcome(api.list_repo_files, {GATED!r}),
    "gated_paths_info": outcome(api.get_paths_info, {GATED!r}, ["model.safetensors"]),
    "gated_refs": outcome(api.list_repo_refs, {GATED!r}),
    "private_file": outcome(hf_hub_download, {PRIVATE!r}, "config.json"),
    "private_snapshot": outcome(snapshot_download, {PRIVATE!r}),
    "private_info": outcome(api.model_info, {PRIVATE!r}),
    "private_files": outcome(api.list_repo_files, {PRIVATE!r}),
    "private_read": outcome(lambda: HfFileSystem().cat_file({PRIVATE + "/config.json"!r})),
    "private_refs": outcome(api.list_repo_refs, {PRIVATE!r}),
    "private_paths_info": outcome(api.get_paths_info, {PRIVATE!r}, ["config.json"]),
}})
"""

DOWNLOADS_DENIED = {
    "gated_file": "GatedRepoError",
    "gated_weights": "GatedRepoError",
    "gated_snapshot": "GatedRepoError",
    "private_file": "RepositoryNotFoundError",
    "private_snapshot": "RepositoryNotFoundError",
    "private_info": "RepositoryNotFoundError",
    "private_files": "RepositoryNotFoundError",
}

EXPECTED_DOWNLOADS = {
    ANONYMOUS: DOWNLOADS_DENIED,
    USER_TOKEN: DOWNLOADS_DENIED,
    OWNER_TOKEN: dict.fromkeys(DOWNLOADS_DENIED, "ok"),
}

TOKENS = [ANONYMOUS, USER_TOKEN, OWNER_TOKEN, INVALID_TOKEN]
TOKEN_IDS = ["anonymous", "user", "owner", "invalid"]


def probe(endpoint, home, token, env=None):
    return run_client(PROBE, endpoint, home, token=token, env=env)


def hub_answers(fakehub, new_home, token):
    """What the fake hub itself tells this caller (plain HTTP, no Xet): the reference."""
    env = {"HF_HUB_DISABLE_XET": "1", "HF_HUB_USER_AGENT_ORIGIN": REFERENCE_ORIGIN}
    return probe(fakehub.url, new_home("reference"), token, env=env)


def assert_same_answers(mirror_answers, hub_answers, token):
    assert mirror_answers == hub_answers
    for key, expected in EXPECTED_DOWNLOADS.get(token, {}).items():
        assert mirror_answers[key] == expected, key


@pytest.mark.parametrize("token", TOKENS, ids=TOKEN_IDS)
def test_gated_and_private_answers_match_the_hub(endpoint, new_home, fakehub, token):
    """Each caller gets the hub's exception (or success) for every kind of call."""
    reference = hub_answers(fakehub, new_home, token)

    answers = probe(endpoint, new_home(), token)

    assert_same_answers(answers, reference, token)


def owner_pulls_everything(endpoint, new_home):
    answers = probe(endpoint, new_home("owner"), OWNER_TOKEN)
    assert set(answers.values()) == {"ok"}, answers


@pytest.mark.parametrize(
    "token", [ANONYMOUS, USER_TOKEN, INVALID_TOKEN], ids=TOKEN_IDS[:2] + ["invalid"]
)
def test_cached_gated_and_private_blobs_never_leak(endpoint, new_home, fakehub, token):
    """After the owner pulled every file through the mirror, others are still refused."""
    reference = hub_answers(fakehub, new_home, token)
    owner_pulls_everything(endpoint, new_home)

    answers = probe(endpoint, new_home(), token)

    assert_same_answers(answers, reference, token)


def resolve_attempts(endpoint, fakehub, repo, name):
    """Every way of asking a /resolve/ URL for the file: branch, sha, HEAD, GET, Range."""
    commit = fakehub.commit_of(MODEL, repo, "main")
    for revision in ("main", commit):
        url = f"{endpoint}/{repo}/resolve/{revision}/{name}"
        yield url, "HEAD", ()
        yield url, "GET", ()
        yield url, "GET", ("-r", "0-99")


@pytest.mark.parametrize("repo", [GATED, PRIVATE])
def test_cached_blob_is_refused_to_curl_without_a_token(endpoint, new_home, fakehub, repo):
    """Anonymous HTTP gets the hub's status and error code and none of the bytes."""
    owner_pulls_everything(endpoint, new_home)
    name = "model.safetensors" if repo == GATED else "config.json"
    data = fakehub.file_bytes(MODEL, repo, "main", name)
    expected_code = "GatedRepo" if repo == GATED else "RepoNotFound"

    for url, method, args in resolve_attempts(endpoint, fakehub, repo, name):
        upstream = curl_fetch(url.replace(endpoint, fakehub.url), *args, method=method)
        response = curl_fetch(url, *args, method=method)
        where = f"{method} {url} {args}"
        assert response.status == upstream.status, where
        assert response.status in (401, 403, 404), where
        assert response.headers.get("x-error-code") == expected_code, where
        assert data[:100] not in response.body, where
        revealed = "x-repo-commit" in response.headers
        assert revealed <= ("x-repo-commit" in upstream.headers), where


def test_gated_weights_refused_even_when_same_bytes_are_cached_from_public_repo(
    endpoint, new_home, fakehub
):
    """Content-addressed storage must not turn "same sha256" into "same permission"."""
    public = fakehub.file_sha256(MODEL, TINY_BERT, "main", "model.safetensors")
    assert fakehub.file_sha256(MODEL, GATED, "main", "model.safetensors") == public
    code = f"""
    import hashlib
    from huggingface_hub import hf_hub_download
    path = hf_hub_download({TINY_BERT!r}, "model.safetensors")
    emit({{
        "public": hashlib.sha256(open(path, "rb").read()).hexdigest(),
        "gated": outcome(hf_hub_download, {GATED!r}, "model.safetensors"),
    }})
    """
    assert run_client(code, endpoint, new_home()) == {"public": public, "gated": "GatedRepoError"}

    code = f"""
    from huggingface_hub import hf_hub_download
    emit(outcome(hf_hub_download, {GATED!r}, "model.safetensors"))
    """
    assert run_client(code, endpoint, new_home()) == "GatedRepoError"
    assert run_client(code, endpoint, new_home(), token=USER_TOKEN) == "GatedRepoError"
    url = f"{endpoint}/{GATED}/resolve/main/model.safetensors"
    response = curl_fetch(url)
    assert response.status == 401
    assert response.headers.get("x-error-code") == "GatedRepo"
    assert fakehub.file_bytes(MODEL, GATED, "main", "model.safetensors")[:100] not in response.body


def test_owner_downloads_of_gated_and_private_files_are_correct(endpoint, home, fakehub):
    """With access, the owner's bytes are the hub's bytes."""
    code = f"""
    import hashlib
    from huggingface_hub import hf_hub_download
    weights = hf_hub_download({GATED!r}, "model.safetensors")
    config = hf_hub_download({PRIVATE!r}, "config.json")
    emit({{
        "gated": hashlib.sha256(open(weights, "rb").read()).hexdigest(),
        "private": open(config, "rb").read().decode(),
    }})
    """
    result = run_client(code, endpoint, home, token=OWNER_TOKEN)

    assert result["gated"] == fakehub.file_sha256(MODEL, GATED, "main", "model.safetensors")
    assert result["private"].encode() == fakehub.file_bytes(MODEL, PRIVATE, "main", "config.json")


PUBLIC_PROBE = f"""
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
emit({{
    "file": outcome(hf_hub_download, {TINY_BERT!r}, "config.json"),
    "weights": outcome(hf_hub_download, {TINY_BERT!r}, "model.safetensors"),
    "snapshot": outcome(snapshot_download, {TINY_BERT!r}),
    "info": outcome(HfApi().model_info, {TINY_BERT!r}),
}})
"""


def test_invalid_token_gets_the_hub_answer_even_for_cached_public_files(
    endpoint, new_home, fakehub
):
    """huggingface.co refuses an unknown token everywhere (401, "Invalid credentials").

    Whether the mirror answers from its cache or from upstream must not change that: a user
    with a mistyped token would otherwise see hf_hub_download work and snapshot_download fail.
    """
    env = {"HF_HUB_DISABLE_XET": "1", "HF_HUB_USER_AGENT_ORIGIN": REFERENCE_ORIGIN}
    reference = run_client(PUBLIC_PROBE, fakehub.url, new_home(), token=INVALID_TOKEN, env=env)
    assert set(run_client(PUBLIC_PROBE, endpoint, new_home()).values()) == {"ok"}

    answers = run_client(PUBLIC_PROBE, endpoint, new_home(), token=INVALID_TOKEN)

    assert answers == reference
