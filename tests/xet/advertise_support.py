"""Helpers of the advertise tests: the Xet hash of bytes, computed apart from the mirror."""

from __future__ import annotations

import hashlib
import tempfile
import time
from pathlib import Path

import hf_xet

from tests.support.http import Answer, head

POLLS = 400  # x 0.05 s: a bound on waiting for a hash computed in the background


def xet_hash_of_bytes(data: bytes) -> str:
    """What hf_xet says the Xet hash of ``data`` is (a file of its own, hashed here)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "file"
        path.write_bytes(data)
        return hf_xet.hash_files([str(path)])[0].hash


def cold_file(fakehub, repo: str, path: str, size: int, seed: int) -> tuple[str, bytes, str]:
    """A Xet-backed LFS file upstream: its sha256, its bytes and its true Xet hash."""
    fakehub.xet_files = True
    sha256 = fakehub.add_large_file("model", repo, path, size, seed=seed)
    data = fakehub.file_bytes("model", repo, "main", path)
    assert hashlib.sha256(data).hexdigest() == sha256
    fakehub.clear_log()
    return sha256, data, xet_hash_of_bytes(data)


def head_once_hashed(url: str, **kw) -> Answer:
    """HEAD ``url`` until it carries ``X-Xet-Hash`` (the mirror hashes in the background)."""
    for _ in range(POLLS):
        answer = head(url, **kw)
        if answer.header("X-Xet-Hash"):
            return answer
        time.sleep(0.05)
    raise AssertionError(f"no X-Xet-Hash on {url} after {POLLS} HEADs")


def xet_links(
    base: str, plural: str, repo: str, commit: str, xet_hash: str, revision: str = "main"
) -> str:
    """The Link header of a Xet file asked at ``revision`` (a branch: named in the token URL)."""
    token = f"{base}/api/{plural}/{repo}/xet-read-token/{commit}?revision={revision}"
    reconstruction = f"{base}/xet-cas/v1/reconstructions/{xet_hash}"
    return f'<{token}>; rel="xet-auth", <{reconstruction}>; rel="xet-reconstruction-info"'
