"""Real huggingface_hub + hf_xet through a warm mirror (xet_serve): every download of a hashed
file takes the mirror's Xet path, byte-exact, and the client talks to the mirror only."""

from __future__ import annotations

import pytest

from tests.fakehub.defaults import TINY_BERT
from tests.fakehub.repos import LFS_SUFFIXES
from tests.support.clients import hub_files, run_client
from tests.xet import cas_support as cas
from tests.xet import clients_support as xc

pytestmark = pytest.mark.timeout(120)

DOWNLOADS = (
    xc.XET_CHECK
    + f"""
import os
from huggingface_hub import HfFileSystem, hf_hub_download, snapshot_download

one = hf_hub_download({TINY_BERT!r}, "big.bin", cache_dir="one")
folder = snapshot_download({TINY_BERT!r}, cache_dir="all")
HfFileSystem().get_file({TINY_BERT!r} + "/big.bin", "got/big.bin")
emit({{
    "hf_hub_download": sha(one),
    "snapshot_download": {{
        os.path.relpath(os.path.join(top, name), folder): sha(os.path.join(top, name))
        for top, _, names in os.walk(folder) for name in names
    }},
    "get_file": sha("got/big.bin"),
}})
"""
)

READS = (
    xc.XET_CHECK
    + f"""
from huggingface_hub import HfFileSystem

with HfFileSystem().open({TINY_BERT!r} + "/big.bin", "rb") as whole:
    everything = whole.read()
with HfFileSystem().open({TINY_BERT!r} + "/big.bin", "rb") as part:
    part.seek(1_000_000)
    middle = part.read(70_000)
emit({{
    "read": hashlib.sha256(everything).hexdigest(),
    "ranged": hashlib.sha256(middle).hexdigest(),
}})
"""
)


def _warm_bert(make_mirror, fakehub, caplog):
    xc.start_logging(caplog)
    fakehub.xet_files = True  # upstream announces real Xet hashes, as huggingface.co does
    fakehub.add_large_file("model", TINY_BERT, "big.bin", cas.LARGE_SIZE, seed=21)
    mirror = make_mirror(xet_serve=True)
    digests = xc.warm(mirror, TINY_BERT, sorted(hub_files(fakehub, "model", TINY_BERT, "main")))
    fakehub.clear_log()
    caplog.clear()
    return mirror, digests


def test_downloads_of_hashed_files_take_the_xet_path_byte_exact(
    make_mirror, fakehub, tmp_path, caplog
):
    mirror, digests = _warm_bert(make_mirror, fakehub, caplog)

    seen = run_client(DOWNLOADS, mirror.url, tmp_path / "home", env=xc.XET_ON)

    assert seen == {
        "hf_hub_download": digests["big.bin"],
        "snapshot_download": digests,
        "get_file": digests["big.bin"],
    }
    lfs = [path for path in digests if path.endswith(LFS_SUFFIXES)]
    assert lfs and len(lfs) < len(digests)  # git files are served plain, as on the Hub
    xc.xet_requests(caplog, TINY_BERT, lfs)  # not one LFS file's bytes sent plain
    assert xc.client_requests(fakehub) == []
    assert fakehub.body_bytes(host="cdn") == 0 and fakehub.body_bytes(host="cas") == 0


def test_hffilesystem_reads_are_plain_ranges_of_the_stored_blob(
    make_mirror, fakehub, tmp_path, caplog
):
    """huggingface_hub 2.4 reads an open HfFileSystem file with ranged resolve GETs, never
    through hf_xet (only get_file/download use it): the mirror answers them from its blob."""
    mirror, digests = _warm_bert(make_mirror, fakehub, caplog)
    data = fakehub.file_bytes("model", TINY_BERT, "main", "big.bin")

    seen = run_client(READS, mirror.url, tmp_path / "home", env=xc.XET_ON)

    assert seen["read"] == digests["big.bin"]
    assert seen["ranged"] == cas.hashlib.sha256(data[1_000_000:1_070_000]).hexdigest()
    assert xc.client_requests(fakehub) == []
    assert fakehub.body_bytes(host="cdn") == 0
