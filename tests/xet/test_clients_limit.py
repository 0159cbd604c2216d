"""huggingface_hub refuses plain HTTP downloads over ``constants.MAX_HTTP_DOWNLOAD_SIZE``
(50 GB; read by ``file_download.http_get``): through a mirror serving Xet such a file still
downloads, through one that strips Xet the client's "too large" error stands. The limit is
lowered to 1 MiB in the client process so a 3 MiB file shows both."""

from __future__ import annotations

import pytest

from tests.fakehub.defaults import TINY_BERT
from tests.support.clients import run_client
from tests.xet import cas_support as cas
from tests.xet import clients_support as xc

pytestmark = pytest.mark.timeout(120)

DOWNLOAD = (
    xc.XET_CHECK
    + f"""
from huggingface_hub import hf_hub_download

constants.MAX_HTTP_DOWNLOAD_SIZE = 1024 * 1024  # the attribute http_get reads
try:
    emit(sha(hf_hub_download({TINY_BERT!r}, "big.bin")))
except ValueError as exc:
    emit(str(exc))
"""
)


def test_a_file_over_the_http_limit_downloads_through_xet(make_mirror, fakehub, tmp_path):
    fakehub.xet_files = True  # upstream announces real Xet hashes, as huggingface.co does
    sha256 = fakehub.add_large_file("model", TINY_BERT, "big.bin", cas.LARGE_SIZE, seed=23)
    mirror = make_mirror(xet_serve=True)
    xc.warm(mirror, TINY_BERT, ["big.bin"])

    assert run_client(DOWNLOAD, mirror.url, tmp_path / "home", env=xc.XET_ON) == sha256


def test_a_file_over_the_http_limit_is_refused_when_xet_is_stripped(make_mirror, fakehub, tmp_path):
    fakehub.xet_files = True  # upstream announces real Xet hashes, as huggingface.co does
    fakehub.add_large_file("model", TINY_BERT, "big.bin", cas.LARGE_SIZE, seed=23)
    mirror = make_mirror(xet_serve=False)

    said = run_client(DOWNLOAD, mirror.url, tmp_path / "home", env=xc.XET_ON)

    assert said.startswith("The file is too large to be downloaded using the regular download")
