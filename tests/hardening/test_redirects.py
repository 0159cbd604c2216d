"""Upstream redirects are followed only to allowed hosts: no caller can aim the mirror elsewhere."""

from __future__ import annotations

import asyncio
import hashlib
import logging

import aiohttp
import pytest
from aiohttp import web

from tests.support.http import get

COMMIT = "c" * 40
BODY = b"weights" * 1000
SHA256 = hashlib.sha256(BODY).hexdigest()
REPO = "acme/redir"


class Upstream:
    """A tiny Hub whose ``/resolve/`` 302s to ``targets[name]`` with full metadata, and
    whose ``/cdn/hop`` redirects once more to ``hop_target``."""

    def __init__(self) -> None:
        self.targets: dict[str, str] = {}
        self.hop_target = ""
        self.runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get(f"/api/models/{REPO}", self.info)
        app.router.add_get("/api/models/acme/moved", self.moved)
        app.router.add_route("*", f"/{REPO}/resolve/{{rev}}/{{name}}", self.resolve)
        app.router.add_get("/cdn/hop", self.hop)
        app.router.add_get("/cdn/{name}", self.cdn)
        self.runner = await _serve(app, "127.0.0.1")
        return _url(self.runner, "127.0.0.1")

    async def info(self, request):
        return web.json_response(
            {"id": REPO, "sha": COMMIT, "private": False, "gated": False, "siblings": []}
        )

    async def moved(self, request):
        raise web.HTTPFound(self.targets["moved"])

    async def resolve(self, request):
        headers = {
            "X-Repo-Commit": COMMIT,
            "X-Linked-Etag": f'"{SHA256}"',
            "X-Linked-Size": str(len(BODY)),
            "ETag": '"0123"',
            "Location": self.targets[request.match_info["name"]],
        }
        return web.Response(status=302, headers=headers)

    async def hop(self, request):
        raise web.HTTPFound(self.hop_target)

    async def cdn(self, request):
        return web.Response(body=BODY)


class Evil:
    """A server the mirror must never reach; it counts what reaches it."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.answer)
        self.runner = await _serve(app, "127.0.0.2")
        return _url(self.runner, "127.0.0.2")

    async def answer(self, request):
        self.seen.append(request.path_qs)
        return web.Response(body=BODY)


async def _serve(app: web.Application, host: str) -> web.AppRunner:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host, 0).start()
    return runner


def _url(runner: web.AppRunner, host: str) -> str:
    return f"http://{host}:{runner.addresses[0][1]}"


@pytest.fixture
async def servers():
    upstream, evil = Upstream(), Evil()
    up_url, evil_url = await upstream.start(), await evil.start()
    upstream.targets = {
        "good.bin": f"{up_url}/cdn/good.bin",
        "loopback.bin": f"{evil_url}/steal?x=1",
        "named.bin": "http://evil.example/steal",
        "chained.bin": f"{up_url}/cdn/hop",
        "moved": f"{evil_url}/api/models/acme/moved",
    }
    upstream.hop_target = f"{evil_url}/second-hop"
    yield up_url, evil
    await upstream.runner.cleanup()
    await evil.runner.cleanup()


def _blobs(server) -> list:
    return [p for p in (server.data_dir / "blobs").rglob("*") if p.is_file()]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["loopback.bin", "named.bin"])
async def test_resolve_redirect_to_a_foreign_host_is_refused(make_mirror, servers, name, caplog):
    up_url, evil = servers
    server = make_mirror(upstream=(up_url,))
    with caplog.at_level(logging.WARNING, logger="hubmirror"):
        answer = await asyncio.to_thread(get, f"{server.url}/{REPO}/resolve/main/{name}")
    assert (answer.status, answer.header("X-Error-Code")) == (502, "RedirectRefused")
    host = "127.0.0.2" if name == "loopback.bin" else "evil.example"
    assert host in answer.header("X-Error-Message")
    assert b"redirect allow-list" in answer.body
    assert evil.seen == []
    assert _blobs(server) == []
    assert any("not on the redirect allow-list" in r.getMessage() for r in caplog.records)


@pytest.mark.timeout(60)
async def test_redirect_to_the_upstream_host_on_another_port_is_followed(make_mirror, servers):
    up_url, evil = servers
    server = make_mirror(upstream=(up_url,))
    answer = await asyncio.to_thread(get, f"{server.url}/{REPO}/resolve/main/good.bin")
    assert (answer.status, answer.body) == (200, BODY)
    assert evil.seen == []


@pytest.mark.timeout(60)
async def test_redirect_hosts_setting_allows_another_host(make_mirror, servers):
    up_url, evil = servers
    server = make_mirror(upstream=(up_url,), redirect_hosts=("127.0.0.2",))
    answer = await asyncio.to_thread(get, f"{server.url}/{REPO}/resolve/main/loopback.bin")
    assert (answer.status, answer.body) == (200, BODY)
    assert evil.seen == ["/steal?x=1"]


@pytest.mark.timeout(60)
async def test_a_cdn_that_redirects_to_a_foreign_host_is_not_followed(make_mirror, servers):
    up_url, evil = servers
    server = make_mirror(upstream=(up_url,))
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{server.url}/{REPO}/resolve/main/chained.bin") as resp,
    ):
        body = await resp.read()  # the fill failed before its first byte: no 200 went out
    assert (resp.status, resp.headers.get("X-Error-Code")) == (502, "RedirectRefused")
    assert b"redirect_hosts" in body
    assert evil.seen == []
    assert _blobs(server) == []


@pytest.mark.timeout(60)
async def test_api_redirect_to_a_foreign_host_is_refused(make_mirror, servers):
    up_url, evil = servers
    server = make_mirror(upstream=(up_url,))
    answer = await asyncio.to_thread(get, f"{server.url}/api/models/acme/moved")
    assert (answer.status, answer.header("X-Error-Code")) == (502, "RedirectRefused")
    assert evil.seen == []


@pytest.mark.timeout(60)
def test_fake_hub_cdn_on_the_same_host_keeps_working(mirror, fakehub):
    answer = get(f"{mirror.url}/acme/tiny-bert/resolve/main/model.safetensors")
    expected = fakehub.file_bytes("model", "acme/tiny-bert", "main", "model.safetensors")
    assert (answer.status, answer.body) == (200, expected)
    assert [e.status for e in fakehub.log if e.host == "cdn"] == [200]
