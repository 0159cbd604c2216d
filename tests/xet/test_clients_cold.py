"""A cold mirror advertises no Xet hash it has not computed from its own verified blob: the
first real client downloads plain HTTP, a later one takes the Xet path; both byte-exact."""

from __future__ import annotations

import pytest

from tests.fakehub.defaults import TINY_BERT
from tests.support.clients import run_client
from tests.xet import cas_support as cas
from tests.xet import clients_support as xc
from tests.xet.advertise_support import head_once_hashed

pytestmark = pytest.mark.timeout(120)

DOWNLOAD = xc.DOWNLOAD_BIG


def test_first_client_of_a_cold_mirror_goes_plain_the_next_takes_xet(
    make_mirror, fakehub, tmp_path, caplog
):
    xc.start_logging(caplog)
    fakehub.xet = False  # upstream announces no Xet hash: only the mirror's own can be
    sha256 = fakehub.add_large_file("model", TINY_BERT, "big.bin", cas.LARGE_SIZE, seed=22)
    mirror = make_mirror(xet_serve=True)

    first = run_client(DOWNLOAD, mirror.url, tmp_path / "first", env=xc.XET_ON)

    lines = xc.requests(caplog)
    assert first == sha256
    assert xc.plain_gets(lines, TINY_BERT, ["big.bin"]) == [
        f"GET /{TINY_BERT}/resolve/main/big.bin 200"
    ]
    assert not any("xet" in line for line in lines)
    head_once_hashed(f"{mirror.url}/{TINY_BERT}/resolve/main/big.bin")
    caplog.clear()

    second = run_client(DOWNLOAD, mirror.url, tmp_path / "second", env=xc.XET_ON)

    assert second == sha256
    xc.xet_requests(caplog, TINY_BERT, ["big.bin"])
    assert xc.client_requests(fakehub) == []


def test_first_client_takes_xet_from_the_running_fill_when_upstream_announces_a_hash(
    make_mirror, fakehub, tmp_path, caplog
):
    """The client's HEAD starts the fill that checks upstream's hash; its reconstruction and
    xorb fetches then read that running fill (slowed so it is still running)."""
    xc.start_logging(caplog)
    fakehub.xet_files = True  # upstream announces real Xet hashes, as huggingface.co does
    sha256 = fakehub.add_large_file("model", TINY_BERT, "big.bin", cas.LARGE_SIZE, seed=26)
    mirror = make_mirror(xet_serve=True)
    fakehub.clear_log()
    fakehub.faults.bandwidth = 2 * 1024 * 1024  # bytes per second: about a second and a half

    seen = run_client(DOWNLOAD, mirror.url, tmp_path / "home", env=xc.XET_ON)

    assert seen == sha256
    xc.xet_requests(caplog, TINY_BERT, ["big.bin"])
    assert xc.client_requests(fakehub) == []
    assert fakehub.body_bytes(host="cdn") == cas.LARGE_SIZE  # one fill, from upstream's CDN
