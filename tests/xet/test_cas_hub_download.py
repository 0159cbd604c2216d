"""Both halves met: an unmodified hf_hub_download (hf_xet on) fetches through the mirror's CAS."""

from __future__ import annotations

import hashlib
import logging

import pytest

from tests.fakehub.defaults import TINY_BERT
from tests.support.clients import run_client
from tests.support.http import get
from tests.xet import cas_support as cas
from tests.xet import clients_support as xc
from tests.xet.advertise_support import head_once_hashed

pytestmark = pytest.mark.timeout(120)

DOWNLOAD = f"""
import hashlib
from huggingface_hub import hf_hub_download

path = hf_hub_download({TINY_BERT!r}, "big.bin")
emit({{"sha256": hashlib.sha256(open(path, "rb").read()).hexdigest()}})
"""


def test_hf_hub_download_takes_the_xet_path_through_the_mirror(
    make_mirror, fakehub, tmp_path, caplog
):
    caplog.set_level(logging.INFO, logger="hubmirror.access")
    sha256 = fakehub.add_large_file("model", TINY_BERT, "big.bin", cas.LARGE_SIZE, seed=11)
    mirror = make_mirror(xet_serve=True)
    url = f"{mirror.url}/{TINY_BERT}/resolve/main/big.bin"
    assert hashlib.sha256(get(url).body).hexdigest() == sha256
    head_once_hashed(url)
    fakehub.clear_log()
    caplog.clear()

    seen = run_client(DOWNLOAD, mirror.url, tmp_path / "home")

    assert seen == {"sha256": sha256}
    cas.wait_logged(caplog, "/xet-cas/xorbs/")
    commit = fakehub.commit_of("model", TINY_BERT, "main")
    requests = xc.requests(caplog)
    head = f"HEAD /{TINY_BERT}/resolve/main/big.bin 200"  # also the test's last, logged late
    assert head in requests and set(requests[:-3]) == {head}
    assert requests[-3:] == [
        f"GET /api/models/{TINY_BERT}/xet-read-token/{commit} 200",
        "GET /xet-cas/v2/reconstructions/* 200",
        "GET /xet-cas/xorbs/* 206",
    ]
    assert not any("big.bin" in entry.target for entry in fakehub.log)
    assert fakehub.body_bytes(host="cdn") == 0  # every byte from the mirror's own blob
