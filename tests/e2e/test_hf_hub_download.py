"""`hf_hub_download` through the mirror: every kind of revision, plain and LFS files.

The client names its cache entries after what the server says (`X-Repo-Commit` picks the
snapshot folder, the ETag names the blob), so besides the bytes these tests check that the
cache the client built is the one huggingface.co would have given it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.clients import MODEL, TINY_BERT, blob_of, git_blob_sha1, run_client
from tests.support.hashing import sha256_of

pytestmark = pytest.mark.timeout(120)

DOWNLOAD = """
from huggingface_hub import hf_hub_download
path = hf_hub_download({repo!r}, {filename!r}, revision={revision!r})
emit({{"path": path}})
"""


def download(endpoint: str, home: Path, filename: str, revision: str | None = None) -> Path:
    code = DOWNLOAD.format(repo=TINY_BERT, filename=filename, revision=revision)
    return Path(run_client(code, endpoint, home)["path"])


def assert_cached_like_the_hub(path: Path, commit: str, lfs: bool) -> None:
    """The file sits in snapshots/<commit>/ and links to blobs/<its own hash>. A download
    through Xet makes that blob a link into the client's shared Xet store: followed here
    one link only, as the Hub's Xet downloads give the same layout."""
    assert f"snapshots/{commit}/" in path.as_posix(), path
    blob = Path(os.path.normpath(path.parent / os.readlink(path)))
    assert blob.parent.name == "blobs", blob
    data = blob_of(path).read_bytes()
    expected_name = sha256_of(path) if lfs else git_blob_sha1(data)
    assert blob.name == expected_name, (
        f"blob {blob.name} is not the {'sha256' if lfs else 'git sha1'}"
    )


def test_hf_hub_download_of_regular_file_gets_hub_bytes(endpoint, home, fakehub):
    """A plain (non-LFS) file arrives byte for byte, under the commit main points to."""
    path = download(endpoint, home, "config.json")

    assert path.read_bytes() == fakehub.file_bytes(MODEL, TINY_BERT, "main", "config.json")
    assert_cached_like_the_hub(path, fakehub.commit_of(MODEL, TINY_BERT, "main"), lfs=False)


def test_hf_hub_download_of_lfs_file_gets_hub_bytes(endpoint, home, fakehub):
    """The LFS weights arrive whole and hash-correct, stored as blobs/<sha256>."""
    path = download(endpoint, home, "model.safetensors")

    assert sha256_of(path) == fakehub.file_sha256(MODEL, TINY_BERT, "main", "model.safetensors")
    assert_cached_like_the_hub(path, fakehub.commit_of(MODEL, TINY_BERT, "main"), lfs=True)


def test_hf_hub_download_of_nested_file_gets_hub_bytes(endpoint, home, fakehub):
    """A file two folders deep is found under its full path."""
    path = download(endpoint, home, "nested/dir/file.txt")

    assert path.read_bytes() == fakehub.file_bytes(MODEL, TINY_BERT, "main", "nested/dir/file.txt")


def test_hf_hub_download_at_tag_gets_the_older_config(endpoint, home, fakehub):
    """A tag resolves to its own (older) commit, whose config.json differs from main's."""
    old = fakehub.file_bytes(MODEL, TINY_BERT, "v1.0", "config.json")
    assert old != fakehub.file_bytes(MODEL, TINY_BERT, "main", "config.json")

    path = download(endpoint, home, "config.json", revision="v1.0")

    assert path.read_bytes() == old
    assert_cached_like_the_hub(path, fakehub.commit_of(MODEL, TINY_BERT, "v1.0"), lfs=False)


@pytest.mark.parametrize("ref", ["main", "v1.0"])
def test_hf_hub_download_at_full_commit_sha_gets_that_commits_bytes(endpoint, home, fakehub, ref):
    """Clients pin a 40-hex sha and fetch /resolve/<sha>/...; the mirror must resolve it."""
    commit = fakehub.commit_of(MODEL, TINY_BERT, ref)
    assert len(commit) == 40

    path = download(endpoint, home, "config.json", revision=commit)

    assert path.read_bytes() == fakehub.file_bytes(MODEL, TINY_BERT, commit, "config.json")
    assert_cached_like_the_hub(path, commit, lfs=False)


def test_hf_hub_download_at_pr_ref_gets_the_pr_only_file(endpoint, home, fakehub):
    """refs/pr/1 travels as the single segment refs%2Fpr%2F1 and serves the PR's files."""
    path = download(endpoint, home, "pr-only.txt", revision="refs/pr/1")

    assert path.read_bytes() == fakehub.file_bytes(MODEL, TINY_BERT, "refs/pr/1", "pr-only.txt")
    assert_cached_like_the_hub(path, fakehub.commit_of(MODEL, TINY_BERT, "refs/pr/1"), lfs=False)


def test_hf_hub_download_misses_raise_the_hub_errors(endpoint, home):
    """Missing file, revision and repo raise the same exceptions as on huggingface.co.

    A bare 404 would turn "file missing" into "Hub unreachable" (LocalEntryNotFoundError).
    """
    code = f"""
    from huggingface_hub import hf_hub_download as dl
    emit({{
        "pr_file_on_main": outcome(dl, {TINY_BERT!r}, "pr-only.txt"),
        "missing_file": outcome(dl, {TINY_BERT!r}, "missing.json"),
        "missing_revision": outcome(dl, {TINY_BERT!r}, "config.json", revision="v9.9"),
        "missing_repo": outcome(dl, "acme/does-not-exist", "config.json"),
    }})
    """
    assert run_client(code, endpoint, home) == {
        "pr_file_on_main": "RemoteEntryNotFoundError",
        "missing_file": "RemoteEntryNotFoundError",
        "missing_revision": "RevisionNotFoundError",
        "missing_repo": "RepositoryNotFoundError",
    }


def test_hf_hub_download_remembers_missing_file_under_the_commit(endpoint, home, fakehub):
    """A 404 EntryNotFound carries X-Repo-Commit, so the client records .no_exist/<sha>/."""
    code = f"""
    from huggingface_hub import hf_hub_download
    emit(outcome(hf_hub_download, {TINY_BERT!r}, "missing.json"))
    """
    assert run_client(code, endpoint, home) == "RemoteEntryNotFoundError"

    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    markers = list(home.glob(f"hub/models--acme--tiny-bert/.no_exist/{commit}/missing.json"))
    assert markers, "no .no_exist marker: the 404 lacked X-Repo-Commit"
