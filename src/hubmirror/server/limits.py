"""Per-client limits: request rate, and uncached files being fetched at once.

A client is its address as the server sees it (the TCP peer). Behind a reverse
proxy every client shares the proxy's address: limit there instead, or raise
these. The counts are the node's (``ClientCounts``, in memory shared by all the
workers of ``--workers N``), so a client gets the same limits whichever worker its
connections reach and however many workers there are. Pure bookkeeping with an
injected clock, so tests need no sleeping; the server asks before it works and
answers 429 with ``Retry-After`` when refused.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hubmirror.clientcounts import ClientCounts
from hubmirror.errors import TooManyRequests

FILL_RETRY_AFTER = 5  # seconds: a fill of a typical file takes about that long


class RateLimiter:
    """A token bucket per address: ``burst`` requests at once, refilled at ``rate`` per second."""

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,  # one clock for all processes of a host
        counts: ClientCounts | None = None,
    ) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.clock = clock
        self.counts = counts or ClientCounts()
        self._interval = 1.0 / rate

    def wait(self, address: str) -> float:
        """Take one token for ``address``: 0 when allowed, else seconds until one is back."""
        counts = self.counts
        return counts.take(counts.slot(address), self.clock(), self._interval, self.burst)

    def check(self, address: str) -> None:
        """Raise ``TooManyRequests`` when ``address`` has no token left."""
        waiting = self.wait(address)
        if waiting:
            seconds = max(1, math.ceil(waiting))
            raise TooManyRequests(
                f"Too many requests from {address}: this mirror allows {self.rate:g} per "
                f"second (bursts of {self.burst}). Retry in {seconds} s.",
                retry_after=seconds,
            )


class Ending(Protocol):
    """A fill as the limiter sees it: something that tells when it has ended."""

    def on_end(self, callback: Callable[[], None]) -> None: ...


class FillLimiter:
    """How many fills each address started that have not ended yet.

    A fill is counted against the client whose request started it, from its start
    until it ends (stored, failed or cancelled), not only while that request lasts:
    a fill goes on after its client leaves, so a client reading one byte of many cold
    files would otherwise have the mirror fetch all of them. Such a client is held to
    ``limit`` files in flight, and may start more as those end. Fills nobody reads
    any more are not paused: the bytes are the cache, and the count already bounds
    them. Joining a running fill (someone else's, or one read along from another
    process) fetches nothing new and is never counted or refused.

    Counted for the node: a fill any worker runs for the address counts, and the
    fills of a worker that died are released when the parent sees it die.
    """

    def __init__(self, limit: int, counts: ClientCounts | None = None) -> None:
        self.limit = limit
        self.counts = counts or ClientCounts()

    def active(self, address: str) -> int:
        return self.counts.in_flight(self.counts.slot(address))

    def claim(self, address: str, fill: Ending) -> None:
        """Count ``fill``, about to start for ``address``, until it ends; or refuse it."""
        slot = self.counts.slot(address)
        if not self.counts.claim(slot, self.limit):
            raise TooManyRequests(
                f"Too many uncached files requested by {address} at once: this mirror "
                f"fetches at most {self.limit} per client (each until it is stored, also "
                "after its request has gone). Retry when some have finished.",
                retry_after=FILL_RETRY_AFTER,
            )
        fill.on_end(functools.partial(self.counts.release, slot))


@dataclass(frozen=True)
class ClientLimits:
    """The limits a server applies; ``None`` is "no limit" and costs one comparison."""

    rate: RateLimiter | None = None
    fills: FillLimiter | None = None

    def fill_claim(self, address: str) -> Callable[[Ending], None] | None:
        """For ``Mirror.resolve``: counts a fill the request starts against ``address``
        (or refuses it), ``None`` without a limit. The Xet CAS passes the token holder's."""
        if self.fills is None:
            return None
        return functools.partial(self.fills.claim, address)


NO_LIMITS = ClientLimits()


def client_limits(
    max_fills: int = 0,
    rate: float = 0.0,
    burst: int = 1,
    clock: Callable[[], float] = time.monotonic,
    counts: ClientCounts | None = None,
) -> ClientLimits:
    """Limits from the settings' numbers (``max_fills_per_client``, ``rate_limit``,
    ``rate_burst``); 0 switches one off. ``counts`` are the node's, shared with the other
    workers; without them (a single process) this process makes its own."""
    if counts is None and (rate > 0 or max_fills > 0):
        counts = ClientCounts()
    return ClientLimits(
        rate=RateLimiter(rate, burst, clock, counts) if rate > 0 else None,
        fills=FillLimiter(max_fills, counts) if max_fills > 0 else None,
    )
