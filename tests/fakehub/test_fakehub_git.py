"""The fake hub speaks real git: the real `git` (and `git-lfs`) in subprocesses against it.

Its commit ids are real git commit ids, so a clone's HEAD is the API's `sha` for main.
"""

import base64
import gzip
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.fakehub import (
    GATED_MODEL,
    OWNER_TOKEN,
    PR_ONLY_FILE,
    PRIVATE_MODEL,
    TINY_BERT,
    TINY_CSV,
    TINY_PARQUET,
    TINY_PARQUET_CONVERTED_FILE,
    USER_TOKEN,
)
from tests.fakehub.gitobjects import lfs_pointer
from tests.fakehub.wire import fetch
from tests.support import system


def git(*args: str, cwd: Path | None = None, home: Path, check: bool = True, smudge=False):
    """Run git with a private HOME (no user config) and never a prompt; LFS smudge off
    unless asked (git-lfs acts only once `git lfs install` wrote its filters into HOME)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(HOME=str(home), GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1")
    if not smudge:
        env["GIT_LFS_SKIP_SMUDGE"] = "1"
    result = subprocess.run(
        [system.require("git"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed:\n{result.stderr}")
    return result


def head_of(clone: Path, home: Path, ref: str = "HEAD") -> str:
    return git("rev-parse", ref, cwd=clone, home=home).stdout.strip()


def upload_pack_requests(hub) -> list:
    return [e for e in hub.log if e.target.endswith("/git-upload-pack")]


@pytest.mark.parametrize("version", ["0", "2"])
def test_clone_head_is_the_api_sha_of_main(tmp_path, fakehub, version):
    clone = tmp_path / "clone"
    git(
        "-c",
        f"protocol.version={version}",
        "clone",
        f"{fakehub.url}/{TINY_BERT}",
        str(clone),
        home=tmp_path,
    )
    api = fetch(f"{fakehub.url}/api/models/{TINY_BERT}/revision/main").json()
    assert head_of(clone, tmp_path) == api["sha"] == fakehub.commit_of("model", TINY_BERT, "main")
    history = git("log", "--format=%H %s", cwd=clone, home=tmp_path).stdout.splitlines()
    assert [line.split()[0] for line in history] == [
        c.sha for c in fakehub.repo("model", TINY_BERT).history(api["sha"])
    ]
    assert (clone / "config.json").read_bytes() == fakehub.file_bytes(
        "model", TINY_BERT, "main", "config.json"
    )
    blob = fakehub.blob("model", TINY_BERT, "main", "model.safetensors")
    assert (clone / "model.safetensors").read_bytes() == lfs_pointer(blob.sha256, blob.size)
    git("fsck", "--strict", cwd=clone, home=tmp_path)
    protocols = {e.headers.get("git-protocol") for e in upload_pack_requests(fakehub)}
    assert protocols == ({"version=2"} if version == "2" else {None})


def test_shallow_clone_of_a_tag_and_fetch_of_a_pull_request(tmp_path, fakehub):
    clone = tmp_path / "clone"
    git(
        "clone",
        "--depth",
        "1",
        "--branch",
        "v1.0",
        f"{fakehub.url}/{TINY_BERT}.git",
        str(clone),
        home=tmp_path,
    )
    tag_sha = fakehub.commit_of("model", TINY_BERT, "v1.0")
    assert head_of(clone, tmp_path) == tag_sha
    assert git("rev-list", "--count", "HEAD", cwd=clone, home=tmp_path).stdout.strip() == "1"
    git(
        "fetch",
        "--depth",
        "1",
        "origin",
        "refs/pr/1:refs/remotes/origin/pr/1",
        cwd=clone,
        home=tmp_path,
    )
    assert head_of(clone, tmp_path, "origin/pr/1") == fakehub.commit_of(
        "model", TINY_BERT, "refs/pr/1"
    )
    shown = git("show", f"origin/pr/1:{PR_ONLY_FILE}", cwd=clone, home=tmp_path).stdout
    assert shown.encode() == fakehub.file_bytes("model", TINY_BERT, "refs/pr/1", PR_ONLY_FILE)


def test_dataset_clone_and_its_parquet_conversion_ref(tmp_path, fakehub):
    clone = tmp_path / "clone"
    git("clone", f"{fakehub.url}/datasets/{TINY_CSV}", str(clone), home=tmp_path)
    assert head_of(clone, tmp_path) == fakehub.commit_of("dataset", TINY_CSV, "main")
    assert (clone / "data/train.csv").read_bytes() == fakehub.file_bytes(
        "dataset", TINY_CSV, "main", "data/train.csv"
    )
    remote = git("ls-remote", f"{fakehub.url}/datasets/{TINY_PARQUET}", home=tmp_path).stdout
    refs = dict(reversed(line.split("\t")) for line in remote.splitlines())
    convert = fakehub.commit_of("dataset", TINY_PARQUET, "refs/convert/parquet")
    assert refs["refs/convert/parquet"] == convert
    assert refs["HEAD"] == refs["refs/heads/main"]
    git(
        "fetch",
        "-q",
        f"{fakehub.url}/datasets/{TINY_PARQUET}",
        "refs/convert/parquet",
        cwd=clone,
        home=tmp_path,
    )
    assert head_of(clone, tmp_path, "FETCH_HEAD") == convert
    listed = git("ls-tree", "-r", "--name-only", "FETCH_HEAD", cwd=clone, home=tmp_path).stdout
    assert TINY_PARQUET_CONVERTED_FILE in listed.split()


def test_gated_repo_needs_the_token_as_basic_password(tmp_path, fakehub):
    url = f"{fakehub.url}/{GATED_MODEL}"
    anonymous = git("clone", url, str(tmp_path / "anon"), home=tmp_path, check=False)
    assert anonymous.returncode != 0
    assert "could not read Username" in anonymous.stderr
    answer = fetch(f"{url}.git/info/refs?service=git-upload-pack")
    assert answer.status == 401
    assert answer.headers["WWW-Authenticate"].startswith("Basic realm=")
    host = fakehub.url.removeprefix("http://")
    denied = git(
        "clone",
        f"http://user:{USER_TOKEN}@{host}/{GATED_MODEL}",
        str(tmp_path / "u"),
        home=tmp_path,
        check=False,
    )
    assert denied.returncode != 0 and "403" in denied.stderr
    clone = tmp_path / "owner"
    git("clone", f"http://user:{OWNER_TOKEN}@{host}/{GATED_MODEL}", str(clone), home=tmp_path)
    assert head_of(clone, tmp_path) == fakehub.commit_of("model", GATED_MODEL, "main")
    private = git(
        "ls-remote", f"http://user:{USER_TOKEN}@{host}/{PRIVATE_MODEL}", home=tmp_path, check=False
    )
    assert private.returncode != 0


def test_pull_after_the_branch_moved_gets_the_new_commit(tmp_path, fakehub):
    clone = tmp_path / "clone"
    git("clone", f"{fakehub.url}/{TINY_BERT}", str(clone), home=tmp_path)
    moved = fakehub.move_branch("model", TINY_BERT, "main", {"notes.txt": b"new upstream file\n"})
    fakehub.clear_log()
    git("pull", "--ff-only", cwd=clone, home=tmp_path)
    assert head_of(clone, tmp_path) == moved
    assert (clone / "notes.txt").read_bytes() == b"new upstream file\n"
    assert len(upload_pack_requests(fakehub)) >= 1


def test_gzip_upload_pack_request_is_answered(tmp_path, fakehub):
    main = fakehub.commit_of("model", TINY_BERT, "main")
    lines = [f"want {main} ofs-delta\n", "deepen 1\n"]
    body = b"".join(b"%04x%s" % (len(line) + 4, line.encode()) for line in lines)
    body += b"0000" + b"0009done\n"
    answer = fetch(
        f"{fakehub.url}/{TINY_BERT}/git-upload-pack",
        "POST",
        {
            "Content-Type": "application/x-git-upload-pack-request",
            "Content-Encoding": "gzip",
        },
        gzip.compress(body),
    )
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/x-git-upload-pack-result"
    assert b"PACK" in answer.body


def test_push_is_refused(fakehub):
    answer = fetch(f"{fakehub.url}/{TINY_BERT}.git/info/refs?service=git-receive-pack")
    assert answer.status == 403
    assert fetch(f"{fakehub.url}/{TINY_BERT}.git/git-receive-pack", "POST", body=b"").status == 403


@pytest.mark.parametrize("smudge", [False, True], ids=["skip-smudge-then-pull", "smudge"])
def test_lfs_files_come_through_the_batch_api_and_the_cdn(tmp_path, fakehub, smudge):
    system.require("git-lfs")
    git("lfs", "install", "--skip-repo", home=tmp_path)
    clone = tmp_path / "clone"
    git("clone", f"{fakehub.url}/{TINY_BERT}", str(clone), home=tmp_path, smudge=smudge)
    if not smudge:
        git("lfs", "pull", "--include", "model.safetensors", cwd=clone, home=tmp_path)
    weights = fakehub.file_bytes("model", TINY_BERT, "main", "model.safetensors")
    assert (clone / "model.safetensors").read_bytes() == weights
    batch = [e for e in fakehub.log if e.target.endswith("/info/lfs/objects/batch")]
    assert [e.status for e in batch] == [200]
    assert fakehub.body_bytes(host="cdn") == len(weights)


def test_lfs_batch_of_a_gated_repo_needs_the_token(fakehub):
    blob = fakehub.blob("model", GATED_MODEL, "main", "model.safetensors")
    body = json.dumps(
        {"operation": "download", "objects": [{"oid": blob.sha256, "size": blob.size}]}
    ).encode()
    url = f"{fakehub.url}/{GATED_MODEL}.git/info/lfs/objects/batch"
    headers = {"Content-Type": "application/vnd.git-lfs+json"}
    refused = fetch(url, "POST", headers, body)
    assert refused.status == 401
    assert refused.headers["WWW-Authenticate"].startswith("Basic realm=")
    basic = base64.b64encode(f"user:{OWNER_TOKEN}".encode()).decode()
    answer = fetch(url, "POST", {**headers, "Authorization": f"Basic {basic}"}, body)
    assert answer.status == 200
    (row,) = answer.json()["objects"]
    assert fetch(row["actions"]["download"]["href"]).body == blob.read()
