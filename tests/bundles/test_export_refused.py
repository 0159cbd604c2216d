"""Export carries only what the store holds completely; otherwise it says to sync first."""

from __future__ import annotations

import pytest

from hubmirror.storage.layout import prepare_data_dir
from tests.support.clients import TINY_BERT
from tests.support.http import get

from .state import export, one_line_error, sync

pytestmark = pytest.mark.timeout(120)
SYNC_HINT = f"run 'hubmirror sync {TINY_BERT}@main' first"


def _refused(data, target) -> str:
    error = one_line_error(export(data, TINY_BERT, "--to", str(target), check=False))
    assert not target.exists()
    return error


def test_export_of_a_never_fetched_repo_is_refused_with_the_sync_hint(tmp_path):
    prepare_data_dir(tmp_path / "data")  # an empty store
    error = _refused(tmp_path / "data", tmp_path / "bundle")

    assert "never fetched revision main" in error
    assert SYNC_HINT in error


def test_export_of_files_fetched_without_sync_is_refused_for_lack_of_a_listing(
    make_mirror, fakehub, tmp_path
):
    mirror = make_mirror()
    assert get(f"{mirror.url}/{TINY_BERT}/resolve/main/config.json").status == 200

    error = _refused(mirror.data_dir, tmp_path / "bundle")

    assert "no complete file list" in error
    assert SYNC_HINT in error


def test_export_of_a_partly_synced_snapshot_is_refused(fakehub, tmp_path):
    data = tmp_path / "data"
    sync(data, fakehub.url, TINY_BERT, "--include", "config.json")

    error = _refused(data, tmp_path / "bundle.tar")

    assert "file(s) not in the store" in error
    assert SYNC_HINT in error


def test_export_of_a_snapshot_whose_blob_vanished_is_refused(fakehub, tmp_path):
    data = tmp_path / "data"
    sync(data, fakehub.url, TINY_BERT)
    blob = next(p for p in (data / "blobs").rglob("*") if p.is_file())
    blob.unlink()

    error = _refused(data, tmp_path / "bundle")

    assert "are missing or damaged" in error
    assert SYNC_HINT in error
