"""Two tiers speaking Xet: a site mirror (xet_upstream, xet_serve) in front of a central one
(xet_serve) fetches a file the central holds through the central's CAS, verifies it, hashes
it itself and serves Xet to its own clients; byte-exact end to end."""

from __future__ import annotations

import hashlib

import pytest

from tests.fakehub.defaults import TINY_BERT
from tests.support.clients import GATED, OWNER_TOKEN, USER_TOKEN, run_client
from tests.support.http import get
from tests.xet import cas_support as cas
from tests.xet import clients_support as xc
from tests.xet.advertise_support import head_once_hashed

pytestmark = pytest.mark.timeout(120)

DOWNLOAD = xc.DOWNLOAD_BIG


def test_site_mirror_fetches_from_the_central_through_xet_and_serves_xet(
    make_mirror, fakehub, tmp_path, caplog
):
    xc.start_logging(caplog)
    fakehub.xet_files = True  # upstream announces real Xet hashes, as huggingface.co does
    sha256 = fakehub.add_large_file("model", TINY_BERT, "big.bin", cas.LARGE_SIZE, seed=24)
    central = make_mirror(xet_serve=True)
    xc.warm(central, TINY_BERT, ["big.bin"])
    site = make_mirror(upstream=(central.url,), xet_upstream=True, xet_serve=True)
    fakehub.clear_log()
    caplog.clear()

    url = f"{site.url}/{TINY_BERT}/resolve/main/big.bin"
    assert hashlib.sha256(get(url).body).hexdigest() == sha256

    xc.xet_requests(caplog, TINY_BERT, ["big.bin"], central)
    head_once_hashed(url)  # the site hashed the blob it verified
    caplog.clear()

    seen = run_client(DOWNLOAD, site.url, tmp_path / "home", env=xc.XET_ON)

    assert seen == sha256
    xc.xet_requests(caplog, TINY_BERT, ["big.bin"], site)
    assert fakehub.body_bytes(host="cdn") == 0  # the bytes came from the central's blob


GATED_DOWNLOAD = (
    xc.XET_CHECK
    + f"""
from huggingface_hub import hf_hub_download

try:
    emit(sha(hf_hub_download({GATED!r}, "model.safetensors")))
except Exception as exc:  # noqa: BLE001 - the test compares the error's name
    emit(type(exc).__name__ + ": " + str(exc)[:1500])
"""
)


def test_site_mirror_fetches_a_gated_file_from_the_central_with_the_callers_access(
    make_mirror, fakehub, tmp_path, caplog
):
    xc.start_logging(caplog)
    fakehub.xet_files = True
    central = make_mirror(xet_serve=True)
    owner = {"Authorization": f"Bearer {OWNER_TOKEN}"}
    digests = xc.warm(central, GATED, ["model.safetensors"], headers=owner)
    site = make_mirror(upstream=(central.url,), xet_upstream=True, xet_serve=True)
    caplog.clear()

    refused = run_client(GATED_DOWNLOAD, site.url, tmp_path / "user", USER_TOKEN, xc.XET_ON)
    seen = run_client(GATED_DOWNLOAD, site.url, tmp_path / "owner", OWNER_TOKEN, xc.XET_ON)

    assert refused.startswith("GatedRepoError:"), refused
    assert seen == digests["model.safetensors"]
    xc.xet_requests(caplog, GATED, ["model.safetensors"], central)
