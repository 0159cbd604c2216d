"""One cheap question to every upstream at start: does it answer, how fast, and if not, why.

``serve`` asks before it listens, all upstreams at once and each for at most a few
seconds, so its start line and ``/readyz`` tell the truth from the first request,
and a refused connection or an unknown host is known within milliseconds. The
answer goes into the pool's own bookkeeping (``succeeded``/``failed``), as any
request's would: a probe is no separate truth. A mirror that cannot reach its
upstream still starts: it serves what it holds.
"""

from __future__ import annotations

import asyncio

from hubmirror.errors import UpstreamSilent, UpstreamUnavailable
from hubmirror.upstream.client import HubClient
from hubmirror.upstream.pool import UpstreamPool
from hubmirror.upstream.transport import UNREACHABLE_RETRY_AFTER

PROBE_TIMEOUT = 3.0  # seconds: an upstream slower than this to say anything counts as failing


async def probe_upstreams(pool: UpstreamPool, timeout: float = PROBE_TIMEOUT) -> None:
    """Ask each upstream once, at the same time; nothing when the mirror is offline."""
    if pool.offline:
        return
    await asyncio.gather(*(_probe(pool, client, timeout) for client in pool.clients))


async def _probe(pool: UpstreamPool, client: HubClient, timeout: float) -> None:
    started = pool.clock()
    try:
        async with asyncio.timeout(timeout):
            await client.reachable()
    except UpstreamUnavailable as exc:  # refused, unknown host, TLS, ...
        pool.failed(client, exc, logged=False)  # serve says it, once, in its start lines
        return
    except TimeoutError:
        silent = UpstreamSilent(
            f"upstream {client.name} did not answer within {timeout:g} s",
            retry_after=UNREACHABLE_RETRY_AFTER,
        )
        pool.failed(client, silent, logged=False)
        return
    pool.record_latency(client, pool.clock() - started)
    pool.succeeded(client)
