"""``hubmirror download``: a snapshot through mirrors into the cache or a folder, with failover.

Every test runs the command in its own process, as users do, and checks the bytes against
what the fake hub holds.
"""

from __future__ import annotations

import pytest

from tests.client.support import (
    hubmirror_download,
    snapshot_files,
    succeeded,
)
from tests.support.clients import DATASET, MODEL, TINY_BERT, TINY_CSV, hub_files, run_client
from tests.support.ports import dead_url

pytestmark = pytest.mark.timeout(120)

OFFLINE_SNIPPET = """
from huggingface_hub import snapshot_download
from transformers import AutoConfig, AutoTokenizer

path = snapshot_download("acme/tiny-bert")
config = AutoConfig.from_pretrained("acme/tiny-bert")
tokenizer = AutoTokenizer.from_pretrained("acme/tiny-bert")
ids = tokenizer("hello world")["input_ids"]
emit({"path": path, "layers": config.num_hidden_layers, "ids": ids})
"""


def _assert_same_as_hub(hub, repo_type, repo, files: dict) -> None:
    assert set(files) == hub_files(hub, repo_type, repo, "main")
    wrong = [
        p for p, f in files.items() if f.read_bytes() != hub.file_bytes(repo_type, repo, "main", p)
    ]
    assert wrong == []


def test_download_fills_a_cache_that_huggingface_hub_uses_offline(shared_mirror, fakehub, tmp_path):
    cache = tmp_path / "cache"
    proc = hubmirror_download(
        [TINY_BERT, "--mirror", shared_mirror.url, "--cache-dir", str(cache)], tmp_path
    )
    snapshot = succeeded(proc)
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    folder = cache / "models--acme--tiny-bert"
    assert snapshot == folder / "snapshots" / commit
    files = snapshot_files(snapshot)
    _assert_same_as_hub(fakehub, MODEL, TINY_BERT, files)
    assert all(f.is_symlink() for f in files.values())
    assert (folder / "refs" / "main").read_text() == commit
    assert (folder / "trees" / f"{commit}.json").is_file()
    weights = files["model.safetensors"].resolve()
    assert weights.name == fakehub.file_sha256(MODEL, TINY_BERT, "main", "model.safetensors")
    assert shared_mirror.url in proc.stderr

    offline = run_client(
        OFFLINE_SNIPPET,
        dead_url(),
        tmp_path / "home",
        env={"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache)},
    )
    assert offline["path"] == str(snapshot)
    assert offline["layers"] == 2
    assert len(offline["ids"]) >= 2


def test_local_dir_gets_plain_files_huggingface_hub_recognises(shared_mirror, fakehub, tmp_path):
    target = tmp_path / "bert"
    proc = hubmirror_download(
        [TINY_BERT, "--mirror", shared_mirror.url, "--local-dir", str(target)], tmp_path
    )
    assert succeeded(proc) == target
    files = snapshot_files(target)
    _assert_same_as_hub(fakehub, MODEL, TINY_BERT, files)
    assert not any(f.is_symlink() for f in files.values())
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    metadata = (
        (target / ".cache/huggingface/download/config.json.metadata").read_text().splitlines()
    )
    assert metadata[0] == commit

    # At that commit, huggingface_hub returns the files as they are, without asking anyone
    # (the endpoint is dead).
    paths = run_client(
        f"""
from huggingface_hub import hf_hub_download
emit([hf_hub_download("acme/tiny-bert", name, revision={commit!r}, local_dir={str(target)!r})
      for name in {sorted(files)!r}])
""",
        dead_url(),
        tmp_path / "home",
    )
    assert paths == [str(target / name) for name in sorted(files)]


def test_include_and_exclude_select_files(shared_mirror, fakehub, tmp_path):
    cache = tmp_path / "cache"
    args = ["--include", "*.json", "--include", "nested/", "--exclude", "tokenizer*"]
    proc = hubmirror_download(
        [TINY_BERT, *args, "--mirror", shared_mirror.url, "--cache-dir", str(cache)], tmp_path
    )
    files = snapshot_files(succeeded(proc))
    assert set(files) == {"config.json", "nested/dir/file.txt"}
    assert files["config.json"].read_bytes() == fakehub.file_bytes(
        MODEL, TINY_BERT, "main", "config.json"
    )
    # Only part of the snapshot: no tree file that would tell huggingface_hub it is complete.
    assert not (cache / "models--acme--tiny-bert" / "trees").exists()


def test_a_pull_request_revision_is_resolved_and_recorded(shared_mirror, fakehub, tmp_path):
    cache = tmp_path / "cache"
    args = [TINY_BERT + "@refs/pr/1", "--mirror", shared_mirror.url, "--cache-dir", str(cache)]
    snapshot = succeeded(hubmirror_download(args, tmp_path))
    commit = fakehub.commit_of(MODEL, TINY_BERT, "refs/pr/1")
    assert snapshot.name == commit
    assert (snapshot / "pr-only.txt").read_bytes() == b"only on refs/pr/1\n"
    assert (cache / "models--acme--tiny-bert" / "refs" / "refs" / "pr" / "1").read_text() == commit


def test_dataset_repo_downloads(shared_mirror, fakehub, tmp_path):
    cache = tmp_path / "cache"
    proc = hubmirror_download(
        [TINY_CSV, "--type", "dataset", "--mirror", shared_mirror.url, "--cache-dir", str(cache)],
        tmp_path,
    )
    snapshot = succeeded(proc)
    assert snapshot.parent.parent == cache / "datasets--acme--tiny-csv"
    _assert_same_as_hub(fakehub, DATASET, TINY_CSV, snapshot_files(snapshot))


def test_listing_pages_are_followed_and_a_second_run_fetches_nothing(fakehub, tmp_path):
    fakehub.page_size = 3
    cache = tmp_path / "cache"
    args = [TINY_BERT, "--mirror", fakehub.url, "--cache-dir", str(cache)]
    _assert_same_as_hub(
        fakehub, MODEL, TINY_BERT, snapshot_files(succeeded(hubmirror_download(args, tmp_path)))
    )
    assert len([e for e in fakehub.log if "/tree/" in e.target]) >= 3

    fakehub.clear_log()
    again = hubmirror_download(args, tmp_path)
    assert succeeded(again).is_dir()
    assert [e.target for e in fakehub.log if "/resolve/" in e.target or e.host == "cdn"] == []


def test_falls_back_when_the_first_mirror_is_down(shared_mirror, fakehub, tmp_path):
    dead = dead_url()
    cache = tmp_path / "cache"
    proc = hubmirror_download(
        [TINY_BERT, "--mirror", dead, "--mirror", shared_mirror.url, "--cache-dir", str(cache)],
        tmp_path,
    )
    _assert_same_as_hub(fakehub, MODEL, TINY_BERT, snapshot_files(succeeded(proc)))
    assert dead in proc.stderr  # the fallback is told
    assert f"from {shared_mirror.url}" in proc.stderr


def test_falls_back_when_the_first_mirror_is_offline_and_lacks_the_repo(
    make_mirror, shared_mirror, fakehub, tmp_path
):
    empty_offline = make_mirror(offline=True)  # has nothing cached: 409 MirrorOffline for all
    cache = tmp_path / "cache"
    proc = hubmirror_download(
        [
            TINY_BERT,
            "--mirror",
            empty_offline.url,
            "--mirror",
            shared_mirror.url,
            "--cache-dir",
            str(cache),
        ],
        tmp_path,
    )
    _assert_same_as_hub(fakehub, MODEL, TINY_BERT, snapshot_files(succeeded(proc)))
    assert "this mirror is offline" in proc.stderr


def test_a_missing_repo_is_an_answer_not_a_reason_to_fall_back(shared_mirror, fakehub, tmp_path):
    cache = tmp_path / "cache"
    proc = hubmirror_download(
        [
            "acme/no-such-repo",
            "--mirror",
            shared_mirror.url,
            "--mirror",
            fakehub.url,
            "--cache-dir",
            str(cache),
        ],
        tmp_path,
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1].startswith("hubmirror: Repository not found")
    assert "404" in proc.stderr or "401" in proc.stderr
    ours = [e for e in fakehub.log if "download client" in e.headers.get("user-agent", "")]
    assert ours == []  # the second mirror was never asked
    assert not cache.exists() or not any(cache.rglob("*.incomplete"))


def test_without_a_mirror_the_command_says_what_to_pass(tmp_path):
    proc = hubmirror_download([TINY_BERT], tmp_path)
    assert proc.returncode == 1
    assert "--mirror" in proc.stderr and "HF_ENDPOINT" in proc.stderr
