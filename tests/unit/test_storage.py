import hashlib
import time

import pytest

from hubmirror.errors import IntegrityError
from hubmirror.storage.blobs import BlobStore
from hubmirror.storage.layout import (
    RESUMABLE_FOR,
    LayoutMismatch,
    prepare_data_dir,
    sweep_temp_files,
)
from hubmirror.storage.locks import FileLock
from hubmirror.storage.progress import FAILED, RUNNING, Progress, decode, encode
from hubmirror.storage.writer import BlobWriter, Expected


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_verified_write_reports_both_hashes(tmp_path):
    data = b"hello world" * 1000
    writer = BlobWriter(tmp_path / "t.part", Expected(len(data), git_sha1=git_sha1(data)))
    writer.write_at(5000, data[5000:])  # out of order, as parallel segments arrive
    writer.write_at(0, data[:5000])
    verified = writer.finish()
    assert verified.sha256 == hashlib.sha256(data).hexdigest()
    assert verified.git_sha1 == git_sha1(data)


def test_hash_mismatch_discards_the_temp_file(tmp_path):
    temp = tmp_path / "t.part"
    writer = BlobWriter(temp, Expected(3, sha256="0" * 64))
    writer.write_at(0, b"abc")
    with pytest.raises(IntegrityError, match="sha256 mismatch"):
        writer.finish()
    assert not temp.exists()


def test_more_bytes_than_announced_is_an_integrity_error(tmp_path):
    writer = BlobWriter(tmp_path / "t.part", Expected(2))
    with pytest.raises(IntegrityError):
        writer.write_at(0, b"abc")
    writer.discard()


def test_blobs_live_under_their_digest(tmp_path):
    layout = prepare_data_dir(tmp_path / "data")
    store = BlobStore(layout.blobs, layout.tmp)
    temp = store.fill_paths("x").part
    temp.write_bytes(b"x")
    digest = hashlib.sha256(b"x").hexdigest()
    final = store.commit(temp, digest)
    assert final == layout.blobs / digest[:2] / digest[2:4] / digest
    assert store.has(digest)


def test_leftover_temp_files_are_swept_at_start(tmp_path):
    layout = prepare_data_dir(tmp_path / "data")
    (layout.tmp / "abc.part").write_bytes(b"half")
    prepare_data_dir(tmp_path / "data")
    assert list(layout.tmp.iterdir()) == []


def test_sweep_leaves_the_files_of_a_fill_another_process_holds(tmp_path):
    layout = prepare_data_dir(tmp_path / "data")
    store = BlobStore(layout.blobs, layout.tmp)
    live, dead = store.fill_paths("live"), store.fill_paths("dead")
    live.part.write_bytes(b"growing")
    dead.part.write_bytes(b"orphan")
    lock = FileLock.try_acquire(live.lock)
    try:
        assert sweep_temp_files(layout.tmp) == 1
        assert live.part.exists() and not dead.part.exists()
        assert FileLock.try_acquire(live.lock) is None
    finally:
        lock.release()


def test_sweep_keeps_an_interrupted_fill_to_be_resumed(tmp_path):
    layout = prepare_data_dir(tmp_path / "data")
    paths = BlobStore(layout.blobs, layout.tmp).fill_paths("stopped")
    paths.part.write_bytes(b"half")
    paths.progress.write_bytes(encode(Progress(RUNNING, ((0, 8, 4),))))

    assert sweep_temp_files(layout.tmp) == 0
    assert paths.part.read_bytes() == b"half"
    assert sweep_temp_files(layout.tmp, now=time.time() + RESUMABLE_FOR + 1) == 2


def test_sweep_removes_the_bytes_of_a_fill_that_ended(tmp_path):
    layout = prepare_data_dir(tmp_path / "data")
    paths = BlobStore(layout.blobs, layout.tmp).fill_paths("failed")
    paths.part.write_bytes(b"bad")
    paths.progress.write_bytes(encode(Progress(FAILED, ((0, 8, 3),))))

    assert sweep_temp_files(layout.tmp) == 2


def test_progress_record_round_trips_and_torn_records_are_refused():
    record = Progress(RUNNING, ((0, 10, 4), (10, 20, 20)))
    data = encode(record)
    assert decode(data) == record
    torn = data[:-6] + b"\xff" + data[-5:]
    assert decode(torn) is None
    assert decode(data[:10]) is None


def test_other_layout_version_refuses_to_start(tmp_path):
    layout = prepare_data_dir(tmp_path / "data")
    (layout.root / "LAYOUT").write_text("hubmirror data layout 99\n")
    with pytest.raises(LayoutMismatch, match="layout 99"):
        prepare_data_dir(tmp_path / "data")
