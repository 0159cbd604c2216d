"""An import stopped at any point leaves nothing visible, and its staging goes at next start."""

from __future__ import annotations

import signal

import pytest

from hubmirror.mirror.portable.bundle_import import import_bundle
from hubmirror.progress import NoProgress
from hubmirror.runtime import open_store
from hubmirror.settings import Settings
from hubmirror.storage.layout import prepare_data_dir
from hubmirror.storage.locks import FileLock
from tests.support.clients import MODEL, TINY_BERT
from tests.support.commands import start_hubmirror
from tests.support.waiting import wait_for

from .state import export, import_, row_count, staging_folders, stored_blobs, sync

pytestmark = pytest.mark.timeout(120)
MiB = 1024 * 1024


class Interrupted(BaseException):
    """Stands for Ctrl-C: not an ``Exception``, so nothing may swallow it."""


class InterruptAfter(NoProgress):
    def __init__(self, calls: int) -> None:
        self.calls = calls

    def advance(self, nbytes: int) -> None:
        self.calls -= 1
        if self.calls <= 0:
            raise Interrupted


def test_import_interrupted_mid_staging_removes_its_staging_and_imports_nothing(source, tmp_path):
    data = tmp_path / "data"
    with open_store(Settings(data=str(data))) as store, pytest.raises(Interrupted):
        import_bundle(store.index, store.blobs, source.bundle_tar, InterruptAfter(3))

    assert row_count(data) == 0
    assert stored_blobs(data) == []
    assert list((data / "tmp").iterdir()) == []


def test_import_killed_mid_copy_leaves_nothing_visible_and_is_swept_at_next_start(
    fakehub, tmp_path
):
    """kill -9 while a 256 MiB blob is being staged; then a restart and a new import."""
    fakehub.add_large_file(MODEL, TINY_BERT, "big.bin", 256 * MiB)
    sync(tmp_path / "source", fakehub.url, TINY_BERT, "--include", "big.bin")
    bundle = tmp_path / "big.tar"
    export(tmp_path / "source", TINY_BERT, "--include", "big.bin", "--to", str(bundle))
    data = tmp_path / "data"

    proc = start_hubmirror("import", str(bundle), "--data", str(data))
    staged = _wait_for_staged_bytes(data, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)

    assert 0 < staged < 256 * MiB
    assert staging_folders(data) != []
    assert row_count(data) == 0
    assert stored_blobs(data) == []
    prepare_data_dir(data)  # what serve, sync, export and import do first
    assert staging_folders(data) == []
    assert "1 new blob(s) (256.0 MiB)" in import_(data, bundle).stdout


def _wait_for_staged_bytes(data, proc) -> int:

    def staged() -> int:
        assert proc.poll() is None, proc.communicate()
        sizes = [f.stat().st_size for d in staging_folders(data) for f in d.iterdir()]
        return sizes[0] if sizes else 0

    return wait_for(staged, "the import to start staging", timeout=30, every=0.002)


def test_start_sweep_leaves_a_live_imports_staging_alone(tmp_path):
    data = tmp_path / "data"
    layout = prepare_data_dir(data)
    folder = layout.tmp / "import-live.staging"
    folder.mkdir()
    (folder / "blob").write_bytes(b"half")
    lock = FileLock.try_acquire(layout.tmp / "import-live.lock")

    prepare_data_dir(data)
    assert (folder / "blob").exists()

    lock.release()
    prepare_data_dir(data)
    assert not folder.exists()
