"""What import and export tell a person: every byte and file counted once."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubmirror.progress import human_bytes

from .state import import_

pytestmark = pytest.mark.timeout(120)


def _blob_files(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "blobs").rglob("*") if p.is_file()]


def _last_progress_line(stderr: str, label: str) -> str:
    lines = [line for line in stderr.splitlines() if f"hubmirror.progress: {label}: " in line]
    assert lines, stderr
    return lines[-1]


def test_import_progress_counts_each_byte_of_the_bundle_once(source, tmp_path):
    """The Xet hashes computed after an import read the bytes again: they get a progress
    line of their own instead of doubling the import's ("9.2 KiB of 9.2 KiB" for 6.1)."""
    data = tmp_path / "data"
    proc = import_(data, source.bundle_dir)

    blobs = _blob_files(data)
    size = human_bytes(sum(p.stat().st_size for p in blobs))
    line = _last_progress_line(proc.stderr, "import")
    assert f"import: 100% {size} of {size}, {len(blobs)}/{len(blobs)} files" in line, line
    assert f"{len(blobs)} new blob(s) ({size})" in proc.stdout
    hashes = _last_progress_line(proc.stderr, "xet hashes")
    assert "xet hashes: 100% " in hashes, hashes
