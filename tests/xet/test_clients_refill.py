"""A real client whose cached tree listing names a file the mirror evicted since.

huggingface_hub 2.4 keeps each commit's tree listing under ``trees/`` in its cache and,
for a file with a ``xetHash`` there, skips the HEAD and asks the CAS directly. The
mirror's reconstruction then fetches the evicted file again instead of a 404 that the
client would hit on every later run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fakehub.defaults import TINY_BERT
from tests.support.clients import run_client
from tests.xet import clients_support as xc
from tests.xet.test_cas_refill import QUOTA, SIZE, wait_evicted, warm

pytestmark = pytest.mark.timeout(180)

SNAPSHOT = (
    xc.XET_CHECK
    + f"""
import os
from huggingface_hub import snapshot_download

folder = snapshot_download({TINY_BERT!r}, allow_patterns=["a.bin"])
emit(sha(os.path.join(folder, "a.bin")))
"""
)


def forget_all_but_listings(hub: Path, repo_cache: Path) -> None:
    """The client's copies go (its repo folders and the cache-wide shared blobs), the
    repo's tree listings stay: as after an interrupted download, or a cleaned cache."""
    kept = (repo_cache, repo_cache / "trees")
    for path in [*hub.iterdir(), *repo_cache.iterdir()]:
        if path in kept:
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def test_a_client_with_a_cached_listing_gets_an_evicted_file_through_xet(
    make_mirror, fakehub, tmp_path, caplog
):
    server = make_mirror(xet_serve=True, max_size=QUOTA)
    first = warm(server, fakehub, TINY_BERT, "a.bin", seed=11)
    home = tmp_path / "home"
    assert run_client(SNAPSHOT, server.url, home, env=xc.XET_ON) == first.sha256
    warm(server, fakehub, TINY_BERT, "b.bin", seed=12)  # the quota lets a.bin go
    wait_evicted(server, first.sha256)
    repo_cache = home / "hub" / f"models--{TINY_BERT.replace('/', '--')}"
    assert list((repo_cache / "trees").glob("*.json")), "the client kept no tree listing"
    forget_all_but_listings(home / "hub", repo_cache)
    fakehub.clear_log()
    xc.start_logging(caplog)

    seen = run_client(SNAPSHOT, server.url, home, env=xc.XET_ON)

    assert seen == first.sha256
    xc.settle(caplog)
    lines = xc.requests(caplog, server)
    assert not [line for line in lines if "/resolve/main/a.bin" in line]  # no HEAD, no GET
    assert any(line.startswith("GET /xet-cas/v2/reconstructions/* 200") for line in lines)
    assert fakehub.body_bytes(host="cdn") == SIZE
