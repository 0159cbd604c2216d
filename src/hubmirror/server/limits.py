"""Per-client limits: request rate, and uncached files being fetched at once.

A client is its address as the server sees it (the TCP peer). Behind a reverse
proxy every client shares the proxy's address: limit there instead, or raise
these. Pure bookkeeping with an injected clock, so tests need no sleeping; the
server asks before it works and answers 429 with ``Retry-After`` when refused.
State stays bounded: buckets of the least recently seen addresses are dropped
(they would be full again anyway), fill counts vanish when they reach zero.
"""

from __future__ import annotations

import functools
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hubmirror.errors import TooManyRequests

MAX_ADDRESSES = 65536  # token buckets kept; the oldest go first
FILL_RETRY_AFTER = 5  # seconds: a fill of a typical file takes about that long


class RateLimiter:
    """A token bucket per address: ``burst`` requests at once, refilled at ``rate`` per second."""

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = MAX_ADDRESSES,
    ) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.clock = clock
        self.max_addresses = max_addresses
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, when

    def wait(self, address: str) -> float:
        """Take one token for ``address``: 0 when allowed, else seconds until one is back."""
        now = self.clock()
        tokens, then = self._buckets.pop(address, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        waiting = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            waiting = (1 - tokens) / self.rate
        self._buckets[address] = (tokens, now)  # re-inserted: now the most recent
        if len(self._buckets) > self.max_addresses:
            self._buckets.popitem(last=False)
        return waiting

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

    def __len__(self) -> int:
        return len(self._buckets)


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

    Counts are per process; a node-wide count would replace ``_active`` behind
    ``claim`` and ``_release``.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._active: dict[str, int] = {}

    def active(self, address: str) -> int:
        return self._active.get(address, 0)

    def claim(self, address: str, fill: Ending) -> None:
        """Count ``fill``, about to start for ``address``, until it ends; or refuse it."""
        count = self._active.get(address, 0)
        if count >= self.limit:
            raise TooManyRequests(
                f"Too many uncached files requested by {address} at once: this mirror "
                f"fetches at most {self.limit} per client (each until it is stored, also "
                "after its request has gone). Retry when some have finished.",
                retry_after=FILL_RETRY_AFTER,
            )
        self._active[address] = count + 1
        fill.on_end(lambda: self._release(address))

    def _release(self, address: str) -> None:
        left = self._active[address] - 1
        if left:
            self._active[address] = left
        else:
            del self._active[address]

    def __len__(self) -> int:
        return len(self._active)


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
) -> ClientLimits:
    """Limits from the settings' numbers (``max_fills_per_client``, ``rate_limit``,
    ``rate_burst``); 0 switches one off."""
    return ClientLimits(
        rate=RateLimiter(rate, burst, clock) if rate > 0 else None,
        fills=FillLimiter(max_fills) if max_fills > 0 else None,
    )
