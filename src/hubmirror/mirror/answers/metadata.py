"""Metadata questions to upstream, as the file and API answers ask them.

Each question is asked once however many callers wait (``Flights``), in this process
and in every other process sharing the index (``SharedFlights``: the node's other
workers, the cluster's other nodes read the answer the asker stored); with a cached
answer to fall back on, a caller waits only until the metadata deadline. A repo's
visibility is the first question of every request, so it is asked anonymously,
once per repo, and remembered by the ``AccessPolicy``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from hubmirror.errors import UpstreamTimeout
from hubmirror.hub.routes import api_path
from hubmirror.mirror.access.policy import AccessPolicy
from hubmirror.mirror.answers.flights import Flights, SharedFlights
from hubmirror.types import RepoId
from hubmirror.upstream.pool import UpstreamPool

T = TypeVar("T")


class Metadata:
    """Asks upstream through the pool, one flight per question, within the deadline."""

    def __init__(
        self,
        pool: UpstreamPool,
        flights: Flights,
        access: AccessPolicy,
        deadline: float,
        shared: SharedFlights,
    ) -> None:
        self.pool = pool
        self.flights = flights
        self.access = access
        self.deadline = deadline
        self.shared = shared

    def ask(
        self,
        key: str,
        question: Callable[[], Awaitable[T]],
        answered: Callable[[], T | None] | None = None,
    ) -> Awaitable[T]:
        """The flight answering ``key``: the one running, or ``question`` started when awaited.

        With ``answered`` (the answer in the index, once another process stored it, when
        this caller may have it), a question another process is asking is not asked
        again here: its answer is read.
        """
        if answered is None:
            return self.flights.run(key, question)
        return self.flights.run(key, lambda: self.shared.run(key, question, answered))

    def call(self, action: Callable[[Any], Awaitable[T]]) -> Awaitable[T]:
        """``action(client)`` on an upstream of the pool (failover and breakers there)."""
        return self.pool.call(action)

    async def within_deadline(self, flight: Awaitable[T], *, has_fallback: bool) -> T:
        """Wait for upstream; with a stale answer at hand, only until the metadata deadline.

        Clients give up on metadata after 10 s; a slow upstream must not take them there
        when the mirror can answer from its cache. The flight goes on in the background
        and records its answer for the next request.
        """
        if not has_fallback:
            return await flight
        try:
            return await asyncio.wait_for(asyncio.shield(flight), self.deadline)
        except TimeoutError:
            raise UpstreamTimeout("upstream slower than the metadata deadline") from None

    async def visibility(self, repo: RepoId) -> str:
        """``public``, ``restricted`` or ``unknown`` (access.py): remembered, else asked."""
        known = self.access.known_visibility(repo)
        if known is not None:
            return known
        has_fallback = self.access.last_visibility(repo) is not None

        async def fetch_info() -> bytes:
            flight = self.flights.run(
                ("anonymous-info", repo.key),
                lambda: self.pool.call(lambda c: c.get_json(api_path(repo), None)),
            )
            answer = await self.within_deadline(flight, has_fallback=has_fallback)
            return answer.body

        return await self.ask(
            f"visibility {repo.key}",
            lambda: self.access.visibility(repo, fetch_info),
            lambda: self.access.known_visibility(repo),
        )
