"""The dashboard's status, logging in, and a download left running in the background.

Waiting for what the server records after answering (counters, audit batches) is
``tests.support.waiting.wait_for``."""

from __future__ import annotations

import json

from tests.dashboard.conftest import ADMIN_TOKEN
from tests.support.http import get, request


def status_of(url: str) -> dict:
    answer = get(f"{url}/dashboard/api/status")
    assert answer.status == 200
    return json.loads(answer.body)


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def log_in(url: str) -> str:
    """Log in with the admin token; the ``Set-Cookie`` header of the new session."""
    body = f"token={ADMIN_TOKEN}".encode()
    answer = request("POST", f"{url}/dashboard/login", headers=FORM, body=body)
    assert answer.status == 303
    return answer.header("Set-Cookie")


def session_cookie(url: str) -> str:
    """A ``Cookie`` header value of a new admin session."""
    return log_in(url).split(";", 1)[0]


def start_download(url: str, headers: dict[str, str] | None = None):
    """A client reading a slow file from inside the server's loop (runs in the background):
    call it with ``server.call``, cancel the task it returns the same way."""
    import asyncio

    import aiohttp

    async def read():
        async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
            await resp.read()

    return asyncio.ensure_future(read())
