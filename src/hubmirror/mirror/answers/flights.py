"""Share one in-flight upstream call among every concurrent caller asking the same thing.

Eight clients starting a cold ``snapshot_download`` at once ask the same
metadata questions at the same moment; upstream should hear each question once,
however many workers or nodes those clients' connections reach.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Protocol

log = logging.getLogger(__name__)

QUESTION_LEASE = 30.0  # seconds another process waits for a holder that died mid-question
FIRST_POLL, LAST_POLL = 0.01, 0.2  # seconds between looks for another process's answer


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


class QuestionLeases(Protocol):
    """The index's leases (``index.leases``): a row per key, held by one process at a time."""

    def acquire(self, key: str, node: str, address: str, ttl: float) -> bool: ...

    def holder(self, key: str) -> object | None: ...

    def release(self, key: str, node: str) -> None: ...


class SharedFlights:
    """One upstream question at a time across every process that shares the index.

    ``Flights`` joins the callers of one process; the workers of a node (one SQLite
    index) and the nodes of a cluster (one PostgreSQL index) would still each ask.
    The process that takes a question's lease asks upstream, stores the answer in the
    index and gives the lease up; the others read the answer from the index. When the
    lease ends without an answer they may read (upstream failed, or the answer needs a
    token only upstream can confirm), or its holder died (the lease runs out), they ask
    themselves.
    """

    def __init__(self, leases: QuestionLeases, owner: str) -> None:
        self.leases = leases
        self.owner = owner  # unique per process: leases of one owner are re-entrant

    async def run(
        self,
        name: str,
        question: Callable[[], Awaitable[Any]],
        answered: Callable[[], Any | None],
    ) -> Any:
        """``question()``, unless another process is asking ``name``: then what
        ``answered()`` finds in the index once it is there (``None``: not there)."""
        lease = "ask " + hashlib.sha256(name.encode()).hexdigest()
        if self._take(lease):
            try:
                return await question()
            finally:
                self._give_up(lease)
        pause = FIRST_POLL
        while self._held(lease):
            await asyncio.sleep(pause)
            pause = min(pause * 2, LAST_POLL)
            found = answered()
            if found is not None:
                return found
        found = answered()  # stored just before the lease was given up
        return found if found is not None else await question()

    def _take(self, lease: str) -> bool:
        try:
            return self.leases.acquire(lease, self.owner, "", QUESTION_LEASE)
        except Exception as exc:  # noqa: BLE001 - the index failing must not fail the question
            log.warning("could not lease an upstream question: %s", exc)
            return True  # ask without it

    def _held(self, lease: str) -> bool:
        try:
            return self.leases.holder(lease) is not None
        except Exception:  # noqa: BLE001 - as if the holder gave up: ask ourselves
            return False

    def _give_up(self, lease: str) -> None:
        try:
            self.leases.release(lease, self.owner)
        except Exception as exc:  # noqa: BLE001 - it runs out on its own
            log.warning("could not release an upstream question's lease: %s", exc)
