"""Every released client generation downloads through the mirror, cold and warm, byte-exact.

Each generation runs the real ``hf_hub_download`` (an LFS file and a small file) and
``snapshot_download`` in its own virtual environment, against a mirror over HTTP with the
fake hub upstream announcing Xet hashes as huggingface.co does. A client with hf_xet must
take the Xet path through the route its hf_xet release asks for (old releases ask for
``/reconstruction/`` or ``/reconstructions/``), every LFS file's bytes coming through the
mirror's CAS; one without hf_xet gets plain HTTP. No client ever reaches the hub itself.
"""

from __future__ import annotations

import time

import pytest

from tests.compat.generations import GENERATIONS, Generation
from tests.fakehub.defaults import TINY_BERT, TINY_PARQUET, TINY_PARQUET_FILE
from tests.support.clients import hub_tree, run_client
from tests.xet import cas_support as cas
from tests.xet import clients_support as xc

pytestmark = pytest.mark.timeout(900)  # the first test builds the environments

BERT = TINY_BERT  # files are named "{repo as in a URL}/{path}": the model's ...
PARQUET = f"datasets/{TINY_PARQUET}"  # ... and the dataset's (what load_dataset fetches)
SINGLES = (f"{BERT}/big.bin", f"{BERT}/config.json", f"{PARQUET}/{TINY_PARQUET_FILE}")

DOWNLOADS = f"""
import hashlib
import os
from importlib import metadata

from huggingface_hub import hf_hub_download, snapshot_download


def digest(path):
    data = open(path, "rb").read()
    git = hashlib.sha1(b"blob %d\\0" % len(data) + data).hexdigest()
    return {{"sha256": hashlib.sha256(data).hexdigest(), "git": git}}


def version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


single = {{
    {BERT!r} + "/" + name: digest(hf_hub_download({TINY_BERT!r}, name, cache_dir="one"))
    for name in ("big.bin", "config.json")
}}
parquet = hf_hub_download({TINY_PARQUET!r}, {TINY_PARQUET_FILE!r}, repo_type="dataset")
single[{PARQUET!r} + "/" + {TINY_PARQUET_FILE!r}] = digest(parquet)
folder = snapshot_download({TINY_BERT!r}, cache_dir="all")
snapshot = {{
    {BERT!r} + "/" + os.path.relpath(os.path.join(top, name), folder): digest(
        os.path.join(top, name)
    )
    for top, _, names in os.walk(folder)
    for name in names
}}
emit({{
    "versions": {{name: version(name) for name in ("huggingface_hub", "hf_xet")}},
    "hf_hub_download": single,
    "snapshot_download": snapshot,
}})
"""

IDS = [generation.name for generation in GENERATIONS]


@pytest.mark.parametrize("generation", GENERATIONS, ids=IDS)
def test_client_generation_downloads_from_a_cold_mirror(
    generation, client_pythons, make_mirror, fakehub, tmp_path, caplog
):
    xc.start_logging(caplog)
    fakehub.xet_files = True  # upstream announces real Xet hashes, as huggingface.co does
    fakehub.add_large_file("model", TINY_BERT, "big.bin", cas.LARGE_SIZE, seed=31)
    truth = _truth(fakehub)
    mirror = make_mirror(xet_serve=True)

    seen = _download(generation, client_pythons, mirror, tmp_path)

    _assert_byte_exact(seen, generation, truth)
    # A listing names only the Xet hashes the mirror knows, and a cold one knows those of
    # the files a HEAD asked for: a client that trusts listings (huggingface_hub 2.x) takes
    # the snapshot's other LFS files over plain HTTP on a cold mirror.
    xet = [f"{BERT}/big.bin", f"{PARQUET}/{TINY_PARQUET_FILE}"]
    _assert_path_taken(generation, caplog, mirror, _lfs(truth), xet=xet)
    assert xc.client_requests(fakehub) == []


@pytest.mark.parametrize("generation", GENERATIONS, ids=IDS)
def test_client_generation_downloads_from_a_warm_mirror(
    generation, client_pythons, make_mirror, fakehub, tmp_path, caplog
):
    xc.start_logging(caplog)
    fakehub.xet_files = True
    fakehub.add_large_file("model", TINY_BERT, "big.bin", cas.LARGE_SIZE, seed=32)
    truth = _truth(fakehub)
    mirror = make_mirror(xet_serve=True)
    for repo in (BERT, PARQUET):
        xc.warm(mirror, repo, sorted(f.removeprefix(f"{repo}/") for f in truth if _in(f, repo)))
    fakehub.clear_log()
    caplog.clear()

    seen = _download(generation, client_pythons, mirror, tmp_path)

    _assert_byte_exact(seen, generation, truth)
    _assert_path_taken(generation, caplog, mirror, _lfs(truth), xet=_lfs(truth))
    assert xc.client_requests(fakehub) == []
    assert fakehub.body_bytes(host="cas") == fakehub.body_bytes(host="cdn") == 0


def _download(generation: Generation, client_pythons, mirror, tmp_path) -> dict:
    python = client_pythons[generation.name]
    return run_client(DOWNLOADS, mirror.url, tmp_path / "home", env=xc.XET_ON, python=python)


def _truth(fakehub) -> dict[str, tuple[str, str]]:
    """Every file of tiny-bert and the parquet file by the hub's own id: sha256 (LFS) or git
    blob sha1. Asked of the fake hub directly, then its log cleared: only the mirror's
    requests stay in it."""
    entries = [(BERT, e) for e in hub_tree(fakehub, "model", TINY_BERT, "main")]
    entries += [
        (PARQUET, e)
        for e in hub_tree(fakehub, "dataset", TINY_PARQUET, "main")
        if e["path"] == TINY_PARQUET_FILE
    ]
    fakehub.clear_log()
    return {
        f"{repo}/{e['path']}": ("sha256", e["lfs"]["oid"]) if "lfs" in e else ("git", e["oid"])
        for repo, e in entries
    }


def _in(name: str, repo: str) -> bool:
    return name.startswith(f"{repo}/")


def _lfs(truth: dict) -> list[str]:
    return sorted(name for name, (kind, _) in truth.items() if kind == "sha256")


def _assert_byte_exact(seen: dict, generation: Generation, truth: dict) -> None:
    assert seen["versions"] == generation.versions()  # the environment is the one named
    assert _ids(seen["snapshot_download"], truth) == {f: truth[f] for f in truth if _in(f, BERT)}
    assert _ids(seen["hf_hub_download"], truth) == {f: truth[f] for f in SINGLES}


def _ids(files: dict, truth: dict) -> dict[str, tuple[str, str]]:
    """The client's files by the id the hub gives each (a stray file: by git sha1)."""
    kinds = {name: truth.get(name, ("git",))[0] for name in files}
    return {name: (kinds[name], digests[kinds[name]]) for name, digests in files.items()}


def _assert_path_taken(generation: Generation, caplog, mirror, lfs: list[str], xet) -> None:
    """With hf_xet: the token route of each repo, the generation's reconstruction route and
    xorb fetches, and not one file of ``xet`` sent plain. Without: every LFS file plain, no
    Xet at all."""
    if generation.route is None:
        lines = _logged(caplog, mirror, lambda lines: _plain(lines) >= set(lfs))
        assert not [line for line in lines if "xet" in line], lines
        return
    lines = _logged(caplog, mirror, lambda lines: _xorb_fetches(lines) >= 2)
    cas_lines = [line for line in lines if "/xet-cas/" in line and "/telemetry" not in line]
    assert {line.split()[1] for line in cas_lines} == {
        f"/xet-cas/{generation.route}/*",
        "/xet-cas/xorbs/*",
    }, cas_lines
    # 416: a client asking for the block after the end of a file, as it does on the Hub
    assert {line.split()[2] for line in cas_lines} <= {"200", "206", "416"}, cas_lines
    for api in (f"/api/models/{TINY_BERT}/", f"/api/datasets/{TINY_PARQUET}/"):
        assert any(f" {api}xet-read-token/" in line for line in lines), (api, lines)
    assert _plain(lines) & set(xet) == set()


def _xorb_fetches(lines: list[str]) -> int:
    return sum("/xet-cas/xorbs/" in line for line in lines)


def _plain(lines: list[str]) -> set[str]:
    """Files whose bytes the mirror sent plain, at any revision (snapshots name the commit)."""
    found = set()
    for line in lines:
        method, target = line.split()[:2]
        repo, resolve, rest = target.partition("/resolve/")
        if method == "GET" and resolve and "/" in rest:
            found.add(f"{repo.lstrip('/')}/{rest.split('/', 1)[1]}")
    return found


def _logged(caplog, mirror, done, polls: int = 400) -> list[str]:
    """The mirror's access log once ``done(lines)`` holds: a request is logged after its
    answer went out, so the client can exit before the line is written."""
    for _ in range(polls):
        lines = xc.requests(caplog, mirror)
        if done(lines):
            return lines
        time.sleep(0.01)
    raise AssertionError(f"the access log never got there: {xc.requests(caplog, mirror)}")
