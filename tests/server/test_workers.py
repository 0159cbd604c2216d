"""Several server processes on one port still fill each blob once."""

from __future__ import annotations

import asyncio
import hashlib

import aiohttp
import pytest

from tests.support.commands import start_hubmirror
from tests.support.ports import free_port, wait_for_listeners, wait_listening

MiB = 1024 * 1024


@pytest.mark.timeout(120)
async def test_two_workers_share_one_fill_per_blob(fakehub, tmp_path):
    size = 32 * MiB
    sha256 = fakehub.add_large_file("model", "acme/tiny-bert", "big-w.bin", size, seed=7)
    fakehub.faults.bandwidth = 16 * MiB
    port = free_port()
    args = ("--port", str(port), "--workers", "2", "--data", str(tmp_path / "d"))
    proc = start_hubmirror("serve", *args, "--upstream", fakehub.url)
    try:
        wait_listening(port, proc)
        await wait_for_listeners(port, 2)
        target = f"http://127.0.0.1:{port}/acme/tiny-bert/resolve/main/big-w.bin"
        fakehub.clear_log()
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def download() -> bytes:
                async with session.get(target) as resp:
                    return await resp.read()

            bodies = await asyncio.gather(*(download() for _ in range(16)))
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    assert all(hashlib.sha256(b).hexdigest() == sha256 for b in bodies)
    assert fakehub.body_bytes(host="cdn") <= size * 1.02
    assert proc.returncode == 0, stderr[-2000:]
    serving = {
        line.split("[", 1)[1].split("]", 1)[0]
        for line in stderr.splitlines()
        if "hubmirror.access" in line and "big-w.bin 200" in line
    }
    assert len(serving) == 2, "both workers should have served (SO_REUSEPORT spreads connections)"
