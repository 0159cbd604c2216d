"""One fill per blob, streamed to every reader; drops resumed; bad bytes never kept."""

from __future__ import annotations

import asyncio
import hashlib

import aiohttp
import pytest
from aiohttp import web

from tests.support.http import get, head

MODEL = "acme/tiny-bert"
MiB = 1024 * 1024


async def _download(session, url: str, headers=None) -> tuple[int, bytes]:
    async with session.get(url, headers=headers or {}) as resp:
        return resp.status, await resp.read()


@pytest.mark.timeout(120)
async def test_eight_concurrent_clients_of_uncached_file_cause_one_upstream_transfer(
    mirror, fakehub
):
    size = 64 * MiB
    sha256 = fakehub.add_large_file("model", MODEL, "big-64.bin", size, seed=1)
    fakehub.faults.bandwidth = 40 * MiB  # the fill takes ~1.6 s, so the clients overlap it
    target = f"{mirror.url}/{MODEL}/resolve/main/big-64.bin"
    fakehub.clear_log()
    async with aiohttp.ClientSession() as session:
        results = await asyncio.gather(*(_download(session, target) for _ in range(8)))
    assert all(status == 200 for status, _ in results)
    assert all(hashlib.sha256(body).hexdigest() == sha256 for _, body in results)
    upstream_bytes = fakehub.body_bytes()
    assert size <= upstream_bytes <= size * 1.02
    ranges = sorted(
        tuple(int(x) for x in e.headers["range"][6:].split("-"))
        for e in fakehub.log
        if e.host == "cdn" and e.method == "GET"
    )
    assert ranges[0][0] == 0 and ranges[-1][1] == size - 1  # one pass over the file,
    assert all(a[1] + 1 == b[0] for a, b in zip(ranges, ranges[1:], strict=False))  # no overlap


@pytest.mark.timeout(60)
async def test_small_blob_is_fetched_in_one_plain_request(mirror, fakehub):
    target = f"{mirror.url}/{MODEL}/resolve/main/model.safetensors"
    assert get(target).status == 200
    gets = [e for e in fakehub.log if e.host == "cdn" and e.method == "GET"]
    assert len(gets) == 1 and "range" not in gets[0].headers


@pytest.mark.timeout(60)
async def test_range_reader_in_a_later_segment_is_fed_by_that_segment(mirror, fakehub):
    size = 64 * MiB
    data_sha = fakehub.add_large_file("model", MODEL, "big-seg.bin", size, seed=6)
    fakehub.faults.bandwidth = 16 * MiB
    target = f"{mirror.url}/{MODEL}/resolve/main/big-seg.bin"
    async with aiohttp.ClientSession() as session:
        whole = asyncio.ensure_future(_download(session, target))
        await asyncio.sleep(0.3)
        offset = 40 * MiB  # inside the third of four segments, near its start
        status, body = await _download(
            session, target, {"Range": f"bytes={offset}-{offset + 1023}"}
        )
        assert status == 206 and len(body) == 1024
        assert not whole.done(), "the range was answered before the whole file arrived"
        _, everything = await whole
    assert hashlib.sha256(everything).hexdigest() == data_sha
    assert body == everything[offset : offset + 1024]


@pytest.mark.timeout(60)
async def test_client_that_disconnects_does_not_cancel_the_fill(mirror, fakehub):
    size = 8 * MiB
    sha256 = fakehub.add_large_file("model", MODEL, "big-8.bin", size, seed=2)
    fakehub.faults.bandwidth = 8 * MiB
    target = f"{mirror.url}/{MODEL}/resolve/main/big-8.bin"
    async with aiohttp.ClientSession() as session:
        async with session.get(target) as resp:
            await resp.content.readexactly(MiB)
        # gone; the fill goes on and a later client gets a verified HIT
        for _ in range(100):
            if head(target).header("X-Cache-Status") == "HIT":
                break
            await asyncio.sleep(0.1)
    answer = get(target)
    assert answer.header("X-Cache-Status") == "HIT"
    assert hashlib.sha256(answer.body).hexdigest() == sha256


@pytest.mark.timeout(60)
async def test_upstream_drop_mid_fill_is_resumed_and_every_client_gets_correct_bytes(
    mirror, fakehub
):
    size = 16 * MiB
    sha256 = fakehub.add_large_file("model", MODEL, "big-16.bin", size, seed=3)
    fakehub.faults.drop_after = 3 * MiB
    fakehub.faults.drop_count = 2
    target = f"{mirror.url}/{MODEL}/resolve/main/big-16.bin"
    async with aiohttp.ClientSession() as session:
        results = await asyncio.gather(*(_download(session, target) for _ in range(3)))
    assert all(hashlib.sha256(body).hexdigest() == sha256 for _, body in results)
    ranged = [e for e in fakehub.log if e.headers.get("range", "").startswith("bytes=")]
    assert ranged, "the fill should resume with a Range request"
    assert get(target).header("X-Cache-Status") == "HIT"


@pytest.mark.timeout(90)
async def test_fill_that_never_gets_a_byte_answers_503_and_stores_nothing(mirror, fakehub):
    size = 4 * MiB
    fakehub.add_large_file("model", MODEL, "big-4.bin", size, seed=4)
    fakehub.faults.drop_after = 0  # every upstream attempt dies before its first byte
    target = f"{mirror.url}/{MODEL}/resolve/main/big-4.bin"
    async with aiohttp.ClientSession() as session:
        status, body = await _download(session, target)
    assert status == 503  # before any byte: no 200 whose body is cut
    assert b"retry in" in body
    assert _blob_files(mirror) == []
    assert list((mirror.data_dir / "tmp").iterdir()) == []


def _blob_files(mirror) -> list:
    return [p for p in (mirror.data_dir / "blobs").rglob("*") if p.is_file()]


@pytest.mark.timeout(60)
async def test_range_far_into_an_uncached_file_does_not_wait_for_the_fill(mirror, fakehub):
    size = 32 * MiB
    fakehub.add_large_file("model", MODEL, "big-32.bin", size, seed=5)
    fakehub.faults.bandwidth = 4 * MiB  # a whole fill would take 8 s
    target = f"{mirror.url}/{MODEL}/resolve/main/big-32.bin"
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = await asyncio.to_thread(get, target, headers={"Range": f"bytes={size - 8}-"})
    assert answer.status == 206
    assert len(answer.body) == 8
    assert loop.time() - started < 5


# --- an upstream that lies about a file's hash --------------------------------------------

LIAR_COMMIT = "c" * 40


async def _liar_upstream(announced: bytes, sent: bytes) -> web.AppRunner:
    """Announces ``announced``'s sha256 and size, then sends ``sent``."""
    sha256 = hashlib.sha256(announced).hexdigest()

    async def info(request):
        return web.json_response(
            {
                "id": "acme/liar",
                "sha": LIAR_COMMIT,
                "private": False,
                "gated": False,
                "siblings": [],
            }
        )

    async def resolve(request):
        headers = {
            "X-Repo-Commit": LIAR_COMMIT,
            "ETag": f'"{sha256}"',
            "X-Linked-Etag": f'"{sha256}"',
            "X-Linked-Size": str(len(announced)),
        }
        if request.method == "HEAD":
            return web.Response(headers=headers | {"Content-Length": str(len(announced))})
        return web.Response(body=sent, headers=headers)

    app = web.Application()
    app.router.add_get("/api/models/acme/liar", info)
    app.router.add_route("*", "/acme/liar/resolve/{tail:.*}", resolve)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


@pytest.mark.timeout(60)
async def test_hash_mismatch_aborts_the_client_and_keeps_nothing(make_mirror):
    good = b"x" * (2 * MiB)
    bad = b"y" * (2 * MiB)
    runner = await _liar_upstream(good, bad)
    try:
        port = runner.addresses[0][1]
        server = make_mirror(upstream=(f"http://127.0.0.1:{port}",))
        target = f"{server.url}/acme/liar/resolve/main/weights.bin"
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientPayloadError):
                await _download(session, target)
        assert _blob_files(server) == []
        assert head(target).header("X-Cache-Status") == "MISS"
    finally:
        await runner.cleanup()


@pytest.mark.timeout(60)
async def test_expired_cdn_link_is_renewed_when_a_fill_resumes(mirror, fakehub):
    size = 3 * MiB
    sha256 = fakehub.add_large_file("model", MODEL, "expiring.bin", size, seed=12)
    fakehub.cdn_ttl = 1  # signed links die after a second
    fakehub.faults.bandwidth = MiB
    fakehub.faults.drop_after = MiB + 1234
    fakehub.faults.drop_count = 1  # the resume happens after the first link expired
    answer = await asyncio.to_thread(get, f"{mirror.url}/{MODEL}/resolve/main/expiring.bin")
    assert hashlib.sha256(answer.body).hexdigest() == sha256
    refused = [e for e in fakehub.log if e.host == "cdn" and e.status == 403]
    heads = [e for e in fakehub.log if e.method == "HEAD" and "expiring.bin" in e.target]
    assert refused and len(heads) >= 2  # the stale link was refused, a new one fetched
