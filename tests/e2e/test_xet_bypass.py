"""Strip mode (``xet_serve=False``): with hf_xet installed, clients get every byte via the
mirror over plain HTTP.

The fake hub advertises Xet like huggingface.co. If the mirror let `X-Xet-Hash`, a xet `Link`,
`xetHash` in listings or an upstream `Location` through, the client would fetch a xet token
and talk to the hub's storage itself: the download works, but around the mirror. So these
tests look at the fake hub's own request log: every request there must be the mirror's
(its user agent has no `hf_hub/`), and nobody may have asked for a xet token.
"""

from __future__ import annotations

import pytest

from tests.support.clients import DATASET, MODEL, TINY_BERT, TINY_PARQUET, run_client

pytestmark = pytest.mark.timeout(180)

PARQUET = "data/train-00000-of-00001.parquet"

DOWNLOADS = f"""
import hashlib, os, tempfile
from huggingface_hub import HfFileSystem, hf_hub_download, snapshot_download

def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()

weights = hf_hub_download({TINY_BERT!r}, "model.safetensors")
snap = snapshot_download({TINY_PARQUET!r}, repo_type="dataset")
fs = HfFileSystem()
target = os.path.join(tempfile.mkdtemp(), "weights")
fs.get_file({TINY_BERT + "/model.safetensors"!r}, target)
emit({{
    "hf_hub_download": sha(weights),
    "snapshot_download": sha(os.path.join(snap, {PARQUET!r})),
    "get_file": sha(target),
}})
"""


def client_requests(log):
    return [
        (entry.host, entry.method, entry.target, entry.headers.get("user-agent"))
        for entry in log
        if "hf_hub/" in entry.headers.get("user-agent", "")
    ]


def test_xet_advertised_upstream_is_never_used_by_clients(strip_cold_endpoint, home, fakehub):
    """LFS downloads of three kinds arrive intact and only the mirror talked to the hub."""
    assert fakehub.xet
    fakehub.clear_log()

    hashes = run_client(DOWNLOADS, strip_cold_endpoint, home)

    weights = fakehub.file_sha256(MODEL, TINY_BERT, "main", "model.safetensors")
    assert hashes == {
        "hf_hub_download": weights,
        "snapshot_download": fakehub.file_sha256(DATASET, TINY_PARQUET, "main", PARQUET),
        "get_file": weights,
    }
    assert client_requests(fakehub.log) == []
    xet_requests = [e.target for e in fakehub.log if "xet" in e.target.lower()]
    assert xet_requests == []


def test_no_xet_files_appear_in_the_client_cache(strip_cold_endpoint, home):
    """hf_xet keeps a chunk cache under HF_HOME/xet; it stays empty when Xet is unused."""
    run_client(DOWNLOADS, strip_cold_endpoint, home)

    xet_files = [p for p in (home / "xet").rglob("*") if p.is_file()]
    assert xet_files == []
