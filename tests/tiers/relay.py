"""A TCP relay on loopback between a site mirror and its central mirror, with two switches.

The fake hub fails the way the internet fails; a central mirror is a real server that
cannot be told to. The relay stands where the network between the tiers would be:
``go_down()`` refuses connections (and cuts open ones) on the same port, ``come_up()``
listens again, and ``cut_after = N`` ends the next connection whose answer passes N
bytes, in the middle of it, as a broken link between two sites would.
"""

from __future__ import annotations

import asyncio
import threading
from urllib.parse import urlsplit

READ_SIZE = 64 * 1024


class Relay:
    def __init__(self, target_url: str) -> None:
        parts = urlsplit(target_url)
        self._target = (parts.hostname, parts.port)
        self.port = 0
        self.cut_after: int | None = None  # read by the relay's loop per chunk
        self.cuts = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.Transport] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Relay:
        self._thread.start()
        self.come_up()
        return self

    def come_up(self) -> None:
        self._run(self._listen())

    def go_down(self) -> None:
        self._run(self._go_dark())

    def stop(self) -> None:
        self.go_down()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self, coro) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _go_dark(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for transport in list(self._transports):
            transport.abort()

    async def _handle(self, reader, writer) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        pair = {writer.transport, up_writer.transport}
        self._transports |= pair
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer, True))
        except (OSError, ConnectionAbortedError):
            pass
        finally:
            for transport in pair:
                transport.abort()
            self._transports -= pair

    async def _pipe(self, source, sink, answers: bool = False) -> None:
        """Copy until end of stream; on the answer side, cut at ``cut_after`` bytes once."""
        sent = 0
        while data := await source.read(READ_SIZE):
            limit = self.cut_after if answers else None
            if limit is not None and sent + len(data) > limit:
                self.cut_after = None
                self.cuts += 1
                sink.write(data[: limit - sent])
                await sink.drain()
                raise ConnectionAbortedError("cut by the relay")
            sink.write(data)
            await sink.drain()
            sent += len(data)
        raise ConnectionAbortedError("end of stream")
