"""A damaged bundle is refused whole, with one line naming the file; nothing is imported."""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from tests.support.clients import TINY_BERT

from .state import (
    export,
    import_,
    index_rows,
    one_line_error,
    row_count,
    staging_folders,
    stored_blobs,
)

pytestmark = pytest.mark.timeout(120)


def _blob_files(bundle: Path) -> list[Path]:
    return sorted((bundle / "blobs" / "sha256").iterdir())


def _largest_blob(bundle: Path) -> Path:
    return max(_blob_files(bundle), key=lambda p: p.stat().st_size)


def _rewrite(path: Path, data: bytes) -> None:
    """Replace the file, never write through it: bundle blobs are hard links to the store."""
    path.unlink()
    path.write_bytes(data)


def tampered_blob(source, work: Path) -> tuple[Path, str]:
    bundle = _copy(source.bundle_dir, work)
    blob = _largest_blob(bundle)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    _rewrite(blob, bytes(data))
    return bundle, f"blobs/sha256/{blob.name}: sha256 mismatch"


def missing_blob(source, work: Path) -> tuple[Path, str]:
    bundle = _copy(source.bundle_dir, work)
    blob = _blob_files(bundle)[0]
    blob.unlink()
    return bundle, f"blobs/sha256/{blob.name}: missing from the bundle"


def unlisted_blob(source, work: Path) -> tuple[Path, str]:
    bundle = _copy(source.bundle_dir, work)
    stray = bundle / "blobs" / "sha256" / ("0" * 64)
    stray.write_bytes(b"not in the manifest")
    return bundle, f"blobs/sha256/{'0' * 64}: not listed in manifest.json"


def edited_manifest(source, work: Path) -> tuple[Path, str]:
    bundle = _copy(source.bundle_dir, work)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["repos"][0]["revisions"]["main"] = "0" * 40
    _rewrite(bundle / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True).encode())
    return bundle, "manifest.json: sha256"


def truncated_manifest(source, work: Path) -> tuple[Path, str]:
    bundle = _copy(source.bundle_dir, work)
    data = (bundle / "manifest.json").read_bytes()
    _rewrite(bundle / "manifest.json", data[: len(data) // 2])
    return bundle, "the manifest was truncated or edited"


def missing_manifest(source, work: Path) -> tuple[Path, str]:
    bundle = _copy(source.bundle_dir, work)
    (bundle / "manifest.sha256").unlink()
    return bundle, "manifest.sha256: missing"


def interrupted_dir_export(source, work: Path) -> tuple[Path, str]:
    """An export writes a directory's manifest last: stopped before, there is none."""
    bundle = _copy(source.bundle_dir, work)
    (bundle / "manifest.json").unlink()
    (bundle / "manifest.sha256").unlink()
    return bundle, "manifest.json: missing (not a bundle, or its export was interrupted)"


def newer_format(source, work: Path) -> tuple[Path, str]:
    """A manifest from a later hubmirror, with a matching checksum, is not guessed at."""
    bundle = _copy(source.bundle_dir, work)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["version"] = 2
    body = json.dumps(manifest).encode()
    _rewrite(bundle / "manifest.json", body)
    digest = hashlib.sha256(body).hexdigest()
    _rewrite(bundle / "manifest.sha256", f"{digest}  manifest.json\n".encode())
    return bundle, "this hubmirror reads version 1"


def tar_cut_inside_a_blob(source, work: Path) -> tuple[Path, str]:
    with tarfile.open(source.bundle_tar) as tar:
        member = max(tar.getmembers()[2:], key=lambda m: m.size)
    cut = member.offset_data + member.size // 2
    return _cut(source.bundle_tar, work, cut), f"{member.name}: truncated"


def tar_cut_between_blobs(source, work: Path) -> tuple[Path, str]:
    with tarfile.open(source.bundle_tar) as tar:
        member = tar.getmembers()[-1]
    return _cut(source.bundle_tar, work, member.offset), f"{member.name}: missing from the bundle"


def tar_cut_inside_the_manifest(source, work: Path) -> tuple[Path, str]:
    return _cut(source.bundle_tar, work, 2000), "manifest.json: truncated"


def _copy(bundle: Path, work: Path) -> Path:
    """A real copy (not hard links), so damaging it leaves the source store alone."""
    return Path(shutil.copytree(bundle, work / "bundle", copy_function=shutil.copyfile))


def _cut(tar: Path, work: Path, size: int) -> Path:
    cut = work / "cut.tar"
    cut.write_bytes(tar.read_bytes()[:size])
    return cut


DAMAGES = [
    tampered_blob,
    missing_blob,
    unlisted_blob,
    edited_manifest,
    truncated_manifest,
    missing_manifest,
    interrupted_dir_export,
    newer_format,
    tar_cut_inside_a_blob,
    tar_cut_between_blobs,
    tar_cut_inside_the_manifest,
]


@pytest.mark.parametrize("damage", DAMAGES, ids=[d.__name__ for d in DAMAGES])
def test_damaged_bundle_is_refused_and_nothing_is_imported(source, tmp_path, damage):
    bundle, expected = damage(source, tmp_path)
    data = tmp_path / "data"

    error = one_line_error(import_(data, bundle, check=False))

    assert expected in error
    assert row_count(data) == 0
    assert stored_blobs(data) == []
    assert staging_folders(data) == []
    assert list((data / "tmp").iterdir()) == []


def test_refused_import_leaves_a_mirror_with_other_content_as_it_was(source, tmp_path):
    data = tmp_path / "data"
    small = tmp_path / "small"
    export(source.data_dir, TINY_BERT, "--include", "config.json", "--to", str(small))
    import_(data, small)
    rows, blobs = index_rows(data), stored_blobs(data)
    bundle, _ = tampered_blob(source, tmp_path)

    one_line_error(import_(data, bundle, check=False))

    assert index_rows(data) == rows
    assert stored_blobs(data) == blobs
    assert staging_folders(data) == []
