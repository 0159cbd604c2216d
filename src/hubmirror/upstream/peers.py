"""``PeerClient``: reads the bytes of a fill that another node of the cluster is running.

When node A fills a blob, node B's clients need not wait for the whole file nor
make a second upstream transfer: B reads A's fill as it grows, through A's
``/_node/fills/<key>`` route, with the same ranged requests a fill makes upstream.
Requests are signed with the cluster secret (``hub.nodeauth``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable

import aiohttp

from hubmirror.errors import UpstreamUnavailable
from hubmirror.hub.nodeauth import sign

FILL_ROUTE = "/_node/fills/"


class PeerNotFilling(UpstreamUnavailable):
    """The peer neither fills nor stores this blob (any more): look where it went."""


class PeerRefused(UpstreamUnavailable):
    """The peer refused our signature: a configuration error, not worth retrying."""


def create_peer_session(timeout: float) -> aiohttp.ClientSession:
    """A session for node-to-node reads: no proxy from the environment, big buffers."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=256, limit_per_host=64),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout),
        read_bufsize=1024 * 1024,
        trust_env=False,
    )


class PeerClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        node: str,
        secret: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.session = session
        self.node = node
        self.secret = secret
        self.clock = clock

    @contextlib.asynccontextmanager
    async def open_fill(
        self, address: str, key: str, start: int, end: int
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """The peer's bytes ``start..end`` (inclusive) of the blob ``key``, as they come."""
        path = FILL_ROUTE + key
        headers = sign(self.secret, self.node, "GET", path, self.clock())
        headers["Range"] = f"bytes={start}-{end}"
        async with self.session.get(address.rstrip("/") + path, headers=headers) as resp:
            if resp.status == 404:
                raise PeerNotFilling(f"node {address} has no fill of {key}")
            if resp.status in (401, 403):
                raise PeerRefused(
                    f"node {address} refused our signature: give every node the same "
                    "node_secret (or leave it unset on all of them)"
                )
            if resp.status != 206:
                raise UpstreamUnavailable(f"node {address} answered {resp.status} for {key}")
            yield resp
