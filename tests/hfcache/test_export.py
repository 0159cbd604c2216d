"""Export to the huggingface_hub cache layout and to plain files, used with no server at all.

The store is filled once per module the way users fill it: real clients through a mirror
(which also records the files transformers and datasets found missing), then
``hubmirror sync`` for the complete listings.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hubmirror.hub.specs import FileFilter, parse_repo_spec
from hubmirror.mirror.portable.hfcache_export import dir_roots, export_files
from hubmirror.mirror.portable.selection import LocalSnapshot, SelectionError, local_snapshot
from tests.fakehub import TINY_BERT_LAYERS, TINY_CSV_TEST_ROWS, TINY_CSV_TRAIN_ROWS
from tests.support.clients import MODEL, TINY_BERT, run_client
from tests.support.commands import hubmirror
from tests.support.hashing import sha256_of
from tests.support.mirror import MirrorThread

from .helpers import import_hf_cache, offline_client, store_at, user_cache

pytestmark = pytest.mark.timeout(300)

SPECS = ("acme/tiny-bert", "dataset:acme/tiny-csv")
THROUGH_MIRROR = """
from huggingface_hub import snapshot_download
from transformers import AutoTokenizer
import datasets
snapshot_download("acme/tiny-bert")
AutoTokenizer.from_pretrained("acme/tiny-bert")
datasets.load_dataset("acme/tiny-csv")
emit("filled")
"""
OFFLINE_HF_CACHE = """
import hashlib, os
from huggingface_hub import snapshot_download
from transformers import AutoConfig, AutoTokenizer
import datasets

root = snapshot_download("acme/tiny-bert")
paths = [os.path.join(d, f) for d, _, names in os.walk(root) for f in names]
files = {
    os.path.relpath(p, root): hashlib.sha256(open(p, "rb").read()).hexdigest() for p in paths
}
config = AutoConfig.from_pretrained("acme/tiny-bert")
tokenizer = AutoTokenizer.from_pretrained("acme/tiny-bert")
csv_root = snapshot_download("acme/tiny-csv", repo_type="dataset")
ds = datasets.load_dataset(csv_root)
emit({
    "root": root,
    "files": files,
    "layers": config.num_hidden_layers,
    "ids": tokenizer("hello mirror")["input_ids"],
    "rows": {split: ds[split].num_rows for split in ds},
    "by_name": outcome(datasets.load_dataset, "acme/tiny-csv"),
})
"""
OFFLINE_DIR = """
from transformers import AutoConfig, AutoTokenizer
import datasets
config = AutoConfig.from_pretrained({bert!r}, local_files_only=True)
tokenizer = AutoTokenizer.from_pretrained({bert!r}, local_files_only=True)
ds = datasets.load_dataset({csv!r})
emit({{
    "layers": config.num_hidden_layers,
    "ids": tokenizer("hello mirror")["input_ids"],
    "rows": {{split: ds[split].num_rows for split in ds}},
}})
"""
EXPECTED_IDS = [2, 5, 14, 3]  # [CLS] hello mirror [SEP] in the fake hub's vocabulary
EXPECTED_ROWS = {"train": TINY_CSV_TRAIN_ROWS, "test": TINY_CSV_TEST_ROWS}


@pytest.fixture(scope="module")
def filled(_fakehub_session, tmp_path_factory) -> Path:
    """A data directory holding tiny-bert and tiny-csv, synced, as users filled it."""
    from tests.conftest import _settings

    hub = _fakehub_session
    hub.reset()
    data = tmp_path_factory.mktemp("filled") / "data"
    server = MirrorThread(_settings(hub, data)).start()
    try:
        run_client(THROUGH_MIRROR, server.url, tmp_path_factory.mktemp("home"), timeout=180)
    finally:
        server.stop()
    hubmirror("sync", *SPECS, "--data", str(data), "--upstream", hub.url, check=True)
    return data


def export(data: Path, target: Path, layout: str, specs=SPECS, file_filter=None):
    with store_at(data) as store:
        snapshots = [local_snapshot(store.index, parse_repo_spec(s), file_filter) for s in specs]
        return export_files(store.index, store.blobs, snapshots, target, layout)


def test_hf_cache_export_works_offline_without_any_server(filled, fakehub, new_home, tmp_path):
    """snapshot_download, transformers and datasets (given the snapshot folder) run with
    HF_HUB_OFFLINE=1; datasets by repo name needs its own Arrow cache and says so."""
    target = tmp_path / "hf-cache"
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")

    summary = export(filled, target, "hf-cache")

    got = offline_client(OFFLINE_HF_CACHE, new_home(), cache=target)
    assert Path(got["root"]) == target / "models--acme--tiny-bert" / "snapshots" / commit
    tree = fakehub.commit(MODEL, TINY_BERT, commit).files
    assert got["files"] == {path: blob.sha256 for path, blob in tree.items()}
    assert got["layers"] == TINY_BERT_LAYERS
    assert got["ids"] == EXPECTED_IDS
    assert got["rows"] == EXPECTED_ROWS
    assert got["by_name"] == "ConnectionError"
    assert summary.complete
    assert "refs/main, trees/<commit>.json" in str(summary)


def test_hf_cache_export_has_listing_refs_and_missing_markers(filled, fakehub, tmp_path):
    target = tmp_path / "hf-cache"
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")

    export(filled, target, "hf-cache")

    folder = target / "models--acme--tiny-bert"
    assert (folder / "refs" / "main").read_text() == commit
    listing = json.loads((folder / "trees" / f"{commit}.json").read_text())["files"]
    weights = fakehub.commit(MODEL, TINY_BERT, commit).files["model.safetensors"]
    assert listing["model.safetensors"]["lfs_sha256"] == weights.sha256
    assert (folder / ".no_exist" / commit / "added_tokens.json").is_file()
    link = folder / "snapshots" / commit / "model.safetensors"
    assert os.readlink(link) == f"../../blobs/{weights.sha256}"


def test_filtered_hf_cache_export_keeps_the_listing_as_a_filtered_download_would(
    filled, new_home, tmp_path
):
    """Offline, snapshot_download with the same patterns works; without them it refuses
    the partial folder (IncompleteSnapshotError) instead of returning it silently."""
    target = tmp_path / "hf-cache"
    summary = export(
        filled, target, "hf-cache", specs=SPECS[:1], file_filter=FileFilter(include=("*.json",))
    )

    code = (
        "import os\nfrom huggingface_hub import snapshot_download\n"
        "root = snapshot_download('acme/tiny-bert', allow_patterns=['*.json'])\n"
        "emit({'files': sorted(os.listdir(root)), 'all': outcome(snapshot_download, "
        "'acme/tiny-bert')})\n"
    )
    got = offline_client(code, new_home(), cache=target)
    assert got == {
        "files": ["config.json", "tokenizer.json", "tokenizer_config.json"],
        "all": "IncompleteSnapshotError",
    }
    assert "5 file(s) of the listing are not exported" in str(summary)


def test_dir_export_loads_with_from_pretrained_and_load_dataset(filled, new_home, tmp_path):
    target = tmp_path / "plain"

    summary = export(filled, target, "dir")

    bert, csv = target / "acme" / "tiny-bert", target / "acme" / "tiny-csv"
    got = offline_client(OFFLINE_DIR.format(bert=str(bert), csv=str(csv)), new_home())
    assert got == {"layers": TINY_BERT_LAYERS, "ids": EXPECTED_IDS, "rows": EXPECTED_ROWS}
    assert summary.complete


def test_dir_export_hard_links_the_stored_blobs(filled, fakehub, tmp_path):
    target = tmp_path / "plain"
    commit = fakehub.commit_of(MODEL, TINY_BERT, "main")

    summary = export(filled, target, "dir", specs=SPECS[:1])

    weights = target / "model.safetensors"
    digest = fakehub.file_sha256(MODEL, TINY_BERT, commit, "model.safetensors")
    with store_at(filled) as store:
        stored = store.blobs.path_for(digest)
    assert os.stat(weights).st_ino == os.stat(stored).st_ino
    assert sha256_of(weights) == digest
    assert (os.stat(weights).st_mode & 0o222) == 0
    assert summary.snapshots[0].linked == summary.snapshots[0].files == 8


def test_export_of_an_imported_cache_without_listing_says_completeness_is_unknown(
    fakehub, new_home, tmp_path
):
    """A cache made by hf_hub_download alone has no trees/<commit>.json: its files come
    back out, and no listing is made up for them."""
    code = (
        "from huggingface_hub import hf_hub_download\n"
        "for name in ['config.json', 'vocab.txt']:\n"
        "    hf_hub_download('acme/tiny-bert', name)\n"
    )
    import_hf_cache(user_cache(fakehub, new_home(), code), tmp_path / "data")
    target = tmp_path / "out"

    summary = export(tmp_path / "data", target, "hf-cache", specs=SPECS[:1])

    assert "trees/<commit>.json not written" in str(summary)
    folder = target / "models--acme--tiny-bert"
    assert not (folder / "trees").exists()
    code = (
        "from huggingface_hub import hf_hub_download\n"
        "emit(open(hf_hub_download('acme/tiny-bert', 'vocab.txt'), 'rb').read().decode())\n"
    )
    vocab = fakehub.file_bytes(MODEL, TINY_BERT, "main", "vocab.txt").decode()
    assert offline_client(code, new_home(), cache=target) == vocab


def test_export_command_writes_an_hf_cache(filled, fakehub, new_home, tmp_path):
    target = tmp_path / "hf-cache"

    hubmirror(
        "export", *SPECS, "--to", str(target), "--format", "hf-cache", "--data", str(filled),
        check=True,
    )  # fmt: skip

    code = (
        "from huggingface_hub import snapshot_download\n"
        "from transformers import AutoConfig\n"
        "snapshot_download('acme/tiny-bert')\n"
        "emit(AutoConfig.from_pretrained('acme/tiny-bert').num_hidden_layers)\n"
    )
    assert offline_client(code, new_home(), cache=target) == TINY_BERT_LAYERS


def test_dir_export_refuses_two_snapshots_of_one_repo_name(tmp_path):
    specs = [parse_repo_spec("acme/tiny-bert@main"), parse_repo_spec("acme/tiny-bert@v1.0")]
    snapshots = [LocalSnapshot(spec, "0" * 40, None, ()) for spec in specs]

    with pytest.raises(SelectionError, match="acme/tiny-bert: more than one snapshot"):
        dir_roots(snapshots, tmp_path)
