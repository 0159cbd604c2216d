"""``hubmirror import-hf-cache``: a user's huggingface_hub cache becomes the team's.

Caches are made by the real clients (in subprocesses) straight against the fake hub; the
import runs as the command; a mirror on the imported data directory then serves them.
"""

from __future__ import annotations

import hashlib
import time

import pytest

from hubmirror.index.queries import StoredBlob
from hubmirror.types import FileEntry, RepoId, RepoType
from tests.support.clients import DATASET, MODEL, TINY_BERT, TINY_CSV, git_blob_sha1, run_client
from tests.support.hashing import sha256_of
from tests.support.http import get

from .helpers import import_hf_cache, store_at, stored_digests, user_cache

pytestmark = pytest.mark.timeout(240)

BERT = RepoId(RepoType.MODEL, TINY_BERT)
SNAPSHOT_BERT = "from huggingface_hub import snapshot_download\nsnapshot_download('acme/tiny-bert')"
FETCH = """
from huggingface_hub import hf_hub_download
out = {{}}
for revision in {revisions!r}:
    path = hf_hub_download("acme/tiny-bert", "config.json", revision=revision)
    out[revision] = open(path, "rb").read().decode()
emit(out)
"""


def resolve_gets(fakehub) -> list[str]:
    return [e.target for e in fakehub.log if e.method == "GET" and "/resolve/" in e.target]


def blob_file(cache, repo_folder: str, name: str):
    return cache / repo_folder / "blobs" / name


def test_imported_files_are_served_without_fetching_their_bytes_upstream(
    fakehub, make_mirror, new_home, tmp_path
):
    cache = user_cache(fakehub, new_home(), SNAPSHOT_BERT)
    data = tmp_path / "data"
    import_hf_cache(cache, data)
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    mirror = make_mirror(data=str(data))
    fakehub.clear_log()

    code = (
        "from huggingface_hub import snapshot_download\n"
        "import hashlib, os\n"
        "root = snapshot_download('acme/tiny-bert')\n"
        "emit({f: hashlib.sha256(open(os.path.join(root, f), 'rb').read()).hexdigest()\n"
        "      for f in ['config.json', 'model.safetensors', 'nested/dir/file.txt']})\n"
    )
    served = run_client(code, mirror.url, new_home())

    for path, digest in served.items():
        assert digest == fakehub.file_sha256(MODEL, TINY_BERT, commit, path)
    assert fakehub.body_bytes(host="cdn") == 0
    assert resolve_gets(fakehub) == []


def test_imported_files_are_served_by_an_offline_mirror_at_commit_and_branch(
    fakehub, make_mirror, new_home, tmp_path
):
    """Once a mirror has checked the repo's visibility upstream (what a cache cannot
    tell), it serves the import with upstream out of reach."""
    cache = user_cache(fakehub, new_home(), SNAPSHOT_BERT)
    data = tmp_path / "data"
    import_hf_cache(cache, data)
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    run_client(FETCH.format(revisions=["main"]), make_mirror(data=str(data)).url, new_home())
    offline = make_mirror(data=str(data), offline=True)
    fakehub.clear_log()

    got = run_client(FETCH.format(revisions=[commit, "main"]), offline.url, new_home())

    expected = fakehub.file_bytes(MODEL, TINY_BERT, commit, "config.json").decode()
    assert got == {commit: expected, "main": expected}
    assert fakehub.log == []


def test_import_declared_public_is_served_by_an_offline_mirror_that_never_saw_upstream(
    fakehub, make_mirror, new_home, tmp_path
):
    cache = user_cache(fakehub, new_home(), SNAPSHOT_BERT)
    undeclared, declared = tmp_path / "undeclared", tmp_path / "declared"
    import_hf_cache(cache, undeclared)
    import_hf_cache(cache, declared, "--public")
    fakehub.clear_log()
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    target = f"/{TINY_BERT}/resolve/{commit}/config.json"

    refused = get(make_mirror(data=str(undeclared), offline=True).url + target)
    served = get(make_mirror(data=str(declared), offline=True).url + target)

    assert refused.status == 409  # whether the repo is gated is not known: not served
    assert "that this caller may read acme/tiny-bert" in refused.body.decode()
    assert served.status == 200
    assert served.body == fakehub.file_bytes(MODEL, TINY_BERT, commit, "config.json")
    assert fakehub.log == []


def test_blob_shared_by_two_repos_is_stored_once(fakehub, new_home, tmp_path):
    code = (
        SNAPSHOT_BERT + "\nfrom huggingface_hub import hf_hub_download\n"
        "hf_hub_download('acme/tiny-csv', '.gitattributes', repo_type='dataset')\n"
    )
    cache = user_cache(fakehub, new_home(), code)
    data = tmp_path / "data"

    proc = import_hf_cache(cache, data)

    cached = {sha256_of(p) for p in cache.glob("*/blobs/*")}
    assert len(list(cache.glob("*/blobs/*"))) == len(cached) + 1  # .gitattributes twice
    assert stored_digests(data) == sorted(cached)
    bert_line = next(line for line in proc.stdout.splitlines() if line.startswith("models/"))
    assert "1 duplicate(s) already stored" in bert_line


def test_second_import_copies_nothing(fakehub, new_home, tmp_path):
    cache = user_cache(fakehub, new_home(), SNAPSHOT_BERT)
    import_hf_cache(cache, tmp_path / "data")

    proc = import_hf_cache(cache, tmp_path / "data")

    assert "(0 blob(s), 0 B copied; 8 duplicate(s) already stored)" in proc.stdout


def test_corrupt_blobs_are_reported_skipped_and_fail_the_import(fakehub, new_home, tmp_path):
    """An edited regular file (git sha1 name) and LFS file (sha256 name): neither is stored,
    every other file is."""
    cache = user_cache(fakehub, new_home(), SNAPSHOT_BERT)
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    config = git_blob_sha1(fakehub.file_bytes(MODEL, TINY_BERT, commit, "config.json"))
    weights = fakehub.file_sha256(MODEL, TINY_BERT, commit, "model.safetensors")
    edited = []
    for name in (config, weights):
        path = blob_file(cache, "models--acme--tiny-bert", name)
        data = bytearray(path.read_bytes())
        data[10] ^= 0x01
        path.write_bytes(bytes(data))
        edited.append(hashlib.sha256(data).hexdigest())

    proc = import_hf_cache(cache, tmp_path / "data", check=False)

    assert proc.returncode == 1
    assert f"corrupt, skipped: blobs/{config}: git blob sha1 mismatch" in proc.stdout
    assert f"corrupt, skipped: blobs/{weights}: sha256 mismatch" in proc.stdout
    stored = stored_digests(tmp_path / "data")
    assert not set(edited) & set(stored)
    assert weights not in stored
    assert fakehub.file_sha256(MODEL, TINY_BERT, commit, "vocab.txt") in stored
    assert len(stored) == 6  # 8 files, 2 corrupt
    with store_at(tmp_path / "data") as store:
        entry = store.index.get_entry(BERT, commit, "config.json")
        assert entry is not None and entry.etag == config  # known from trees/<commit>.json
        assert store.index.blob_for(entry) is None


def test_listing_records_files_that_were_never_downloaded(fakehub, new_home, tmp_path):
    code = (
        "from huggingface_hub import snapshot_download\n"
        "snapshot_download('acme/tiny-bert', allow_patterns=['*.json'])\n"
    )
    cache = user_cache(fakehub, new_home(), code)
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")

    import_hf_cache(cache, tmp_path / "data")

    with store_at(tmp_path / "data") as store:
        entries = {e.path: e for e in store.index.entries_at(BERT, commit)}
        with_bytes = {p for p, e in entries.items() if store.index.blob_for(e) is not None}
    tree = fakehub.commit(MODEL, TINY_BERT, commit).files
    assert set(entries) == set(tree)
    assert with_bytes == {p for p in tree if p.endswith(".json")}
    weights = entries["model.safetensors"]
    assert weights.lfs and weights.sha256 == tree["model.safetensors"].sha256


def test_every_stored_blob_gets_both_digests(fakehub, new_home, tmp_path):
    cache = user_cache(fakehub, new_home(), SNAPSHOT_BERT)
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")

    import_hf_cache(cache, tmp_path / "data")

    data = fakehub.file_bytes(MODEL, TINY_BERT, commit, "model.safetensors")
    sha256 = hashlib.sha256(data).hexdigest()
    with store_at(tmp_path / "data") as store:
        blob = store.index.blob_for(FileEntry("", 0, sha256, True, sha256))
    assert blob == StoredBlob(sha256, git_blob_sha1(data), len(data))


def test_refs_missing_markers_and_datasets_are_recorded(fakehub, new_home, tmp_path):
    code = "import datasets\ndatasets.load_dataset('acme/tiny-csv')"
    cache = user_cache(fakehub, new_home(), code)
    commit = fakehub.commit_of(DATASET, TINY_CSV, "main")
    csv = RepoId(RepoType.DATASET, TINY_CSV)

    proc = import_hf_cache(cache, tmp_path / "data")

    with store_at(tmp_path / "data") as store:
        assert store.index.get_commit(csv, "main").commit == commit
        assert store.index.is_missing(csv, commit, ".huggingface.yaml")
        assert {e.path for e in store.index.entries_at(csv, commit)} == {
            "README.md",
            "data/train.csv",
            "data/test.csv",
        }
    assert "no trees/<commit>.json, only the downloaded files are recorded" in proc.stdout
    assert "gated/private status" in proc.stdout


def test_import_never_moves_a_branch_back_to_what_an_old_cache_saw(fakehub, new_home, tmp_path):
    cache = user_cache(fakehub, new_home(), SNAPSHOT_BERT)
    data = tmp_path / "data"
    newer = "f" * 40
    import_hf_cache(cache, data, "--repo", "dataset:acme/none")  # creates the data dir
    with store_at(data) as store:
        store.index.put_commit(BERT, "main", newer, time.time() + 60)

    import_hf_cache(cache, data)

    with store_at(data) as store:
        assert store.index.get_commit(BERT, "main").commit == newer


def test_repo_option_limits_the_import(fakehub, new_home, tmp_path):
    code = SNAPSHOT_BERT + "\nimport datasets\ndatasets.load_dataset('acme/tiny-csv')"
    cache = user_cache(fakehub, new_home(), code)

    proc = import_hf_cache(cache, tmp_path / "data", "--repo", "dataset:acme/tiny-csv")

    assert proc.stdout.startswith("datasets/acme/tiny-csv: 1 snapshot(s), 3 file(s) imported")
    assert "models/" not in proc.stdout
    assert len(stored_digests(tmp_path / "data")) == 3


def test_broken_link_is_reported_and_the_rest_imported(fakehub, new_home, tmp_path):
    cache = user_cache(fakehub, new_home(), SNAPSHOT_BERT)
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")
    vocab = git_blob_sha1(fakehub.file_bytes(MODEL, TINY_BERT, commit, "vocab.txt"))
    blob_file(cache, "models--acme--tiny-bert", vocab).unlink()

    proc = import_hf_cache(cache, tmp_path / "data")

    assert f"skipped: {commit[:12]}/vocab.txt: broken link" in proc.stdout
    assert "7 file(s) imported" in proc.stdout
    assert len(stored_digests(tmp_path / "data")) == 7
