"""Upstreams in priority order, each behind a circuit breaker.

Failing over happens only on transport-class errors (refused, reset, timeout,
5xx, 429): a "not found" or "denied" from one Hub is the answer, and asking the
next one would only hide it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from hubmirror.errors import HubMirrorError, UpstreamUnavailable
from hubmirror.upstream.client import HubClient

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass
class Breaker:
    """Opens after ``threshold`` consecutive failures; lets one probe through after ``cooldown``."""

    threshold: int = 3
    cooldown: float = 10.0
    failures: int = 0
    opened_at: float | None = None
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def may_call(self) -> bool:
        if self.opened_at is None:
            return True
        return self.clock() - self.opened_at >= self.cooldown

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None

    def record_failure(self) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self.opened_at = self.clock()

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.may_call() else "open"


@dataclass
class UpstreamStats:
    """What one upstream did for us: shown in logs and ``/metrics``."""

    requests: int = 0
    failures: int = 0
    body_bytes: int = 0


class UpstreamPool:
    def __init__(self, clients: list[HubClient]) -> None:
        if not clients:
            raise ValueError("at least one upstream is required")
        self.clients = clients
        self.breakers = {c.name: Breaker() for c in clients}
        self.stats = {c.name: UpstreamStats() for c in clients}

    def record_bytes(self, client: HubClient, count: int) -> None:
        self.stats[client.name].body_bytes += count

    @property
    def primary(self) -> HubClient:
        return self.clients[0]

    def candidates(self) -> list[HubClient]:
        """Upstreams to try now: those whose breaker allows a call, in priority order."""
        allowed = [c for c in self.clients if self.breakers[c.name].may_call()]
        return allowed

    async def call(self, action: Callable[[HubClient], Awaitable[T]]) -> T:
        """Run ``action`` on the first upstream that answers; raise the last outage otherwise."""
        last: UpstreamUnavailable | None = None
        candidates = self.candidates()
        if not candidates:
            raise UpstreamUnavailable(
                "every upstream is failing (circuit breakers open)", retry_after=10
            )
        for client in candidates:
            try:
                result = await action(client)
            except UpstreamUnavailable as exc:
                self.failed(client, exc)
                last = exc
                continue
            except HubMirrorError:
                self.succeeded(client)  # a refusal is an answer: the upstream is healthy
                raise
            self.succeeded(client)
            return result
        assert last is not None
        raise last

    def succeeded(self, client: HubClient) -> None:
        self.stats[client.name].requests += 1
        self.breakers[client.name].record_success()

    def failed(self, client: HubClient, exc: Exception) -> None:
        log.warning("upstream %s failed: %s", client.name, exc)
        stats = self.stats[client.name]
        stats.requests += 1
        stats.failures += 1
        self.breakers[client.name].record_failure()
