"""Which snapshots ``hubmirror export`` takes: every revision held complete when none is
named, and a snapshot ``snapshot_download`` brought through the mirror without a sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubmirror.progress import human_bytes
from tests.support.clients import MODEL, TINY_BERT, hub_files, run_client
from tests.support.http import get

from .state import export, import_, sync

pytestmark = pytest.mark.timeout(180)

SNAPSHOT = f"""
import hashlib, os
from huggingface_hub import snapshot_download

root = snapshot_download({TINY_BERT!r})
found = {{}}
for folder, _, names in os.walk(root):
    for name in names:
        path = os.path.join(folder, name)
        with open(path, "rb") as handle:
            found[os.path.relpath(path, root)] = hashlib.sha256(handle.read()).hexdigest()
emit([os.path.basename(root), found])
"""


@pytest.fixture(scope="module")
def three_revisions(_fakehub_session, tmp_path_factory) -> Path:
    """A store with main and v1.0 of tiny-bert complete, and refs/pr/1 without its own file."""
    hub = _fakehub_session
    hub.reset()
    data = tmp_path_factory.mktemp("three-revisions") / "data"
    sync(data, hub.url, TINY_BERT, f"{TINY_BERT}@v1.0")
    sync(data, hub.url, f"{TINY_BERT}@refs/pr/1", "--include", "config.json")
    return data


def test_export_without_a_revision_takes_every_revision_held_complete_and_names_them(
    three_revisions, make_mirror, fakehub, tmp_path
):
    proc = export(three_revisions, TINY_BERT, "--to", str(tmp_path / "bundle"))

    main = fakehub.commit_of(MODEL, TINY_BERT, "main")
    tag = fakehub.commit_of(MODEL, TINY_BERT, "v1.0")
    lines = proc.stdout.splitlines()
    assert lines[1:3] == [
        f"  {TINY_BERT}@main (commit {main[:12]})",
        f"  {TINY_BERT}@v1.0 (commit {tag[:12]})",
    ], proc.stdout
    assert lines[-1] == (
        f"left out {TINY_BERT}@refs/pr/1: 1 file(s) not in the store (pr-only.txt); "
        f"run 'hubmirror sync {TINY_BERT}@refs/pr/1' first"
    )
    offline = make_mirror(offline=True, xet_serve=False)
    import_(offline.data_dir, tmp_path / "bundle")
    for revision in ("main", "v1.0"):
        answer = get(f"{offline.url}/{TINY_BERT}/resolve/{revision}/config.json")
        assert answer.status == 200, answer.body
        assert answer.body == fakehub.file_bytes(MODEL, TINY_BERT, revision, "config.json")


def test_hf_cache_export_of_two_revisions_counts_their_shared_blobs_once(three_revisions, tmp_path):
    """main and v1.0 share all files but config.json: the cache holds each blob once, and
    the summary and progress say so (the progress said 12.3 KiB for 6.6 KiB written)."""
    target = tmp_path / "hf-cache"
    proc = export(three_revisions, TINY_BERT, "--format", "hf-cache", "--to", str(target))

    blobs = [p for p in (target / "models--acme--tiny-bert" / "blobs").iterdir()]
    size = human_bytes(sum(p.stat().st_size for p in blobs))
    head = f"hf-cache export to {target}: 2 snapshot(s), 16 file(s), {len(blobs)} blob(s), {size}"
    assert proc.stdout.splitlines()[0] == head
    progress = [line for line in proc.stderr.splitlines() if "progress: export:" in line][-1]
    assert f"export: 100% {size} of {size}, {len(blobs)}/{len(blobs)} files" in progress


def test_a_snapshot_downloaded_through_the_mirror_exports_without_a_sync(
    make_mirror, fakehub, tmp_path
):
    """snapshot_download asks for the repo info and the whole tree: with every file stored,
    that is the complete listing a sync would record, and an offline mirror serves it."""
    source = make_mirror(xet_serve=False)
    seen = run_client(SNAPSHOT, source.url, tmp_path / "home")

    proc = export(source.data_dir, TINY_BERT, "--to", str(tmp_path / "bundle"))

    files = len(hub_files(fakehub, MODEL, TINY_BERT, "main"))
    assert proc.stdout.startswith(f"exported 1 repo(s), {files} file(s), "), proc.stdout
    offline = make_mirror(offline=True, xet_serve=False)
    import_(offline.data_dir, tmp_path / "bundle")
    fakehub.clear_log()
    assert run_client(SNAPSHOT, offline.url, tmp_path / "home-offline") == seen
    assert fakehub.log == []
