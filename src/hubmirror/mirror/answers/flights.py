"""Share one in-flight upstream call among every concurrent caller asking the same thing.

Eight clients starting a cold ``snapshot_download`` at once ask the same
metadata questions at the same moment; upstream should hear each question once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any


class Flights:
    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Future] = {}

    async def run(self, key: Hashable, action: Callable[[], Awaitable[Any]]) -> Any:
        """Await the call already running for ``key``, or start it."""
        running = self._running.get(key)
        if running is not None:
            return await asyncio.shield(running)
        task = asyncio.ensure_future(action())
        self._running[key] = task
        task.add_done_callback(lambda _t: self._running.pop(key, None))
        return await asyncio.shield(task)

    def __len__(self) -> int:
        return len(self._running)
