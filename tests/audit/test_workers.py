"""Two server processes on one data directory: one audit file of whole lines, one index."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from tests.fakehub import TINY_BERT
from tests.support.commands import hubmirror, start_hubmirror
from tests.support.ports import free_port, wait_for_listeners, wait_listening

DOWNLOADS = 120


async def _download_many(url: str) -> list[int]:
    connector = aiohttp.TCPConnector(force_close=True, limit=16)  # new connections: both workers
    async with aiohttp.ClientSession(connector=connector) as session:

        async def download() -> int:
            async with session.get(url) as resp:
                await resp.read()
                return resp.status

        return await asyncio.gather(*(download() for _ in range(DOWNLOADS)))


@pytest.mark.timeout(120)
async def test_two_workers_append_whole_lines_to_one_audit_file(fakehub, tmp_path):
    data = tmp_path / "d"
    port = free_port()
    args = ("--port", str(port), "--workers", "2", "--data", str(data))
    proc = start_hubmirror("serve", *args, "--upstream", fakehub.url)
    try:
        wait_listening(port, proc)
        await wait_for_listeners(port, 2)
        url = f"http://127.0.0.1:{port}/{TINY_BERT}/resolve/main/vocab.txt"
        statuses = await _download_many(url)
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    assert statuses == [200] * DOWNLOADS
    assert proc.returncode == 0, stderr[-2000:]
    serving = {
        line.split("[", 1)[1].split("]", 1)[0]
        for line in stderr.splitlines()
        if "hubmirror.access" in line and "vocab.txt 200" in line
    }
    assert len(serving) == 2, "both workers should have served"
    lines = [json.loads(line) for line in (data / "audit.jsonl").read_text().splitlines()]
    assert len(lines) == DOWNLOADS
    assert {(line["path"], line["status"]) for line in lines} == {("vocab.txt", 200)}
    listed = hubmirror("audit", "--data", str(data), "--json", "--limit", "1000", check=True)
    assert len(listed.stdout.splitlines()) == DOWNLOADS
