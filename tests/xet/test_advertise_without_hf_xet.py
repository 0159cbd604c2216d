"""Without hf_xet the mirror cannot hash, so it advertises nothing and says so once."""

from __future__ import annotations

import logging
import sys

from hubmirror.index.database import Database
from hubmirror.index.queries import Index, StoredBlob
from hubmirror.mirror.xet.hashes import XetHashes
from hubmirror.storage.blobs import BlobStore


def test_a_missing_hf_xet_is_logged_once_and_nothing_is_advertised(tmp_path, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "hf_xet", None)  # import hf_xet now raises ImportError
    index = Index(Database(tmp_path / "index.sqlite"))
    blob = StoredBlob("ab" * 32, "cd" * 20, 10)
    index.put_blob(blob, 1.0)
    index.xet.put(blob.sha256, "ef" * 32, 2.0)  # even a recorded hash stays unadvertised
    hashes = XetHashes(index, BlobStore(tmp_path / "blobs", tmp_path / "tmp"), lambda: 3.0, True)

    with caplog.at_level(logging.WARNING, logger="hubmirror.xet"):
        assert hashes.hash_of(blob) is None
        assert hashes.hash_of(blob) is None

    assert [r.getMessage() for r in caplog.records] == [
        "xet_serve is on but hf_xet is not installed: Xet is not advertised"
    ]
    assert hashes.running == set()
