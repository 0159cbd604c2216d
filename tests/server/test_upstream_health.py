"""Upstream health told truthfully: the start line of ``serve``, ``/readyz``, in plain words."""

from __future__ import annotations

import asyncio
import calendar
import json

import pytest

from hubmirror.mirror.status import UpstreamStatus, upstream_health
from hubmirror.upstream.client import HubClient, create_session
from hubmirror.upstream.pool import UpstreamPool
from hubmirror.upstream.probe import probe_upstreams
from tests.fakehub.defaults import TINY_BERT
from tests.support.commands import start_hubmirror
from tests.support.http import get
from tests.support.ports import dead_url, free_port, wait_listening


def _upstreams(url: str) -> dict[str, dict]:
    ready = get(f"{url}/readyz")
    assert ready.status == 200  # an upstream's state never makes the server unready
    body = json.loads(ready.body)
    assert body["server"] == {"ready": True, "problems": []}
    return {u["name"]: u for u in body["upstreams"]}


@pytest.mark.timeout(60)
def test_serve_logs_each_upstream_at_start_and_serves_anyway(fakehub, tmp_path):
    port, dead = free_port(), dead_url()
    dead_host, hub_host = dead.split("://")[1], fakehub.url.split("://")[1]
    proc = start_hubmirror(
        "serve", "--port", str(port), "--data", str(tmp_path / "d"),
        "--upstream", fakehub.url, "--upstream", dead,
    )  # fmt: skip
    try:
        wait_listening(port, proc)
        upstreams = _upstreams(f"http://127.0.0.1:{port}")  # known before any request
        answer = get(f"http://127.0.0.1:{port}/{TINY_BERT}/resolve/main/config.json")
        assert answer.status == 200
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=20)
    assert upstreams[hub_host]["state"] == "reachable"
    assert (
        upstreams[dead_host]["state"] == "unreachable" and dead_host in upstreams[dead_host]["why"]
    )
    lines = [line.split(" hubmirror: ", 1)[-1] for line in stderr.splitlines()]
    started = [line for line in lines if line.startswith("upstream ")]
    assert len(started) == 2, stderr
    assert started[0].startswith(f"upstream {hub_host}: reachable, ") and started[0].endswith(" ms")
    assert started[1].startswith(f"upstream {dead_host}: unreachable (")
    assert "serving what is cached" in started[1]
    assert sum(dead_host in line for line in stderr.splitlines()) == 2  # "serving on", its line


@pytest.mark.timeout(60)
def test_readyz_stays_ready_and_says_why_an_upstream_failed(make_mirror):
    dead = dead_url()
    server = make_mirror(upstream=(dead,))
    assert _upstreams(server.url)[dead.split("://")[1]]["state"] == "unknown"  # not asked yet
    assert get(f"{server.url}/{TINY_BERT}/resolve/main/config.json").status >= 500
    upstream = _upstreams(server.url)[dead.split("://")[1]]
    assert upstream["state"] == "unreachable"
    assert dead.split("://")[1] in upstream["why"]
    assert upstream["words"].startswith("unreachable since ")
    assert upstream["words"].endswith(": " + upstream["why"])
    assert upstream["since"].endswith("Z") and upstream["latency_ms"] is None


@pytest.mark.timeout(60)
def test_readyz_gives_a_reachable_upstream_and_its_latency(mirror, fakehub):
    assert get(f"{mirror.url}/{TINY_BERT}/resolve/main/config.json").status == 200
    upstream = _upstreams(mirror.url)[fakehub.url.split("://")[1]]
    assert upstream["state"] == "reachable" and upstream["why"] == ""
    assert upstream["words"] == f"reachable, {upstream['latency_ms']} ms"


def test_upstream_health_in_words():
    at = calendar.timegm((2026, 12, 8, 10, 2, 0))
    down = UpstreamStatus(
        "hub.example", "open", 3, 3, 0, (0,), 0.0, None, None, at, "cannot resolve hub.example"
    )
    up = UpstreamStatus("hub.example", "closed", 1, 0, 0, (1,), 0.045, 0.045, at, None, "")
    never = UpstreamStatus("hub.example", "closed", 0, 0, 0, (0,), 0.0)
    assert upstream_health(down, False, at + 60).words == (
        "unreachable since 10:02 UTC: cannot resolve hub.example"
    )
    assert upstream_health(down, False, at + 86400).words.startswith(
        "unreachable since 2026-12-08 10:02 UTC"
    )
    assert upstream_health(up, False, at).words == "reachable, 45 ms"
    assert upstream_health(never, False, at).words == "not asked yet"
    assert upstream_health(up, True, at).words == "not asked: the mirror is offline"


async def test_the_start_probe_names_an_upstream_that_accepts_but_never_answers():
    silent = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    host = f"127.0.0.1:{silent.sockets[0].getsockname()[1]}"
    session = create_session(30.0)
    try:
        pool = UpstreamPool([HubClient(session, f"http://{host}")])
        await probe_upstreams(pool, timeout=0.3)
    finally:
        await session.close()
        silent.close()
    stats = pool.stats[host]
    assert stats.down_since is not None and stats.up_since is None
    assert stats.last_error == f"upstream {host} did not answer within 0.3 s"
