"""HEAD/GET ``/{T}{repo}/resolve/{rev}/{path}``: metadata headers and inline bodies.

A HEAD is answered from metadata alone and never waits for a body. A GET is
served from the stored blob (HIT) or from the blob's one fill (MISS); a Range
far ahead of a running fill is read from upstream directly while the fill goes on.
"""

from __future__ import annotations

import os

from aiohttp import web

from hubmirror.errors import InvalidInput, TooManyRequests
from hubmirror.hub.headers import X_CACHE_STATUS, CacheStatus, xet_headers
from hubmirror.hub.routes import Resolve
from hubmirror.mirror.xetannounce import checked_by
from hubmirror.server import responses
from hubmirror.server.context import base_url, caller_of, limits_of, mirror_of
from hubmirror.server.ranges import parse_range

# A Range starting this far past what its fill segment has written is read from upstream
# directly, so a parquet footer read never waits for most of a large file.
DIRECT_RANGE_AHEAD = 8 * 1024 * 1024


async def handle_resolve(request: web.Request, route: Resolve) -> web.StreamResponse:
    range_spec = parse_range(request.headers.get("Range"))  # bad input: refuse before any I/O
    mirror = mirror_of(request)
    caller = caller_of(request)
    mirror.admit(caller, route.repo)
    auth = caller.upstream_auth
    answer = mirror.fresh_file(route.file, auth) or await mirror.file(route.file, auth)
    xet = _xet_headers(request, answer)
    if request.method == "HEAD":  # metadata only: one write, Content-Length the real size
        return web.Response(headers=answer.head_headers | xet if xet else answer.head_headers)
    headers = answer.headers | xet if xet else answer.headers
    size = answer.entry.size
    span = range_spec.span(size) if range_spec else None
    start, end = span if span else (0, size - 1)
    if answer.blob_path is not None:
        try:
            return await _send_stored(request, answer, headers, span)
        except FileNotFoundError:
            answer = mirror.without_blob(answer)  # deleted behind our back: refill
            headers = answer.headers | xet if xet else answer.headers
    if answer.blob is not None and mirror.streams_from_store:
        mirror.touch(answer.blob)
        return await _direct_range(request, answer, auth, headers, (start, end), span)
    claim = limits_of(request).fill_claim(caller.address)  # a new fill counts until it ends
    fill = mirror.start_fill(answer, auth, claim)
    if span and fill.distance_ahead(start) > DIRECT_RANGE_AHEAD:
        headers = headers | {X_CACHE_STATUS: str(CacheStatus.MISS)}
        return await _direct_range(request, answer, auth, headers, span, span)
    resp = await responses.start(request, headers, size, span)
    with mirror.reading(fill.key):  # the quota leaves a blob alone while it is sent
        await responses.send_fill(request, resp, fill, start, end)
    return resp


def _xet_headers(request: web.Request, answer) -> dict[str, str] | None:
    """``X-Xet-Hash`` and its ``Link``s, with xet_serve on and the blob's hash computed, or
    for a cold file upstream's hash while the fill this request starts or joins checks it
    (a Xet client sends no GET: its HEAD starts the fill its xorb reads then follow).

    As on the Hub, only LFS files: a small git file is one GET, cheaper than Xet's three
    requests. A Host the Links cannot name (a misconfigured proxy) gets the file plain.
    """
    mirror = mirror_of(request)
    if not answer.entry.lfs or not mirror.xet.enabled:
        return None
    try:
        base = base_url(request)
    except InvalidInput:
        return None
    xet_hash = mirror.xet_hash(answer.blob)
    announced = None if xet_hash else mirror.announced.cold_hash(answer.entry, answer.blob)
    if announced is not None:
        caller = caller_of(request)
        try:
            claim = limits_of(request).fill_claim(caller.address)
            fill = mirror.start_fill(answer, caller.upstream_auth, claim)
        except TooManyRequests:  # no Xet then: a GET gets the 429 it always got
            return None
        xet_hash = checked_by(fill, announced)
    if xet_hash is None:
        return None
    return xet_headers(base, answer.repo, answer.commit, xet_hash)


async def _send_stored(request, answer, headers, span) -> web.StreamResponse:
    """A HIT: small blobs from memory, large ones from disk without blocking the loop."""
    mirror = mirror_of(request)
    mirror.touch(answer.blob)
    size = answer.entry.size
    start, end = span if span else (0, size - 1)
    small = mirror.small_body(answer)
    if small is not None:
        status = 206 if span else 200
        if span:
            headers = headers | {"Content-Range": f"bytes {start}-{end}/{size}"}
        return web.Response(status=status, body=small[start : end + 1], headers=headers)
    with mirror.reading(answer.blob.sha256):  # the quota leaves a blob alone while it is sent
        fd = os.open(answer.blob_path, os.O_RDONLY)  # before the headers: a missing file refills
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)  # larger kernel readahead
        try:
            resp = await responses.start(request, headers, size, span)
            await responses.send_file(resp, fd, start, end)
        finally:
            os.close(fd)
    return resp


async def _direct_range(request, answer, auth, headers, wanted, span) -> web.StreamResponse:
    """Bytes ``wanted`` relayed as they come (from the object store when it holds the blob,
    else upstream), not kept: a 206 for a client ``span``, else the whole file."""
    if wanted[1] < wanted[0]:  # an empty file: nothing to read anywhere
        resp = await responses.start(request, headers, 0, None)
        await resp.write_eof()
        return resp
    async with mirror_of(request).upstream_range(answer, auth, *wanted) as chunks:
        resp = await responses.start(request, headers, answer.entry.size, span)
        await responses.send_upstream(resp, chunks, wanted[1] - wanted[0] + 1)
    return resp
