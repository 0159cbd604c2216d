"""Per-client limits: request rate, and uncached files being fetched at once.

A client is its address as the server sees it (the TCP peer). Behind a reverse
proxy every client shares the proxy's address: limit there instead, or raise
these. Pure bookkeeping with an injected clock, so tests need no sleeping; the
server asks before it works and answers 429 with ``Retry-After`` when refused.
State stays bounded: buckets of the least recently seen addresses are dropped
(they would be full again anyway), fill counts vanish when they reach zero.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

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


class FillLimiter:
    """How many uncached files each address is having fetched (started or joined) at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._active: dict[str, int] = {}

    def active(self, address: str) -> int:
        return self._active.get(address, 0)

    @contextlib.contextmanager
    def slot(self, address: str) -> Iterator[None]:
        """Hold one of ``address``'s slots for as long as its download runs."""
        count = self._active.get(address, 0)
        if count >= self.limit:
            raise TooManyRequests(
                f"Too many uncached files requested by {address} at once: this mirror "
                f"fetches at most {self.limit} per client. Retry when some have finished.",
                retry_after=FILL_RETRY_AFTER,
            )
        self._active[address] = count + 1
        try:
            yield
        finally:
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

    def fill_slot(self, address: str) -> contextlib.AbstractContextManager[None]:
        if self.fills is None:
            return contextlib.nullcontext()
        return self.fills.slot(address)


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
