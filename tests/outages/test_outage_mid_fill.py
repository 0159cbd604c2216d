"""An upstream outage in the middle of a fill: the bytes fetched so far are kept, like
after a crash, and a request that arrives during the outage gets a 503 before any byte."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import threading
import time
from urllib.parse import urlsplit

import aiohttp
import pytest

from tests.support.commands import start_hubmirror
from tests.support.http import get
from tests.support.ports import free_port, wait_for_listeners, wait_listening

MODEL = "acme/tiny-bert"
MiB = 1024 * 1024
SIZE = 64 * MiB


class Received:
    """What a client saw: the status line and headers, then how many body bytes came."""

    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.body = bytearray()
        self.complete = False


def _receive(url: str, seen: Received, headers: dict | None = None) -> Received:
    """Read a response to its end or to the cut, whichever comes first."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        conn.request("GET", parts.path, headers=headers or {})
        resp = conn.getresponse()
        seen.status, seen.headers = resp.status, dict(resp.headers)
        length = int(resp.headers.get("Content-Length", "-1"))
        while True:
            chunk = resp.read1(1024 * 1024)
            if not chunk:
                break
            seen.body += chunk
        seen.complete = len(seen.body) == length
    except (http.client.HTTPException, OSError):
        pass  # cut: what arrived is in ``seen``
    finally:
        conn.close()
    return seen


def _wait_for(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _fill_cut_by_outage(fakehub, mirror, name: str, seed: int) -> tuple[str, str, Received]:
    """Start a fill of a 64 MiB file, take upstream down once a third of it has come, and
    return after the fill gave up (its client's download ends)."""
    sha256 = fakehub.add_large_file("model", MODEL, name, SIZE, seed=seed)
    fakehub.faults.bandwidth = 2 * MiB  # per connection: the fill takes a few seconds
    url = f"{mirror.url}/{MODEL}/resolve/main/{name}"
    first = Received()
    client = threading.Thread(target=_receive, args=(url, first))
    client.start()
    _wait_for(lambda: fakehub.body_bytes(host="cdn") >= 20 * MiB, "20 MiB from the CDN")
    fakehub.go_down()
    client.join(timeout=120)
    assert not client.is_alive()
    assert first.status == 200 and not first.complete  # its body was already under way
    return url, sha256, first


@pytest.mark.timeout(180)
def test_fill_cut_by_an_outage_keeps_its_bytes_and_resumes_when_upstream_returns(
    make_mirror, fakehub
):
    mirror = make_mirror()
    url, sha256, _ = _fill_cut_by_outage(fakehub, mirror, "outage-resume.bin", seed=21)
    tmp = mirror.data_dir / "tmp"
    assert list(tmp.glob("*.part")) and list(tmp.glob("*.progress"))  # kept, to be resumed
    fetched_before = fakehub.body_bytes(host="cdn")
    assert fetched_before >= 20 * MiB
    fakehub.come_up()
    fakehub.faults.bandwidth = None
    answer = get(url, timeout=120)
    assert answer.status == 200
    assert hashlib.sha256(answer.body).hexdigest() == sha256
    assert fakehub.body_bytes(host="cdn") <= 1.05 * SIZE  # the rest, not all of it again
    assert not list(tmp.glob("*.part"))


@pytest.mark.timeout(180)
def test_request_during_an_outage_gets_503_before_any_body_byte(make_mirror, fakehub):
    mirror = make_mirror()
    url, sha256, _ = _fill_cut_by_outage(fakehub, mirror, "outage-503.bin", seed=22)
    during = _receive(url, Received())
    assert during.status == 503
    assert during.headers.get("X-Error-Code") == "UpstreamUnavailable"
    assert int(during.headers["Retry-After"]) > 0
    assert b"upstream" in during.body and b"retry" in during.body  # a message, not file bytes
    early = _receive(url, Received(), {"Range": "bytes=0-1048575"})  # fetched before the outage
    assert early.status == 206 and early.complete
    fakehub.come_up()
    fakehub.faults.bandwidth = None
    answer = get(url, timeout=120)
    assert hashlib.sha256(answer.body).hexdigest() == sha256
    assert bytes(early.body) == answer.body[: 1 * MiB]


@pytest.mark.timeout(180)
def test_request_joining_a_fill_whose_upstream_fails_waits_and_gets_503(make_mirror, fakehub):
    mirror = make_mirror()
    sha256 = fakehub.add_large_file("model", MODEL, "outage-join.bin", SIZE, seed=24)
    fakehub.faults.bandwidth = 2 * MiB
    url = f"{mirror.url}/{MODEL}/resolve/main/outage-join.bin"
    first = Received()
    client = threading.Thread(target=_receive, args=(url, first))
    client.start()
    _wait_for(lambda: fakehub.body_bytes(host="cdn") >= 20 * MiB, "20 MiB from the CDN")
    fakehub.go_down()  # cuts the fill's connections ...
    fakehub.faults.fail_status = 503  # ... and every attempt after that is refused
    fakehub.come_up()
    _wait_for(lambda: any(e.status == 503 for e in fakehub.log), "a refused attempt")
    joined = _receive(url, Received())  # the fill still retries: this request joins it
    client.join(timeout=120)
    assert (joined.status, joined.headers.get("X-Error-Code")) == (503, "UpstreamUnavailable")
    assert first.status == 200 and not first.complete
    fakehub.reset_faults()
    answer = get(url, timeout=120)
    assert hashlib.sha256(answer.body).hexdigest() == sha256
    assert fakehub.body_bytes(host="cdn") <= 1.05 * SIZE


async def _status_and_length(session, url: str) -> tuple[int, str | None, int]:
    """Status, X-Error-Code and how many body bytes came before the end or the cut."""
    received = 0
    async with session.get(url) as resp:
        try:
            async for chunk in resp.content.iter_any():
                received += len(chunk)
        except aiohttp.ClientPayloadError:
            pass
        return resp.status, resp.headers.get("X-Error-Code"), received


@pytest.mark.timeout(240)
async def test_two_workers_keep_an_outage_cut_fill_and_answer_503_meanwhile(fakehub, tmp_path):
    name = "outage-workers.bin"
    sha256 = fakehub.add_large_file("model", MODEL, name, SIZE, seed=23)
    fakehub.faults.bandwidth = 2 * MiB
    port = free_port()
    args = ("--port", str(port), "--workers", "2", "--data", str(tmp_path / "d"))
    proc = start_hubmirror("serve", *args, "--upstream", fakehub.url)
    url = f"http://127.0.0.1:{port}/{MODEL}/resolve/main/{name}"
    try:
        wait_listening(port, proc)
        await wait_for_listeners(port, 2)
        connector = aiohttp.TCPConnector(force_close=True)  # connections spread over both
        async with aiohttp.ClientSession(connector=connector) as session:
            first = [asyncio.ensure_future(_status_and_length(session, url)) for _ in range(8)]
            while fakehub.body_bytes(host="cdn") < 20 * MiB:
                await asyncio.sleep(0.05)
            fakehub.go_down()
            cut = await asyncio.gather(*first)  # every reader's body ends with the fill
            during = await asyncio.gather(*(_status_and_length(session, url) for _ in range(6)))
            fakehub.come_up()
            fakehub.faults.bandwidth = None
            async with session.get(url) as resp:
                body = await resp.read()
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert all(status == 200 and length < SIZE for status, _, length in cut)
    assert {(status, code) for status, code, _ in during} == {(503, "UpstreamUnavailable")}
    assert hashlib.sha256(body).hexdigest() == sha256
    assert fakehub.body_bytes(host="cdn") <= 1.05 * SIZE  # each byte fetched about once
