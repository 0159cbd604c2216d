"""`snapshot_download` and the `hf download` command line through the mirror.

snapshot_download lists the tree at the resolved commit (paginated past 1000 entries through
`Link: rel="next"`), filters it locally, then fetches each file; every listed file must land,
with the right bytes.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

from tests.support.clients import (
    DATASET,
    MANY_FILES,
    MODEL,
    TINY_BERT,
    TINY_CSV,
    hub_files,
    run_cli,
    run_client,
)
from tests.support.hashing import sha256_of

pytestmark = pytest.mark.timeout(240)

SNAPSHOT = """
from huggingface_hub import snapshot_download
path = snapshot_download(
    {repo!r}, repo_type={repo_type!r}, allow_patterns={allow!r}, revision={revision!r}
)
emit({{"path": path}})
"""


def snapshot(endpoint, home, repo, repo_type=MODEL, allow=None, timeout=120, revision=None) -> Path:
    code = SNAPSHOT.format(repo=repo, repo_type=repo_type, allow=allow, revision=revision)
    return Path(run_client(code, endpoint, home, timeout=timeout)["path"])


def files_under(root: Path) -> set[str]:
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and ".cache" not in path.relative_to(root).parts
    }


def assert_tree_matches_hub(root: Path, hub, repo_type, repo, revision, expected: set[str]):
    """Exactly the expected files are present, each with the hub's sha256."""
    assert files_under(root) == expected
    wrong = [
        name
        for name in sorted(expected)
        if sha256_of(root / name) != hub.file_sha256(repo_type, repo, revision, name)
    ]
    assert not wrong, f"{len(wrong)} files differ from the hub, e.g. {wrong[:5]}"


def test_snapshot_download_of_tiny_bert_gets_every_file(endpoint, home, fakehub):
    """Every file of main, LFS weights and nested folders included, arrives intact."""
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    expected = hub_files(fakehub, MODEL, TINY_BERT, commit)

    root = snapshot(endpoint, home, TINY_BERT)

    assert root.name == commit
    assert_tree_matches_hub(root, fakehub, MODEL, TINY_BERT, commit, expected)


@pytest.mark.parametrize("revision", ["v1.0", "refs/pr/1"])
def test_snapshot_download_at_tag_or_pr_gets_that_commits_files(endpoint, home, fakehub, revision):
    """The tag's older config / the PR's extra file: the whole tree at that commit."""
    commit = fakehub.commit_of(MODEL, TINY_BERT, revision)
    expected = hub_files(fakehub, MODEL, TINY_BERT, commit)

    root = snapshot(endpoint, home, TINY_BERT, revision=revision)

    assert root.name == commit
    assert_tree_matches_hub(root, fakehub, MODEL, TINY_BERT, commit, expected)


def test_snapshot_after_upstream_branch_moved_is_self_consistent(cold_endpoint, new_home, fakehub):
    """Old or new commit, whatever the mirror's TTL says, but never a mix of the two.

    The snapshot folder is named after /revision/main's sha and every file in it must be that
    commit's version: clients pin that sha and fetch every file at it.
    """
    snapshot(cold_endpoint, new_home(), TINY_BERT)
    new_config = b'{"model_type": "bert", "moved": true}\n'
    fakehub.move_branch(MODEL, TINY_BERT, "main", {"config.json": new_config, "new.txt": b"new\n"})

    root = snapshot(cold_endpoint, new_home(), TINY_BERT)

    commit = root.name
    expected = hub_files(fakehub, MODEL, TINY_BERT, commit)
    assert_tree_matches_hub(root, fakehub, MODEL, TINY_BERT, commit, expected)


@pytest.mark.timeout(300)
def test_snapshot_download_of_paginated_repo_gets_every_file(endpoint, home, fakehub):
    """More than 1000 files means a second tree page; none of its files may be missing."""
    commit = fakehub.commit_of(MODEL, MANY_FILES, "main")
    expected = hub_files(fakehub, MODEL, MANY_FILES, commit)
    assert len(expected) > 1000

    root = snapshot(endpoint, home, MANY_FILES, timeout=240)

    assert_tree_matches_hub(root, fakehub, MODEL, MANY_FILES, commit, expected)


def test_snapshot_download_with_allow_patterns_gets_only_matching_files(endpoint, home, fakehub):
    """Filtering is client-side over the listing; the matching files still arrive intact."""
    patterns = ["*.json", "nested/*"]
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    expected = {
        name
        for name in hub_files(fakehub, MODEL, TINY_BERT, commit)
        if any(fnmatch.fnmatch(name, pattern) for pattern in patterns)
    }
    assert "config.json" in expected and "model.safetensors" not in expected

    root = snapshot(endpoint, home, TINY_BERT, allow=patterns)

    assert_tree_matches_hub(root, fakehub, MODEL, TINY_BERT, commit, expected)


def test_snapshot_download_of_dataset_gets_every_file(endpoint, home, fakehub):
    """Dataset repos live under /datasets/ and /api/datasets/; the same rules apply."""
    commit = fakehub.commit_of(DATASET, TINY_CSV, "main")
    expected = hub_files(fakehub, DATASET, TINY_CSV, commit)

    root = snapshot(endpoint, home, TINY_CSV, repo_type=DATASET)

    assert_tree_matches_hub(root, fakehub, DATASET, TINY_CSV, commit, expected)


def test_second_snapshot_with_fresh_home_moves_no_upstream_bytes(endpoint, new_home, fakehub):
    """A second user of a warm mirror is served from the mirror's store, not from upstream."""
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    expected = hub_files(fakehub, MODEL, TINY_BERT, commit)
    snapshot(endpoint, new_home(), TINY_BERT)
    fakehub.clear_log()

    root = snapshot(endpoint, new_home(), TINY_BERT)

    moved = fakehub.body_bytes()
    requests = [(e.method, e.target, e.status) for e in fakehub.log]
    assert moved == 0, f"{moved} upstream body bytes on a warm mirror: {requests}"
    assert_tree_matches_hub(root, fakehub, MODEL, TINY_BERT, commit, expected)


# --- the `hf download` command line ------------------------------------------------------


def test_hf_download_cli_single_file_gets_hub_bytes(endpoint, home, fakehub):
    """`hf download repo file` is hf_hub_download with the CLI's user agent."""
    run_cli(["download", TINY_BERT, "config.json"], endpoint, home)

    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    path = home / "hub" / "models--acme--tiny-bert" / "snapshots" / commit / "config.json"
    assert path.read_bytes() == fakehub.file_bytes(MODEL, TINY_BERT, "main", "config.json")


def test_hf_download_cli_include_gets_only_matching_files(endpoint, home, fakehub):
    """`--include` becomes allow_patterns of a snapshot download."""
    run_cli(["download", TINY_BERT, "--include", "*.json"], endpoint, home)

    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    expected = {n for n in hub_files(fakehub, MODEL, TINY_BERT, commit) if n.endswith(".json")}
    root = home / "hub" / "models--acme--tiny-bert" / "snapshots" / commit
    assert_tree_matches_hub(root, fakehub, MODEL, TINY_BERT, commit, expected)


def test_hf_download_cli_local_dir_gets_every_file(endpoint, home, fakehub):
    """`--local-dir` writes real files (not symlinks) plus per-file metadata with the etag."""
    target = home / "out"
    run_cli(["download", TINY_BERT, "--local-dir", str(target)], endpoint, home)

    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    expected = hub_files(fakehub, MODEL, TINY_BERT, commit)
    assert_tree_matches_hub(target, fakehub, MODEL, TINY_BERT, commit, expected)
    weights_meta = target / ".cache" / "huggingface" / "download" / "model.safetensors.metadata"
    commit_line, etag_line = weights_meta.read_text().splitlines()[:2]
    assert commit_line == commit
    assert etag_line == sha256_of(target / "model.safetensors")


def test_hf_download_cli_of_dataset_to_local_dir_gets_every_file(endpoint, home, fakehub):
    """`--repo-type dataset` with `--local-dir`, the trace `cli` case."""
    target = home / "ds"
    run_cli(
        ["download", TINY_CSV, "--repo-type", "dataset", "--local-dir", str(target)],
        endpoint,
        home,
    )

    commit = fakehub.commit_of(DATASET, TINY_CSV, "main")
    expected = hub_files(fakehub, DATASET, TINY_CSV, commit)
    assert_tree_matches_hub(target, fakehub, DATASET, TINY_CSV, commit, expected)


def test_hf_cache_verify_accepts_what_came_through_the_mirror(endpoint, home, fakehub):
    """`hf cache verify` re-lists the tree and checks every file against oid / lfs.oid."""
    snapshot(endpoint, home, TINY_BERT)

    proc = run_cli(
        ["cache", "verify", TINY_BERT, "--fail-on-missing-files", "--fail-on-extra-files"],
        endpoint,
        home,
    )

    assert "mismatch" not in (proc.stdout + proc.stderr).lower()


def test_offline_reuse_after_mirror_download_needs_no_server(endpoint, home, fakehub):
    """With HF_HUB_OFFLINE=1 the cache the mirror filled is complete on its own (trace offline)."""
    code = f"""
    from huggingface_hub import hf_hub_download, snapshot_download
    root = snapshot_download({TINY_BERT!r})
    emit({{"root": root, "config": hf_hub_download({TINY_BERT!r}, "config.json")}})
    """
    online = run_client(code, endpoint, home)

    offline = run_client(code, "http://127.0.0.1:9", home, env={"HF_HUB_OFFLINE": "1"})

    assert offline == online
    config = fakehub.file_bytes(MODEL, TINY_BERT, "main", "config.json")
    assert Path(offline["config"]).read_bytes() == config
