"""A node of several ``hubmirror serve`` workers, and a request on its own connection."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.support.ports import free_port, wait_for_listeners, wait_listening

MODEL = "acme/tiny-bert"


@contextlib.contextmanager
def two_workers(fakehub, data: Path, log: Path, workers: int = 2, **settings):
    """``hubmirror serve --workers N`` on ``data``; yields the URL prefix of ``MODEL``'s
    files. Its log goes to a file (a pipe nobody reads would stall it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUBMIRROR_"))}
    env.update({f"HUBMIRROR_{k.upper()}": str(v) for k, v in settings.items()})
    port = free_port()
    argv = [
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--data",
        str(data),
        "--upstream",
        fakehub.url,
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hubmirror", "serve", *argv], stderr=out, env=env
        )
        try:
            wait_listening(port, proc)
            asyncio.run(wait_for_listeners(port, workers))
            yield f"http://127.0.0.1:{port}/{MODEL}/resolve/main"
        finally:
            proc.terminate()
            proc.wait(timeout=30)


async def fetch(url: str) -> tuple[int, bytes, str | None]:
    """One GET on its own connection (so every worker gets some): status, the body bytes
    that came (fewer than announced when it was cut short), ``X-Error-Code``."""
    connector = aiohttp.TCPConnector(force_close=True)
    body = bytearray()
    async with aiohttp.ClientSession(connector=connector) as session, session.get(url) as resp:
        with contextlib.suppress(aiohttp.ClientPayloadError):
            async for chunk in resp.content.iter_any():
                body += chunk
        return resp.status, bytes(body), resp.headers.get("X-Error-Code")
