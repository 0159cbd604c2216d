"""A real hubmirror server on loopback, in a background thread with its own event loop.

Tests and real clients (run in subprocesses) talk to it over HTTP exactly as users do.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from hubmirror.runtime import open_mirror
from hubmirror.server.app import start_server
from hubmirror.server.protocol import Timeouts
from hubmirror.settings import Settings


class MirrorThread:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port: int | None = None
        self.mirror = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="hubmirror", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return Path(self.settings.data)

    def start(self) -> MirrorThread:
        self._thread.start()
        self._ready.wait(30)
        if self._error:
            raise self._error
        return self

    def stop(self) -> None:
        if self.loop and self._stop:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def call(self, fn, *args):
        """Run ``fn(*args)`` on the server's loop (for inspecting mirror state safely)."""

        async def run():
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(30)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with open_mirror(self.settings) as mirror:
            self.mirror = mirror
            runner, self.port = await start_server(
                mirror,
                "127.0.0.1",
                0,
                public_url=self.settings.public_url,
                admin_token=self.settings.admin_token,
                max_fills_per_client=self.settings.max_fills_per_client,
                rate_limit=self.settings.rate_limit,
                rate_burst=self.settings.rate_burst,
                trusted_proxies=self.settings.trusted_proxies,
                timeouts=Timeouts(self.settings.keepalive_timeout, self.settings.body_timeout),
            )
            self._ready.set()
            try:
                await self._stop.wait()
            finally:
                await runner.cleanup()
