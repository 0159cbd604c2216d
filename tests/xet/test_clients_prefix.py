"""A mirror reached under a path prefix (public_url ``http://host:port/hub``): the token
route's casUrl, the resolve Links and the signed xorb URLs all carry the prefix, so an
unmodified Xet client downloads through it. ``hubmirror serve`` runs in its own process:
the prefix needs the port in public_url before the server starts."""

from __future__ import annotations

import signal

import pytest

from tests.fakehub.defaults import TINY_BERT
from tests.support.clients import run_client
from tests.support.commands import start_hubmirror, wait_ready
from tests.support.ports import free_port
from tests.xet import cas_support as cas
from tests.xet import clients_support as xc

pytestmark = pytest.mark.timeout(120)

DOWNLOAD = (
    xc.XET_CHECK
    + f"""
from huggingface_hub import hf_hub_download

emit(sha(hf_hub_download({TINY_BERT!r}, "big.bin")))
"""
)


@pytest.fixture
def prefixed(fakehub, tmp_path):
    """``hubmirror serve`` with xet_serve at ``http://127.0.0.1:{port}/hub``; its process."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}/hub"
    env = {"HUBMIRROR_XET_SERVE": "true", "HUBMIRROR_PUBLIC_URL": endpoint}
    args = ("--port", str(port), "--data", str(tmp_path / "data"), "--upstream", fakehub.url)
    proc = start_hubmirror("serve", *args, env=env)
    wait_ready(f"http://127.0.0.1:{port}", proc)
    yield endpoint, proc
    if proc.poll() is None:
        proc.kill()
        proc.communicate(timeout=10)


def test_a_xet_client_downloads_through_a_mirror_under_a_path_prefix(prefixed, fakehub, tmp_path):
    endpoint, proc = prefixed
    fakehub.xet_files = True  # upstream announces real Xet hashes, as huggingface.co does
    sha256 = fakehub.add_large_file("model", TINY_BERT, "big.bin", cas.LARGE_SIZE, seed=25)

    class Prefixed:  # what warm() needs of a mirror: its URL
        url = endpoint

    xc.warm(Prefixed, TINY_BERT, ["big.bin"])

    seen = run_client(DOWNLOAD, endpoint, tmp_path / "home", env=xc.XET_ON)

    assert seen == sha256
    proc.send_signal(signal.SIGINT)
    _, log = proc.communicate(timeout=30)
    paths = [_path(line) for line in log.splitlines() if "hubmirror.access:" in line]
    commit = fakehub.commit_of("model", TINY_BERT, "main")
    assert [path for path in paths if "xet" in path] == [
        f"GET /hub/api/models/{TINY_BERT}/xet-read-token/{commit}",
        "GET /hub/xet-cas/v2/reconstructions/*",
        "GET /hub/xet-cas/xorbs/*",
    ], log[-3000:]
    assert paths.count(f"GET /hub/{TINY_BERT}/resolve/main/big.bin") == 1  # warm() only


def _path(line: str) -> str:
    """The "METHOD path" of a ``serve`` access log line, CAS hashes as ``*``."""
    method, target = line.split("hubmirror.access: ", 1)[1].split()[:2]
    path = target.split("?")[0]
    if "/xet-cas/" in path:
        path = path.rsplit("/", 1)[0] + "/*"
    return f"{method} {path}"
