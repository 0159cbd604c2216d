"""The workers of one node ask upstream each metadata question once between them.

Connections spread over the workers (SO_REUSEPORT), so a burst of clients asking the
same fresh file reaches both at once. The worker that asks upstream stores the answer
in the index; the other waits for it there instead of asking again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import aiohttp
import pytest

from tests.fakehub import TINY_BERT
from tests.support.commands import start_hubmirror
from tests.support.ports import free_port, wait_for_listeners, wait_listening

CLIENTS = 12


@contextlib.asynccontextmanager
async def two_workers(fakehub, tmp_path, *options: str):
    """``hubmirror serve --workers 2``: its URL, then (after) its stderr in ``logs``."""
    port = free_port()
    args = ("--port", str(port), "--workers", "2", "--data", str(tmp_path / "d"), *options)
    proc = start_hubmirror("serve", *args, "--upstream", fakehub.url)
    logs: list[str] = []
    try:
        wait_listening(port, proc)
        await wait_for_listeners(port, 2)
        yield f"http://127.0.0.1:{port}", logs
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
        logs.append(stderr)
    assert proc.returncode == 0, stderr[-2000:]


async def burst(method: str, url: str, hashes: list | None = None) -> list[int]:
    """``CLIENTS`` requests at once, each on a new connection (so both workers get some);
    the statuses, and the ``X-Xet-Hash`` headers appended to ``hashes``."""
    hashes = [] if hashes is None else hashes
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> tuple[int, str | None]:
            async with session.request(method, url) as resp:
                await resp.read()
                return resp.status, resp.headers.get("X-Xet-Hash")

        answers = await asyncio.gather(*(one() for _ in range(CLIENTS)))
    hashes.extend(xet_hash for _, xet_hash in answers)
    return [status for status, _ in answers]


def questions(fakehub) -> Counter:
    """Upstream requests by method and path (query left out)."""
    return Counter((e.method, e.target.split("?")[0]) for e in fakehub.log if e.host == "hub")


def workers_that_served(logs: list[str], text: str) -> set[str]:
    return {
        line.split("[", 1)[1].split("]", 1)[0]
        for line in "".join(logs).splitlines()
        if "hubmirror.access" in line and text in line
    }


@pytest.mark.timeout(120)
async def test_two_workers_ask_upstream_once_about_a_file_a_burst_of_clients_wants(
    fakehub, tmp_path
):
    fakehub.faults.latency = 0.5  # the first worker's questions are still out when the rest ask
    async with two_workers(fakehub, tmp_path) as (url, logs):
        fakehub.clear_log()
        statuses = await burst("HEAD", f"{url}/{TINY_BERT}/resolve/main/config.json")
    assert statuses == [200] * CLIENTS
    served = workers_that_served(logs, "config.json 200")
    assert len(served) == 2, "both workers should have served (SO_REUSEPORT spreads connections)"
    assert questions(fakehub) == {
        ("GET", f"/api/models/{TINY_BERT}"): 1,  # the repo's visibility
        ("HEAD", f"/{TINY_BERT}/resolve/main/config.json"): 1,  # the file's commit and size
    }


@pytest.mark.timeout(120)
async def test_two_workers_ask_upstream_once_for_an_api_answer_a_burst_of_clients_wants(
    fakehub, tmp_path
):
    revision = f"/api/models/{TINY_BERT}/revision/main"
    async with two_workers(fakehub, tmp_path) as (url, logs):
        assert (await burst("GET", f"{url}/{TINY_BERT}/resolve/main/config.json"))[0] == 200
        fakehub.faults.latency = 0.5
        fakehub.clear_log()
        statuses = await burst("GET", url + revision)
    assert statuses == [200] * CLIENTS
    assert len(workers_that_served(logs, "revision/main 200")) == 2
    assert questions(fakehub) == {("GET", revision): 1}


@pytest.mark.timeout(120)
async def test_once_the_metadata_ttl_ran_out_two_workers_ask_again_once(fakehub, tmp_path):
    target = f"/{TINY_BERT}/resolve/main/config.json"
    async with two_workers(fakehub, tmp_path, "--metadata-ttl", "1") as (url, logs):
        assert await burst("HEAD", url + target) == [200] * CLIENTS
        await asyncio.sleep(1.5)  # both workers' answers are stale now
        fakehub.faults.latency = 0.5
        fakehub.clear_log()
        statuses = await burst("HEAD", url + target)
    assert statuses == [200] * CLIENTS
    assert len(workers_that_served(logs, "config.json 200")) == 2
    assert questions(fakehub) == {("GET", f"/api/models/{TINY_BERT}"): 1, ("HEAD", target): 1}


@pytest.mark.timeout(120)
async def test_the_worker_that_did_not_ask_passes_on_upstreams_xet_hash_too(fakehub, tmp_path):
    target = f"/{TINY_BERT}/resolve/main/model.safetensors"  # an LFS file, cold
    expected = fakehub.xet_hash_of(fakehub.blob("model", TINY_BERT, "main", "model.safetensors"))
    fakehub.faults.latency = 0.5
    hashes: list[str | None] = []
    async with two_workers(fakehub, tmp_path) as (url, logs):
        fakehub.clear_log()
        statuses = await burst("HEAD", url + target, hashes)
    assert statuses == [200] * CLIENTS
    assert len(workers_that_served(logs, "model.safetensors 200")) == 2
    assert hashes == [expected] * CLIENTS
    assert questions(fakehub)[("HEAD", target)] == 1
