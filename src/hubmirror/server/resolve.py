"""HEAD/GET ``/{T}{repo}/resolve/{rev}/{path}``: the mirror's plan, carried out over HTTP.

The request is parsed (a bad Range refused before any I/O), the mirror decides what to
send (``Mirror.resolve``: a ``ResolvePlan``), and this module writes it: the headers,
then the bytes from memory, the stored file, the object store, the blob's fill, or a
direct ranged read. A stored file deleted behind the mirror's back is filled again.
A fill's answer waits for its bytes to flow before the status line, so a fill that
stops first (an upstream outage) answers with its error, never a 200 cut short.
"""

from __future__ import annotations

import os

from aiohttp import web

from hubmirror.errors import InvalidInput
from hubmirror.hub.routes import Resolve
from hubmirror.mirror.service import Mirror, ResolveAsk, ResolvePlan, Send
from hubmirror.server import responses
from hubmirror.server.context import base_url, caller_of, limits_of, mirror_of
from hubmirror.server.ranges import parse_range


async def handle_resolve(request: web.Request, route: Resolve) -> web.StreamResponse:
    range_spec = parse_range(request.headers.get("Range"))  # bad input: refuse before any I/O
    mirror = mirror_of(request)
    caller = caller_of(request)
    ask = ResolveAsk(
        route.file, request.method, range_spec, caller, limits_of(request), lambda: _origin(request)
    )
    plan = mirror.resolve_fresh(ask) or await mirror.resolve(ask)
    if plan.send is Send.HEADERS:  # metadata only: one write
        return web.Response(headers=plan.headers)
    if plan.send is Send.MEMORY or plan.send is Send.FILE:
        try:
            return await _send_stored(request, mirror, plan)
        except FileNotFoundError:
            plan = mirror.refill(ask, plan)  # deleted behind our back: fill it again
    if plan.send is Send.FILL:
        with mirror.sending(plan):
            await plan.fill.ready(plan.first, plan.last)  # in an outage: a 503, not a cut body
            resp = await responses.start(request, plan.headers, plan.size, plan.span)
            await responses.send_fill(request, resp, plan.fill, plan.first, plan.last)
        return resp
    return await _relay(request, mirror, ask, plan)


def _origin(request: web.Request) -> str | None:
    """Where clients reach the mirror, for the Xet Links; ``None`` for a Host no Link may
    name (a misconfigured proxy): the file is then served plain."""
    try:
        return base_url(request)
    except InvalidInput:
        return None


async def _send_stored(request: web.Request, mirror: Mirror, plan: ResolvePlan) -> web.Response:
    """A HIT: small blobs from memory, large ones from disk without blocking the loop."""
    if plan.send is Send.MEMORY:
        body = mirror.stored_body(plan)
        headers = plan.headers
        if plan.span:
            headers = headers | {"Content-Range": f"bytes {plan.first}-{plan.last}/{plan.size}"}
        return web.Response(
            status=plan.status, body=body[plan.first : plan.last + 1], headers=headers
        )
    with mirror.sending(plan):
        fd = os.open(plan.path, os.O_RDONLY)  # before the headers: a missing file refills
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)  # larger kernel readahead
        try:
            resp = await responses.start(request, plan.headers, plan.size, plan.span)
            await responses.send_file(resp, fd, plan.first, plan.last)
        finally:
            os.close(fd)
    return resp


async def _relay(
    request: web.Request, mirror: Mirror, ask: ResolveAsk, plan: ResolvePlan
) -> web.StreamResponse:
    """Bytes relayed as they come (from the object store when it holds the blob, else
    upstream), not kept: a 206 for a client's Range, else the whole file."""
    if plan.send is Send.EMPTY:  # an empty file: nothing to read anywhere
        resp = await responses.start(request, plan.headers, 0, None)
        await resp.write_eof()
        return resp
    async with mirror.relay(ask, plan) as chunks:
        resp = await responses.start(request, plan.headers, plan.size, plan.span)
        await responses.send_upstream(resp, chunks, plan.last - plan.first + 1)
    return resp
