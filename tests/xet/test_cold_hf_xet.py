"""A real hf_xet client downloads a cold file through the mirror's Xet path as it fills.

Its HEAD gets upstream's announced Xet hash (checked by the fill it starts), its
xorb reads follow the fill; a wrong announcement breaks the download off instead.
"""

from __future__ import annotations

import logging

import pytest

from tests.fakehub import TINY_BERT
from tests.support.clients import ClientFailed, run_client
from tests.xet import cas_support as cas
from tests.xet.advertise_support import xet_hash_of_bytes
from tests.xet.test_cold_advertise import wait_fill_over

pytestmark = pytest.mark.timeout(180)

BIG = "cold.bin"
SIZE = 3 * 1024 * 1024 + 17
SLOW = 1024 * 1024  # bytes per second: the download overlaps the fill

DOWNLOAD = f"""
import hashlib
from huggingface_hub import hf_hub_download

path = hf_hub_download({TINY_BERT!r}, {BIG!r})
emit({{"sha256": hashlib.sha256(open(path, "rb").read()).hexdigest()}})
"""


@pytest.fixture
def cold(fakehub):
    fakehub.xet_files = True
    sha256 = fakehub.add_large_file("model", TINY_BERT, BIG, SIZE, seed=23)
    data = fakehub.file_bytes("model", TINY_BERT, "main", BIG)
    fakehub.clear_log()
    return sha256, xet_hash_of_bytes(data)


def test_hf_xet_downloads_a_cold_file_while_it_fills_and_the_hash_is_recorded(
    cold, fakehub, make_mirror, tmp_path, caplog
):
    caplog.set_level(logging.INFO, logger="hubmirror.access")
    sha256, true_hash = cold
    fakehub.faults.bandwidth = SLOW
    mirror = make_mirror(xet_serve=True)

    seen = run_client(DOWNLOAD, mirror.url, tmp_path / "home")

    assert seen == {"sha256": sha256}
    cas.wait_logged(caplog, "/xet-cas/xorbs/")
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("GET /xet-cas/v2/reconstructions/") for line in lines)
    assert not any(line.startswith(f"GET /{TINY_BERT}/resolve/") for line in lines)
    assert mirror.mirror.index.xet.xet_hash_of(sha256) == true_hash
    assert not [e for e in fakehub.log if e.host == "cas"]  # upstream's bytes came plain


def test_hf_xet_fails_on_a_cold_file_whose_announced_hash_is_wrong(
    cold, fakehub, make_mirror, tmp_path
):
    sha256, _true_hash = cold
    fakehub.faults.wrong_xet_hashes = {sha256}
    fakehub.faults.bandwidth = SLOW
    mirror = make_mirror(xet_serve=True)

    with pytest.raises(ClientFailed):
        run_client(DOWNLOAD, mirror.url, tmp_path / "home")

    wait_fill_over(mirror, sha256)
    assert mirror.mirror.index.blob_by_id(sha256) is None
    assert mirror.mirror.index.xet.xet_hash_of(sha256) is None
