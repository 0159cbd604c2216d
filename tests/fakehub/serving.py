"""Running aiohttp apps in a background thread, on loopback ports that can go dark.

Tests are synchronous (or run their own loop), so the fake hub owns a private event loop in
a daemon thread. A Listener can stop accepting (connection refused, open connections cut)
and later listen again on the same port, which is what an upstream outage looks like.
"""

import asyncio
import threading
from collections.abc import Coroutine

from aiohttp import web

START_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 0.5


class BackgroundLoop:
    """An asyncio loop in a daemon thread; other threads submit coroutines and wait."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="fakehub", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine, timeout: float = START_TIMEOUT):
        """Run `coro` on the loop and return its result (never call from the loop itself)."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("fake hub control called from its own event loop thread")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=START_TIMEOUT)
        self.loop.close()


class Listener:
    """One app on 127.0.0.1; `port` stays fixed once chosen so it can re-listen there."""

    def __init__(self, app: web.Application, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        self._server: asyncio.Server | None = None

    async def setup(self) -> None:
        await self._runner.setup()
        await self.listen()

    async def listen(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._runner.server, self.host, self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def go_dark(self) -> None:
        """Close the listening socket and cut every open connection."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for handler in self._runner.server.connections:
            if handler.transport is not None:
                handler.transport.abort()
        await asyncio.sleep(0)

    async def cleanup(self) -> None:
        await self.go_dark()
        await self._runner.cleanup()
