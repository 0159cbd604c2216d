"""Export on one mirror, import on an offline one: the clients cannot tell them apart."""

from __future__ import annotations

import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

from tests.fakehub import TINY_CSV_TRAIN_ROWS
from tests.support.clients import MODEL, TINY_BERT, run_client

from .conftest import CLIENTS, raw_answers
from .state import export, import_, index_rows, stored_blobs

pytestmark = pytest.mark.timeout(240)


@pytest.mark.parametrize("kind", ["dir", "tar"])
def test_offline_mirror_with_the_imported_bundle_answers_clients_like_the_source(
    source, make_mirror, fakehub, tmp_path, kind
):
    """snapshot_download, hf_hub_download, model/dataset info, list_repo_files and
    load_dataset get the same bytes and values; raw answers match byte for byte."""
    mirror = make_mirror(offline=True, xet_serve=False)  # as the source (see conftest)
    bundle = source.bundle_dir if kind == "dir" else source.bundle_tar
    import_(mirror.data_dir, bundle)
    fakehub.clear_log()

    answers = raw_answers(mirror.url, fakehub)
    seen = run_client(CLIENTS, mirror.url, tmp_path / "home", timeout=150)

    different = [name for name in answers if answers[name] != source.answers[name]]
    assert different == [], {n: (answers[n], source.answers[n]) for n in different}
    assert seen == source.clients
    assert seen["config"] == fakehub.file_sha256(MODEL, TINY_BERT, "main", "config.json")
    assert len(seen["rows"]["train"]) == TINY_CSV_TRAIN_ROWS
    assert fakehub.log == []  # all of it came from the bundle


def test_second_import_of_the_same_bundle_changes_nothing(source, tmp_path):
    data = tmp_path / "data"
    import_(data, source.bundle_tar)
    rows, blobs = index_rows(data), stored_blobs(data)

    again = import_(data, source.bundle_dir)

    assert index_rows(data) == rows
    assert stored_blobs(data) == blobs
    assert "0 new blob(s)" in again.stdout
    assert "(0 updated, 2 already up to date)" in again.stdout


def test_imported_rows_and_blobs_are_those_of_the_source_snapshots(source, tmp_path):
    data = tmp_path / "data"
    import_(data, source.bundle_dir)

    source_rows, rows = index_rows(source.data_dir), index_rows(data)
    assert sorted(r[:3] for r in rows["snapshots"]) == sorted(
        r[:3] for r in source_rows["snapshots"]
    )
    assert set(stored_blobs(data)) == {r[0] for r in rows["blobs"]}
    assert {r[:3] for r in rows["blobs"]} <= {r[:3] for r in source_rows["blobs"]}


def test_tar_starts_with_the_manifest_and_holds_each_shared_blob_once(source):
    with tarfile.open(source.bundle_tar) as tar:
        names = tar.getnames()
    manifest = json.loads((source.bundle_dir / "manifest.json").read_text())

    assert names[:2] == ["manifest.json", "manifest.sha256"]
    assert len(names) == len(set(names)) == 2 + len(manifest["blobs"])
    files = sum(len(e) for r in manifest["repos"] for e in r["entries"].values())
    assert len(manifest["blobs"]) < files  # .gitattributes is the same in both repos


def test_dir_bundle_hard_links_the_stores_blobs(source):
    for path in (source.bundle_dir / "blobs" / "sha256").iterdir():
        stored = source.data_dir / "blobs" / "sha256" / path.name[:2] / path.name[2:4] / path.name
        assert path.stat().st_ino == stored.stat().st_ino


def test_manifest_checksum_is_checked_by_sha256sum(source):
    proc = subprocess.run(
        ["sha256sum", "-c", "manifest.sha256"], cwd=source.bundle_dir, capture_output=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_include_carries_only_the_selected_files_and_revisions_at_their_commit(source, tmp_path):
    """The complete listing still goes along, so tree and paths-info answers stay exact."""
    bundle = tmp_path / "bundle"
    export(source.data_dir, TINY_BERT, "--include", "*.json", "--to", str(bundle))
    manifest = json.loads((bundle / "manifest.json").read_text())

    (repo,) = manifest["repos"]
    (commit,) = repo["entries"]
    assert sorted(e["path"] for e in repo["entries"][commit]) == [
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
    ]
    assert len(manifest["blobs"]) == 3
    assert repo["revisions"] == {"main": commit}
    assert [s["commit"] for s in repo["snapshots"]] == [commit]
    assert manifest["selection"] == [f"{TINY_BERT}@main"]


def test_export_to_a_non_empty_directory_is_refused(source, tmp_path):
    target = tmp_path / "full"
    target.mkdir()
    (target / "something").write_text("x")

    proc = export(source.data_dir, TINY_BERT, "--to", str(target), check=False)

    assert proc.returncode == 1
    assert "exists and is not an empty directory" in proc.stderr


def test_dir_bundle_on_another_filesystem_gets_copies_that_import(source, tmp_path):
    """/dev/shm is a tmpfs: no hard link can reach it, so the blobs are copied."""
    with tempfile.TemporaryDirectory(dir="/dev/shm") as shm:
        bundle = Path(shm) / "bundle"
        export(source.data_dir, TINY_BERT, "--to", str(bundle))
        blob = next((bundle / "blobs" / "sha256").iterdir())
        stored = next(p for p in (source.data_dir / "blobs").rglob(blob.name))
        assert blob.stat().st_dev != stored.stat().st_dev
        assert blob.read_bytes() == stored.read_bytes()

        import_(tmp_path / "data", bundle)

    assert blob.name in stored_blobs(tmp_path / "data")
