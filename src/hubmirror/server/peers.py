"""``GET /_node/fills/<key>``: another node of the cluster reads this node's fill of a blob.

Answered only to requests signed with the cluster secret (``hub.nodeauth``): the
bytes may belong to a gated or private repo. A running fill is streamed as it
grows, with the same held-back last byte as for clients, so a fill that fails
verification aborts the other node's read too; a blob this node has stored is
sent from disk. Anything else is a 404: the other node then asks the index where
the blob went.
"""

from __future__ import annotations

import os
import re

from aiohttp import web

from hubmirror.errors import InvalidInput, NoSuchRoute
from hubmirror.server import responses
from hubmirror.server.context import mirror_of
from hubmirror.server.ranges import parse_range
from hubmirror.upstream.peers import FILL_ROUTE

_KEY = re.compile(r"[0-9a-f]{64}|git-[0-9a-f]{40}")


def is_node_route(raw_path: str) -> bool:
    return raw_path.startswith(FILL_ROUTE)


async def handle_node_fill(request: web.BaseRequest) -> web.StreamResponse:
    mirror = mirror_of(request)
    path = request.raw_path.split("?", 1)[0]
    mirror.check_node_request(request.headers, request.method, path)
    key = path[len(FILL_ROUTE) :]
    if not _KEY.fullmatch(key):
        raise InvalidInput(f"not a blob key: {key!r}")
    range_spec = parse_range(request.headers.get("Range"))
    fill = mirror.node_fill(key)
    if fill is not None:
        start, end = range_spec.span(fill.size) if range_spec else (0, fill.size - 1)
        resp = await responses.start(request, {}, fill.size, (start, end))
        with mirror.reading(key):
            await responses.send_fill(request, resp, fill, start, end)
        return resp
    return await _send_local(request, key, range_spec)


async def _send_local(request: web.BaseRequest, key: str, range_spec) -> web.StreamResponse:
    """The blob from this node's disk, if it is there."""
    path, size = mirror_of(request).node_blob(key) or (None, 0)
    try:
        fd = os.open(path, os.O_RDONLY) if path else None
    except FileNotFoundError:
        fd = None
    if fd is None:
        raise NoSuchRoute(f"no fill of {key} on this node")
    try:
        start, end = range_spec.span(size) if range_spec else (0, size - 1)
        resp = await responses.start(request, {}, size, (start, end))
        await responses.send_file(resp, fd, start, end)
    finally:
        os.close(fd)
    return resp
