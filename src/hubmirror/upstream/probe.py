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

from hubmirror.errors import (
    HubMirrorError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from hubmirror.upstream.client import HubClient
from hubmirror.upstream.pool import UpstreamPool

PROBE_PATH = "/api/whoami-v2"  # answered at once by the Hub (401 without a token) and mirrors
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
            await client.get_json(PROBE_PATH, None)
    except UpstreamRateLimited:
        pass  # it answered: busy, not unreachable
    except UpstreamUnavailable as exc:  # refused, unknown host, TLS, 5xx, ...
        pool.failed(client, exc, logged=False)  # serve says it, once, in its start lines
        return
    except TimeoutError:
        slow = UpstreamTimeout(f"{client.name} did not answer within {timeout:g} s")
        pool.failed(client, slow, logged=False)
        return
    except HubMirrorError:
        pass  # a refusal or "not found" is an answer: the upstream is there
    pool.record_latency(client, pool.clock() - started)
    pool.succeeded(client)
