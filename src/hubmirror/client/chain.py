"""Mirrors in order of preference, with failover on outages only.

Each request (the revision, the listing, each file) goes to the first endpoint that is not
known to be failing; an outage (``UpstreamUnavailable``: refused, reset, timeout, 5xx, 429)
marks that endpoint as failing and sends the request on to the next one. A refusal
(``HubRefusal``: 401/403/404) is the Hub's answer and would be the same everywhere, so it
is raised at once. A failing endpoint is still tried last, and is trusted again as soon
as it answers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TypeVar

from hubmirror.client.errors import NoMirrorAnswered
from hubmirror.errors import UpstreamUnavailable

T = TypeVar("T")


class Endpoints:
    def __init__(self, urls: list[str], note: Callable[[str], None] = lambda message: None):
        if not urls:
            raise ValueError("no endpoint to download from")
        self.urls = list(dict.fromkeys(urls))
        self.served: Counter[str] = Counter()  # body bytes each endpoint delivered
        self._failing: set[str] = set()
        self._note = note

    def order(self) -> list[str]:
        """Healthy endpoints first, in the configured order; failing ones after them."""
        return sorted(self.urls, key=lambda url: url in self._failing)

    async def call(self, what: str, attempt: Callable[[str], Awaitable[T]]) -> T:
        """``await attempt(endpoint)`` on each endpoint in turn until one does not fail."""
        failures: list[tuple[str, str]] = []
        order = self.order()
        for index, url in enumerate(order):
            try:
                result = await attempt(url)
            except UpstreamUnavailable as exc:
                self._failing.add(url)
                failures.append((url, exc.message))
                if index + 1 < len(order):
                    self._note(f"{what}: {exc.message}; trying {order[index + 1]}")
                continue
            self._failing.discard(url)
            return result
        raise NoMirrorAnswered(what, failures)

    def record(self, url: str, nbytes: int) -> None:
        self.served[url] += nbytes
