"""Upstreams in priority order, each behind a circuit breaker.

Failing over happens only on transport-class errors (refused, reset, timeout,
5xx, 429): a "not found" or "denied" from one Hub is the answer, and asking the
next one would only hide it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from hubmirror.errors import (
    HubMirrorError,
    MirrorOffline,
    UpstreamRateLimited,
    UpstreamSilent,
    UpstreamTimeout,
    UpstreamUnavailable,
    UpstreamUnreachable,
)
from hubmirror.hub.statuses import RelayedOffline, RelayedOutage
from hubmirror.upstream.client import HubClient
from hubmirror.upstream.transport import UNREACHABLE_RETRY_AFTER

T = TypeVar("T")
DEFAULT_REST = 5.0  # seconds to leave an upstream alone after a 429 without Retry-After
ROUNDS = 2  # passes over the upstreams before an outage is declared
ROUND_PAUSE = 0.2
UNREACHABLE_PROBE_EVERY = 1.0  # seconds between background probes of an unreachable upstream
BREAKER_RETRY_AFTER = 10  # seconds a client is told to wait while every upstream fails
log = logging.getLogger(__name__)


@dataclass
class Breaker:
    """Opens after ``threshold`` consecutive failures; lets one probe through after ``cooldown``."""

    threshold: int = 3
    cooldown: float = 10.0
    failures: int = 0
    opened_at: float | None = None
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    last_failure: UpstreamUnavailable | None = None  # why it is open, for the next refusal

    def may_call(self) -> bool:
        if self.opened_at is None:
            return True
        return self.clock() - self.opened_at >= self.wait

    @property
    def wait(self) -> float:
        """Seconds the breaker stays open: short when the upstream could not be reached at
        all, because it is then probed in the background, never through a client's request."""
        unreachable = isinstance(self.last_failure, UpstreamUnreachable)
        return min(self.cooldown, UNREACHABLE_PROBE_EVERY) if unreachable else self.cooldown

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self.last_failure = None

    def record_failure(self, exc: UpstreamUnavailable | None = None) -> None:
        """Count a failure; one that says the upstream cannot be reached at all (its name
        does not resolve, it refuses) opens the breaker at once: asking again within the
        cooldown would only make every client wait for the same answer."""
        self.failures += 1
        self.last_failure = exc
        if self.failures >= self.threshold or isinstance(exc, UpstreamUnreachable):
            self.opened_at = self.clock()

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.may_call() else "open"


LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)  # seconds


@dataclass
class UpstreamStats:
    """What one upstream did for us: shown in logs, ``/metrics``, ``/readyz`` and the dashboard.

    ``latency`` counts answers per bucket of ``LATENCY_BUCKETS`` (time to the
    response headers; the last slot is "slower than every bucket"), so ``/metrics``
    can render a Prometheus histogram without a client library.

    The health fields say in words what the breaker says in numbers: since when (Unix
    time) the upstream answers or fails, the last failure's message (the error's own
    words: host and cause), and how long its last answer took.
    """

    requests: int = 0
    failures: int = 0
    body_bytes: int = 0
    latency: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    latency_sum: float = 0.0
    last_latency: float | None = None  # seconds to the headers of the last answer
    up_since: float | None = None  # answering since then (None: failing, or never asked)
    down_since: float | None = None  # failing since then (None: answering, or never asked)
    last_error: str = ""  # why the last failure failed

    def observe(self, seconds: float) -> None:
        slot = next((i for i, b in enumerate(LATENCY_BUCKETS) if seconds <= b), -1)
        self.latency[slot] += 1
        self.latency_sum += seconds
        self.last_latency = seconds

    def answered(self, now: float) -> None:
        self.down_since = None
        if self.up_since is None:
            self.up_since = now

    def broke(self, now: float, why: str) -> None:
        self.up_since = None
        self.last_error = why
        if self.down_since is None:
            self.down_since = now


class UpstreamPool:
    """Upstreams in priority order. ``offline`` makes it refuse every call: offline mode is
    an upstream that says no, not a branch in every caller."""

    def __init__(
        self,
        clients: list[HubClient],
        offline: bool = False,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` times breakers and rests; ``wall_clock`` dates what the pages show."""
        if not clients:
            raise ValueError("at least one upstream is required")
        self.clients = clients
        self.offline = offline
        self.clock = clock
        self.wall_clock = wall_clock
        self.breakers = {c.name: Breaker() for c in clients}
        self.stats = {c.name: UpstreamStats() for c in clients}
        self._resting: dict[str, float] = {}  # upstream → until when it asked us to wait (429)
        self._probes: dict[str, asyncio.Task] = {}  # upstream → its running reachability probe

    def set_offline(self, offline: bool) -> None:
        """Stop (or resume) calling upstream: the admin's switch of offline mode."""
        self.offline = offline

    def record_bytes(self, client: HubClient, count: int) -> None:
        self.stats[client.name].body_bytes += count

    def record_latency(self, client: HubClient, seconds: float) -> None:
        """Time until ``client`` answered with headers (or failed), for ``/metrics``."""
        self.stats[client.name].observe(seconds)

    def candidates(self) -> list[HubClient]:
        """Upstreams to try now: breaker closed (or half-open), not resting after a 429.

        An upstream that could not be reached at all is probed in the background once its
        cooldown is over, and stays out until the probe reaches it: a client never waits
        the connect (or answer) timeout to learn what the last failure already said.
        """
        if self.offline:
            return []
        now = self.clock()
        found = []
        for c in self.clients:
            breaker = self.breakers[c.name]
            if not breaker.may_call() or self._resting.get(c.name, 0.0) > now:
                continue
            if isinstance(breaker.last_failure, UpstreamUnreachable):
                self._probe(c)
                continue
            found.append(c)
        return found

    def _probe(self, client: HubClient) -> None:
        """Ask ``client`` in the background whether it can be reached again (one at a time)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # asked outside the server's loop: nothing to probe with
            return
        if client.name in self._probes:
            return
        task = loop.create_task(self._run_probe(client))
        self._probes[client.name] = task
        task.add_done_callback(lambda _: self._probes.pop(client.name, None))

    async def close(self) -> None:
        """Stop the background probes still waiting on an upstream."""
        probes = list(self._probes.values())
        for probe in probes:
            probe.cancel()
        await asyncio.gather(*probes, return_exceptions=True)

    async def _run_probe(self, client: HubClient) -> None:
        started = self.clock()
        try:
            await client.reachable()
        except UpstreamUnavailable as exc:
            self.failed(client, exc)
            return
        finally:
            self.record_latency(client, self.clock() - started)
        log.info("upstream %s is reachable again", client.name)
        self.succeeded(client)

    def rest(self, client: HubClient, seconds: float) -> None:
        """Honour a 429: do not ask this upstream again for ``seconds``."""
        self._resting[client.name] = self.clock() + seconds

    def pick(self, attempt: int) -> HubClient:
        """An upstream for the ``attempt``-th try of a transfer: rotate through candidates,
        probing all when every breaker is open; never any when offline."""
        if self.offline:
            raise self.unavailable()
        candidates = self.candidates() or self.clients
        return candidates[attempt % len(candidates)]

    def unavailable(self) -> UpstreamUnavailable:
        """Why no upstream is asked now, in words a client's user can act on."""
        if self.offline:
            return MirrorOffline.lacking("this")
        now = self.clock()
        waits = [until - now for until in self._resting.values() if until > now]
        if waits:
            return UpstreamRateLimited(
                "upstream asked us to slow down", retry_after=max(1, round(min(waits)))
            )
        causes = [b.last_failure for b in self.breakers.values()]
        said = "; ".join(_worded(name, c) for name, c in zip(self.breakers, causes, strict=True))
        if causes and all(isinstance(c, UpstreamUnreachable) for c in causes):
            upstreams = "its upstream" if len(causes) == 1 else "any of its upstreams"
            silent = all(isinstance(c, UpstreamSilent) for c in causes)  # a 504, as it was
            return (UpstreamSilent if silent else UpstreamUnreachable)(
                f"this mirror cannot reach {upstreams}: {said}", retry_after=UNREACHABLE_RETRY_AFTER
            )
        return UpstreamUnavailable(
            f"every upstream is failing ({said}); retried in {BREAKER_RETRY_AFTER} s",
            retry_after=BREAKER_RETRY_AFTER,
        )

    async def call(self, action: Callable[[HubClient], Awaitable[T]]) -> T:
        """Run ``action`` on the first upstream that answers; raise the last outage otherwise.

        A round that failed on 5xx or broken connections is tried once more after a short
        pause: a flapping upstream then still answers. Timeouts and 429s are not retried:
        the first would double the caller's wait, the second would hammer. Nor is an
        outage a mirror upstream relayed: it has already retried its own upstreams.
        """
        last: UpstreamUnavailable | None = None
        for round_number in range(ROUNDS):
            if round_number:
                await asyncio.sleep(ROUND_PAUSE)
            candidates = self.candidates()
            if not candidates:
                raise self.unavailable()
            try:
                return await self._round(candidates, action)
            except (UpstreamTimeout, UpstreamRateLimited, RelayedOutage, RelayedOffline):
                raise
            except UpstreamUnavailable as exc:
                last = exc
        assert last is not None
        raise last

    async def _round(
        self, candidates: list[HubClient], action: Callable[[HubClient], Awaitable[T]]
    ) -> T:
        last: UpstreamUnavailable | None = None
        for client in candidates:
            started = self.clock()
            try:
                result = await action(client)
            except UpstreamRateLimited as exc:
                self.rest(client, exc.retry_after or DEFAULT_REST)
                last = exc
                continue
            except UpstreamUnavailable as exc:
                self.failed(client, exc)
                last = exc
                continue
            except HubMirrorError:
                self.succeeded(client)  # a refusal is an answer: the upstream is healthy
                raise
            finally:
                self.record_latency(client, self.clock() - started)
            self.succeeded(client)
            return result
        assert last is not None
        raise last

    def succeeded(self, client: HubClient) -> None:
        stats = self.stats[client.name]
        stats.requests += 1
        stats.answered(self.wall_clock())
        self.breakers[client.name].record_success()

    def failed(self, client: HubClient, exc: UpstreamUnavailable, *, logged: bool = True) -> None:
        """``logged=False``: the caller says it in its own words (the start probe)."""
        if isinstance(exc, RelayedOutage | RelayedOffline):
            self.succeeded(client)  # a mirror upstream answered: what is behind it failed
            return
        if logged:
            log.warning("upstream %s failed: %s", client.name, exc)
        stats = self.stats[client.name]
        stats.requests += 1
        stats.failures += 1
        stats.broke(self.wall_clock(), str(exc))
        self.breakers[client.name].record_failure(exc)


def _worded(name: str, cause: UpstreamUnavailable | None) -> str:
    """One upstream's failure, its host named once (an unreachable one names it already)."""
    if isinstance(cause, UpstreamUnreachable):
        return str(cause)
    return f"{name}: {cause or 'failing'}"
