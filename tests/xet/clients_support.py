"""Helpers of the real-client Xet tests: files made warm through a mirror, and its access log
read as "METHOD path status" lines, per mirror when several run in this process."""

from __future__ import annotations

import hashlib
import logging

from tests.fakehub.defaults import TINY_BERT
from tests.support.http import get
from tests.xet import cas_support as cas
from tests.xet.advertise_support import head_once_hashed

ACCESS = "hubmirror.access"

# client_env already drops the shell's HF_ variables; this says it out loud for these tests.
XET_ON = {"HF_HUB_DISABLE_XET": "0"}

# Every client snippet first proves it runs with hf_xet on (else a pass would prove nothing).
XET_CHECK = """
import hashlib
from huggingface_hub import constants
from huggingface_hub.utils._runtime import is_xet_available

assert is_xet_available() and not constants.HF_HUB_DISABLE_XET, "hf_xet is off"


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()
"""

CAS_REQUESTS = ("xet-read-token", "/xet-cas/v2/reconstructions/*", "/xet-cas/xorbs/*")


def warm(server, repo: str, paths, revision: str = "main", **kw) -> dict[str, str]:
    """GET each file through ``server`` and wait until an LFS file advertises its Xet hash
    (a git file is served plain, as on the Hub); their sha256s."""
    digests = {}
    for path in paths:
        url = f"{server.url}/{repo}/resolve/{revision}/{path}"
        answer = get(url, **kw)
        assert answer.status == 200, answer.body[:200]
        digests[path] = hashlib.sha256(answer.body).hexdigest()
        lfs = len(answer.header("ETag").strip('"')) == 64  # a sha256, not a git sha1
        if answer.body and lfs:  # an empty file has no Xet hash
            head_once_hashed(url, **kw)
    return digests


def requests(caplog, server=None) -> list[str]:
    """The access log as "METHOD path status" (CAS hashes as ``*``), of ``server`` only
    when given: every mirror thread of the test process logs to the same logger."""
    thread = None if server is None else server._thread.ident
    found = []
    for record in caplog.records:
        if record.name != ACCESS or (thread is not None and record.thread != thread):
            continue
        method, target, status = record.getMessage().split()[:3]
        path = target.split("?")[0]
        if path.startswith("/xet-cas/"):
            path = path.rsplit("/", 1)[0] + "/*"
        found.append(f"{method} {path} {status}")
    return found


def plain_gets(lines: list[str], repo: str, paths, revision: str = "main") -> list[str]:
    """GETs of the resolve bytes of ``paths``: what a Xet download never sends."""
    targets = {f"/{repo}/resolve/{revision}/{path}" for path in paths}
    return [line for line in lines if line.startswith("GET ") and line.split()[1] in targets]


def xet_requests(caplog, repo: str, paths, server=None) -> list[str]:
    """The access log once the last xorb fetch is in (of ``server`` only, when given),
    after checking the client took the Xet path and no file of ``paths`` was sent plain."""
    settle(caplog)
    lines = requests(caplog, server)
    assert took_xet(lines), lines
    assert plain_gets(lines, repo, paths) == []
    return lines


def took_xet(lines: list[str]) -> bool:
    return all(any(wanted in line for line in lines) for wanted in CAS_REQUESTS)


def start_logging(caplog) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS)


def settle(caplog) -> None:
    """The last xorb fetch is logged after its answer went out: wait for its line."""
    cas.wait_logged(caplog, "/xet-cas/xorbs/")


def client_requests(fakehub) -> list[str]:
    """Fake hub requests not sent by a mirror (whose User-Agent is ``hubmirror/...``)."""
    return [
        f"{entry.host} {entry.method} {entry.target}"
        for entry in fakehub.log
        if not entry.headers.get("user-agent", "").startswith("hubmirror/")
    ]


# hf_hub_download of tiny-bert's big.bin through the Xet path; prints the file's sha256
DOWNLOAD_BIG = (
    XET_CHECK
    + f"""
from huggingface_hub import hf_hub_download

emit(sha(hf_hub_download({TINY_BERT!r}, "big.bin")))
"""
)
