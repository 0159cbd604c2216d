"""Writing file bodies: Range, HEAD, gzip, and the body faults (bandwidth, drop).

Both the hub (regular files) and the CDN (LFS objects) answer through `send_blob`, so both
honour Range exactly and both suffer the same faults. Every byte handed to the transport is
counted on the request's log entry, which is how tests prove "0 upstream body bytes".
"""

import asyncio
import gzip
from collections.abc import Iterator

from aiohttp import web

from tests.fakehub.access import HubError
from tests.fakehub.appkeys import ENTRY, HUB
from tests.fakehub.blobs import Blob
from tests.fakehub.ranges import plan_range

WRITE_CHUNK = 256 * 1024
PACED_WRITES_PER_SECOND = 20


def accepts_gzip(request: web.Request) -> bool:
    return "gzip" in request.headers.get("Accept-Encoding", "")


async def send_blob(
    request: web.Request, blob: Blob, headers: dict[str, str], *, may_gzip: bool
) -> web.StreamResponse:
    """Answer with the blob (or the asked range of it), streaming from memory or disk."""
    plan = plan_range(request.headers.get("Range"), blob.size)
    if plan.status == 416:
        kept = {k: v for k, v in headers.items() if k in ("X-Repo-Commit", "ETag", "Accept-Ranges")}
        kept["Content-Range"] = plan.content_range()
        raise HubError(416, None, "Requested Range Not Satisfiable", kept)
    faults = request.app[HUB].faults
    squeezed = None
    if may_gzip and faults.gzip and plan.status == 200 and accepts_gzip(request):
        squeezed = gzip.compress(blob.read(), mtime=0)
        headers = {**headers, "Content-Encoding": "gzip"}
    response = web.StreamResponse(status=plan.status, headers=headers)
    response.content_length = plan.length if squeezed is None else len(squeezed)
    if plan.status == 206:
        response.headers["Content-Range"] = plan.content_range()
    request[ENTRY].status = plan.status
    await response.prepare(request)
    if request.method != "HEAD":
        chunks = iter([squeezed]) if squeezed is not None else blob.chunks(plan.start, plan.end)
        await write_body(request, response, chunks)
    return response


async def write_body(request: web.Request, response: web.StreamResponse, chunks: Iterator[bytes]):
    """Write chunks, pacing to `bandwidth` and cutting the connection at `drop_after`."""
    faults = request.app[HUB].faults
    entry = request[ENTRY]
    cut = faults.take_drop(response.content_length)
    try:
        for piece in _pieces(chunks, faults):
            if cut is not None and entry.body_bytes + len(piece) >= cut:
                await _write(response, piece[: cut - entry.body_bytes], entry)
                _drop(request)
                return
            await _write(response, piece, entry)
            if faults.bandwidth:
                await asyncio.sleep(len(piece) / faults.bandwidth)
    except ConnectionError:
        return  # the client went away; what was counted is what was sent


def _pieces(chunks: Iterator[bytes], faults) -> Iterator[bytes]:
    """Re-cut chunks so a bandwidth cap is paced in small steps (about 20 per second)."""
    for chunk in chunks:
        size = WRITE_CHUNK
        if faults.bandwidth:
            size = max(1, min(WRITE_CHUNK, faults.bandwidth // PACED_WRITES_PER_SECOND))
        for start in range(0, len(chunk), size):
            yield chunk[start : start + size]


async def _write(response: web.StreamResponse, piece: bytes, entry) -> None:
    entry.body_bytes += len(piece)
    try:
        await response.write(piece)
    except ConnectionError:
        entry.body_bytes -= len(piece)
        raise


def _drop(request: web.Request) -> None:
    """End the TCP connection mid-body; close() first flushes what was written, so the
    peer sees exactly `drop_after` bytes and then a connection that ends too early."""
    if request.transport is not None:
        request.transport.close()
