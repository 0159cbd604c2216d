"""``hubmirror cache``: ls, du, rm, prune and verify on a store filled by ``hubmirror sync``."""

from __future__ import annotations

import hashlib
import time

import pytest

from tests.cache.support import (
    cache,
    cache_json,
    filled_store,
    indexed_blobs,
    planned,
    repo_blobs,
    set_last_access,
    stored_files,
)
from tests.support.clients import DATASET, MODEL, TINY_BERT, TINY_CSV
from tests.support.http import get

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def data(fakehub, tmp_path):
    return filled_store(fakehub, tmp_path / "data")


def _sha(fakehub, path: str) -> str:
    return fakehub.file_sha256(MODEL, TINY_BERT, "main", path)


def test_ls_counts_each_repos_blobs_at_their_real_size(fakehub, data):
    listing = cache_json(data, "ls")

    sizes = {(r["repo_type"], r["repo_id"]): r["bytes"] for r in listing["repos"]}
    assert sizes == {
        (MODEL, TINY_BERT): sum(repo_blobs(fakehub, MODEL, TINY_BERT).values()),
        (DATASET, TINY_CSV): sum(repo_blobs(fakehub, DATASET, TINY_CSV).values()),
    }
    bert = next(r for r in listing["repos"] if r["repo_id"] == TINY_BERT)
    assert bert["revisions"]["main"] == fakehub.commit_of(MODEL, TINY_BERT, "main")
    assert bert["files_stored"] == len(repo_blobs(fakehub, MODEL, TINY_BERT))
    assert listing["bytes"] == sum(stored_files(data).values())  # shared blobs once


def test_ls_sorts_by_size_largest_first(fakehub, data):
    listing = cache(data, "ls", "--sort", "size").stdout.splitlines()

    assert listing[1].startswith(TINY_BERT) and listing[2].startswith(f"dataset:{TINY_CSV}")


def test_du_totals_equal_the_bytes_on_disk(fakehub, data):
    usage = cache_json(data, "du")

    on_disk = stored_files(data)
    assert (usage["blobs"], usage["bytes"]) == (len(on_disk), sum(on_disk.values()))
    dataset = repo_blobs(fakehub, DATASET, TINY_CSV)
    assert usage["by_type"]["dataset"] == {"blobs": len(dataset), "bytes": sum(dataset.values())}
    assert usage["largest"][0]["repo"] == TINY_BERT
    assert 0 < usage["disk"]["free"] <= usage["disk"]["total"]


def test_rm_of_a_repo_keeps_the_blobs_another_repo_lists(fakehub, data):
    shared = _sha(fakehub, ".gitattributes")
    assert shared in repo_blobs(fakehub, DATASET, TINY_CSV)

    out = cache(data, "rm", TINY_BERT).stdout

    bert_only = set(repo_blobs(fakehub, MODEL, TINY_BERT)) - {shared}
    assert planned(out) == bert_only
    assert set(stored_files(data)) == set(repo_blobs(fakehub, DATASET, TINY_CSV))
    assert indexed_blobs(data) == set(stored_files(data))
    assert [r["repo_id"] for r in cache_json(data, "ls")["repos"]] == [TINY_CSV]


def test_rm_dry_run_prints_the_plan_and_removes_nothing(fakehub, data):
    before = stored_files(data)

    out = cache(data, "rm", f"dataset:{TINY_CSV}", "--dry-run").stdout

    assert "would free" in out
    assert planned(out) == set(repo_blobs(fakehub, DATASET, TINY_CSV)) - {
        _sha(fakehub, ".gitattributes")
    }
    assert stored_files(data) == before and indexed_blobs(data) == set(before)


def test_rm_of_an_uncached_repo_fails_in_one_line(data):
    proc = cache(data, "rm", "acme/never-synced", check=False)

    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1] == "hubmirror: acme/never-synced is not cached"


def test_prune_dry_run_changes_nothing(data):
    before = stored_files(data)

    out = cache(data, "prune", "--max-size", "1K", "--dry-run").stdout

    assert planned(out) and planned(out) <= set(before)
    assert stored_files(data) == before and indexed_blobs(data) == set(before)


def test_prune_older_than_removes_exactly_the_planned_blobs_and_they_refetch(
    fakehub, data, make_mirror
):
    weights = _sha(fakehub, "model.safetensors")
    set_last_access(data, {weights: time.time() - 40 * 86400})

    out = cache(data, "prune", "--older-than", "30d").stdout

    assert planned(out) == {weights}
    assert weights not in stored_files(data) and weights not in indexed_blobs(data)
    _assert_refetched(fakehub, make_mirror, data, "model.safetensors")


def test_prune_max_size_evicts_least_recently_used_first_and_they_refetch(
    fakehub, data, make_mirror
):
    weights = _sha(fakehub, "model.safetensors")
    set_last_access(data, {weights: time.time() - 3600})
    total = sum(stored_files(data).values())

    out = cache(data, "prune", "--max-size", str(total - 1)).stdout

    assert planned(out) == {weights}
    assert set(stored_files(data)) == indexed_blobs(data) and weights not in indexed_blobs(data)
    _assert_refetched(fakehub, make_mirror, data, "model.safetensors")


def test_verify_of_an_intact_store_exits_0(data):
    proc = cache(data, "verify")

    assert proc.stdout.startswith(f"verified {len(stored_files(data))} blob(s)")
    assert ": 0 corrupt" in proc.stdout


def test_verify_quarantines_a_flipped_byte_and_the_next_request_refetches(
    fakehub, data, make_mirror
):
    sha = _sha(fakehub, "tokenizer.json")
    blob = next((data / "blobs").rglob(sha))
    damaged = bytearray(blob.read_bytes())
    damaged[10] ^= 0xFF
    blob.write_bytes(bytes(damaged))

    proc = cache(data, "verify", check=False)

    assert proc.returncode == 1
    assert ": 1 corrupt" in proc.stdout
    assert (data / "quarantine" / sha).read_bytes() == bytes(damaged)
    assert sha not in stored_files(data) and sha not in indexed_blobs(data)
    _assert_refetched(fakehub, make_mirror, data, "tokenizer.json")


def test_verify_of_one_repo_checks_only_its_blobs(fakehub, data):
    proc = cache(data, "verify", "--repo", f"dataset:{TINY_CSV}")

    assert f"verified {len(repo_blobs(fakehub, DATASET, TINY_CSV))} blob(s)" in proc.stdout


def _assert_refetched(fakehub, make_mirror, data, path: str) -> None:
    """A mirror on the store fetches ``path`` from upstream again and serves its bytes."""
    mirror = make_mirror(data=str(data))
    fakehub.clear_log()

    answer = get(f"{mirror.url}/{TINY_BERT}/resolve/main/{path}")

    assert answer.status == 200
    expected = fakehub.file_bytes(MODEL, TINY_BERT, "main", path)
    assert hashlib.sha256(answer.body).digest() == hashlib.sha256(expected).digest()
    assert fakehub.body_bytes() >= len(expected)  # fetched from the hub or its CDN
    assert _sha(fakehub, path) in stored_files(data)
