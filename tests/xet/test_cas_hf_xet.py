"""The real Xet client (hf_xet, run in a subprocess) downloads through the mirror's CAS routes.

Only the wire format is proven here: the hash is recorded and the token issued by the
test. The full ``hf_hub_download`` path comes with the mirror's advertise side.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

from hubmirror.hub import xet
from tests.fakehub.defaults import TINY_BERT
from tests.xet import cas_support as cas

CLIENT = r"""
import json, sys
import hf_xet

args = json.loads(sys.argv[1])
config = hf_xet.XetConfig().with_config(args["config"])
session = hf_xet.XetSession(config)
info = hf_xet.XetFileInfo(args["hash"], args["size"])
common = dict(endpoint=args["endpoint"], token=args["token"], token_expiry_unix_secs=args["exp"])
if args["mode"] == "file":
    with session.new_file_download_group(**common) as group:
        group.start_download_file(info, args["dest"]).result()
else:
    group = session.new_download_stream_group(**common)
    with open(args["dest"], "wb") as out:
        for piece in group.download_stream(info, start=args["start"], end=args["end"]):
            out.write(piece)
    group.finish()
"""


def _download(tmp_path, server, served, mode="file", config=None, span=(None, None)) -> bytes:
    token, expires = cas.token(server)
    dest = tmp_path / f"out-{mode}.bin"
    args = {
        "config": {"telemetry.enabled": False, "client.retry_max_attempts": 1} | (config or {}),
        "hash": served.xet_hash,
        "size": len(served.data),
        "endpoint": f"{server.url}/xet-cas",
        "token": token,
        "exp": expires,
        "mode": mode,
        "dest": str(dest),
        "start": span[0],
        "end": span[1],
    }
    env = os.environ | {"HF_HOME": str(tmp_path / "hf-home"), "NO_PROXY": "*"}
    done = subprocess.run(
        [sys.executable, "-c", CLIENT, json.dumps(args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dest.read_bytes()


@pytest.fixture
def server(make_mirror, fakehub):
    return make_mirror(xet_serve=True)


@pytest.fixture
def cas_log(caplog):
    """The mirror's access log lines for its CAS routes, as "METHOD route status"."""
    caplog.set_level(logging.INFO, logger="hubmirror.access")

    def lines() -> list[str]:
        cas.wait_logged(caplog, "/xet-cas/xorbs/")
        found = []
        for record in caplog.records:
            method, target, status = record.getMessage().split()[:3]
            if target.startswith("/xet-cas/"):
                route = target.split("?")[0].rsplit("/", 1)[0]  # without the hash
                found.append(f"{method} {route} {status}")
        return found

    return lines


def test_hf_xet_downloads_a_large_file_through_the_mirror(tmp_path, server, fakehub, cas_log):
    served = cas.large(server, fakehub)
    fakehub.clear_log()
    assert _download(tmp_path, server, served) == served.data
    assert fakehub.log == []  # every byte came from the mirror
    assert set(cas_log()) == {"GET /xet-cas/v2/reconstructions 200", "GET /xet-cas/xorbs 206"}


def test_hf_xet_downloads_a_small_file(tmp_path, server):
    served = cas.fill(server, "config.json")
    assert _download(tmp_path, server, served) == served.data


def test_hf_xet_streams_a_byte_range(tmp_path, server, fakehub):
    served = cas.large(server, fakehub)
    start, end = 70_000, 2_100_001  # end exclusive, both mid-chunk
    data = _download(tmp_path, server, served, mode="stream", span=(start, end))
    assert data == served.data[start:end]


def test_hf_xet_uses_the_v1_reconstruction_when_told_to(tmp_path, server, fakehub, cas_log):
    served = cas.large(server, fakehub)
    config = {"client.reconstruction_api_version": 1}
    assert _download(tmp_path, server, served, config=config) == served.data
    assert set(cas_log()) == {"GET /xet-cas/v1/reconstructions 200", "GET /xet-cas/xorbs 206"}


def test_hf_xet_downloads_a_file_of_two_xorbs(tmp_path, server, fakehub):
    size = xet.XORB_CHUNKS * xet.CHUNK + 300_000  # the second virtual xorb holds 5 chunks
    fakehub.add_large_file("model", TINY_BERT, "two-xorbs.bin", size, seed=4)
    served = cas.fill(server, "two-xorbs.bin")
    token, _ = cas.token(server)
    boundary = xet.XORB_CHUNKS * xet.CHUNK
    span = {"Range": f"bytes={boundary - 10}-{boundary + 10}"}
    answer = cas.reconstruction(server, served.xet_hash, 1, token, span)
    assert len(json.loads(answer.body)["terms"]) == 2
    assert cas.rebuild(answer, 1, 21) == served.data[boundary - 10 : boundary + 11]
    assert _download(tmp_path, server, served) == served.data
