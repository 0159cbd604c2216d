"""Large files: parallel ranged parts, resumes within a run and across runs, hash checks.

These point the client straight at the fake hub (as its "mirror"), so that the fake hub's
log shows exactly what the client asked, and its faults hit the client: LFS files redirect
to the fake CDN on another port, as huggingface.co does.
"""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest
from aiohttp import web

from tests.client.support import (
    MiB,
    hubmirror_download,
    serve_app,
    snapshot_files,
    start_download,
    succeeded,
)
from tests.support.clients import MODEL, OWNER_TOKEN, TINY_BERT, git_blob_sha1
from tests.support.hashing import sha256_of
from tests.support.waiting import wait_for

BIG = "big.bin"
BIG_SIZE = 80 * MiB
PART = 16 * MiB  # 80 MiB is cut into 5 parts of 16 MiB


def _cdn_ranges(hub) -> list[tuple[int, int]]:
    """(first, last) byte of every CDN request, in the order they came."""
    found = []
    for entry in hub.log:
        if entry.host == "cdn":
            first, _, last = entry.headers["range"].removeprefix("bytes=").partition("-")
            found.append((int(first), int(last)))
    return found


def _blob(cache, sha256):
    return cache / "models--acme--tiny-bert" / "blobs" / sha256


def _big_args(hub, cache, *extra: str) -> list[str]:
    return [TINY_BERT, "--include", BIG, "--mirror", hub.url, "--cache-dir", str(cache), *extra]


@pytest.mark.timeout(120)
def test_large_file_arrives_in_ranged_parts_and_the_token_stays_home(fakehub, tmp_path):
    sha256 = fakehub.add_large_file(MODEL, TINY_BERT, BIG, BIG_SIZE, seed=41)
    cache = tmp_path / "cache"
    proc = hubmirror_download(_big_args(fakehub, cache, "--token", OWNER_TOKEN), tmp_path)
    files = snapshot_files(succeeded(proc))
    assert sha256_of(files[BIG]) == sha256
    assert files[BIG].resolve() == _blob(cache, sha256)
    assert sorted(_cdn_ranges(fakehub)) == [(i, i + PART - 1) for i in range(0, BIG_SIZE, PART)]
    assert fakehub.body_bytes(host="cdn") == BIG_SIZE
    hub_side = [e for e in fakehub.log if e.host == "hub"]
    assert hub_side and all(
        e.headers.get("authorization") == f"Bearer {OWNER_TOKEN}" for e in hub_side
    )
    assert not any("authorization" in e.headers for e in fakehub.log if e.host == "cdn")


@pytest.mark.timeout(120)
def test_a_dropped_connection_resumes_from_the_last_byte(fakehub, tmp_path):
    sha256 = fakehub.add_large_file(MODEL, TINY_BERT, BIG, BIG_SIZE, seed=42)
    cut = 3 * MiB + 1234
    fakehub.faults.drop_after = cut
    fakehub.faults.drop_count = 1
    cache = tmp_path / "cache"
    files = snapshot_files(succeeded(hubmirror_download(_big_args(fakehub, cache), tmp_path)))
    assert sha256_of(files[BIG]) == sha256
    ranges = _cdn_ranges(fakehub)
    assert len(ranges) == 6  # five parts, one of them asked again
    resumed = [(first, last) for first, last in ranges if first % PART]
    assert len(resumed) == 1 and resumed[0][0] % PART == cut
    assert fakehub.body_bytes(host="cdn") == BIG_SIZE  # nothing fetched twice


def _wait_for_progress(sidecar, proc, at_least: int, timeout: float = 30) -> None:

    def progressed() -> bool:
        assert proc.poll() is None, "the download ended before it could be interrupted"
        try:
            parts = json.loads(sidecar.read_text())["parts"]
        except (OSError, ValueError):
            parts = []
        return sum(pos - start for start, _, pos in parts) >= at_least

    wait_for(progressed, "progress recorded in the sidecar", timeout=timeout)


@pytest.mark.timeout(120)
def test_an_interrupted_download_resumes_in_the_next_run(fakehub, tmp_path):
    sha256 = fakehub.add_large_file(MODEL, TINY_BERT, BIG, BIG_SIZE, seed=43)
    fakehub.faults.bandwidth = 8 * MiB  # per part: the whole file would take 2 s
    cache = tmp_path / "cache"
    sidecar = _blob(cache, sha256).with_name(f"{sha256}.incomplete.parts")
    first = start_download(_big_args(fakehub, cache), tmp_path)
    try:
        _wait_for_progress(sidecar, first, at_least=10 * MiB)
    finally:
        first.kill()
        first.wait()

    parts = json.loads(sidecar.read_text())["parts"]
    missing = sum(end - pos for _, end, pos in parts)
    assert 0 < missing < BIG_SIZE
    fakehub.reset_faults()
    fakehub.clear_log()
    files = snapshot_files(succeeded(hubmirror_download(_big_args(fakehub, cache), tmp_path)))
    assert sha256_of(files[BIG]) == sha256
    assert sorted(first for first, _ in _cdn_ranges(fakehub)) == sorted(
        pos for _, end, pos in parts if pos < end
    )
    assert fakehub.body_bytes(host="cdn") == missing  # only the rest was fetched
    assert not sidecar.exists()


LIAR_COMMIT = "c0ffee" * 6 + "c0ff"
GOOD_WEIGHTS = b"w" * (2 * MiB)
GOOD_CONFIG = b'{"model_type": "bert"}\n'


def _liar_app(corrupt: str) -> web.Application:
    """Answers the Hub API truthfully, then sends wrong bytes for the file ``corrupt``."""
    listing = [
        {
            "type": "file",
            "path": "weights.bin",
            "size": len(GOOD_WEIGHTS),
            "oid": "1" * 40,
            "lfs": {
                "oid": hashlib.sha256(GOOD_WEIGHTS).hexdigest(),
                "size": len(GOOD_WEIGHTS),
                "pointerSize": 130,
            },
        },
        {
            "type": "file",
            "path": "config.json",
            "size": len(GOOD_CONFIG),
            "oid": git_blob_sha1(GOOD_CONFIG),
        },
    ]
    good = {"weights.bin": GOOD_WEIGHTS, "config.json": GOOD_CONFIG}

    async def revision(request):
        return web.json_response({"id": "acme/liar", "sha": LIAR_COMMIT})

    async def tree(request):
        return web.json_response(listing)

    async def resolve(request):
        name = request.match_info["path"]
        body = good[name]
        return web.Response(body=body.swapcase() if name == corrupt else body)

    app = web.Application()
    app.router.add_get("/api/models/acme/liar/revision/main", revision)
    app.router.add_get(f"/api/models/acme/liar/tree/{LIAR_COMMIT}", tree)
    app.router.add_get(f"/acme/liar/resolve/{LIAR_COMMIT}/{{path}}", resolve)
    return app


@pytest.mark.timeout(60)
@pytest.mark.parametrize("corrupt", ["weights.bin", "config.json"])
async def test_a_corrupt_file_is_refused_and_not_kept(corrupt, tmp_path):
    runner, url = await serve_app(_liar_app(corrupt))
    try:
        cache = tmp_path / "cache"
        args = ["acme/liar", "--mirror", url, "--cache-dir", str(cache)]
        proc = await asyncio.to_thread(hubmirror_download, args, tmp_path)
    finally:
        await runner.cleanup()
    assert proc.returncode == 1
    assert f"refusing corrupt file {corrupt}" in proc.stderr
    folder = cache / "models--acme--liar"
    blobs = sorted(p.name for p in (folder / "blobs").iterdir())
    assert len(blobs) == 1 and not blobs[0].endswith(
        (".incomplete", ".parts")
    )  # the good file only
    kept = snapshot_files(folder / "snapshots" / LIAR_COMMIT)
    assert corrupt not in kept and len(kept) == 1
    assert not (folder / "refs").exists() and not (folder / "trees").exists()
