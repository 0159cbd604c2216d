"""Xet for clients: the token route and the ``/xet-cas/...`` CAS routes, parsed and written.

``GET /api/{t}/{repo}/xet-read-token/{rev}`` hands out the mirror's own token (signed with
its Xet secret, good for one repo, never the caller's Hub token) and ``casUrl`` =
``{base_url}/xet-cas``; huggingface_hub reads them from the headers, hf_xet refreshes from
the JSON body. Reconstructions need the token; xorb fetches carry none, so their signed URL
names the token's holder. Every request takes the access decision ``/resolve/`` would take
now. hf_xet releases before 1.3 ask for reconstructions under older paths
(``/reconstruction/{hash}`` up to 1.1.9, ``/reconstructions/{hash}`` up to 1.2.0) and read
the v1 answer: they get it there. Policy lives in ``XetServing`` (mirror/xet/serving.py);
this module parses requests and writes bytes. Answered only with ``xet_serve``.
"""

from __future__ import annotations

import json
import re
import secrets

from aiohttp import web

from hubmirror.errors import InvalidInput, NoSuchRoute, RangeNotSatisfiable
from hubmirror.hub.headers import (
    X_CACHE_STATUS,
    X_XET_ACCESS_TOKEN,
    X_XET_CAS_URL,
    X_XET_TOKEN_EXPIRATION,
    XET_CAS_PREFIX,
    XET_READ_TOKEN,
    CacheStatus,
)
from hubmirror.hub.routes import RepoApi, Route, split_raw_path
from hubmirror.mirror.service import CasRequest, XorbRead
from hubmirror.server.api import handle_api
from hubmirror.server.context import (
    address_of,
    base_url,
    body_within_timeout,
    caller_of,
    limits_of,
    mirror_of,
)
from hubmirror.server.ranges import parse_range, position
from hubmirror.server.responses import BODY_STARTED
from hubmirror.types import Revision

CAS_ROOT = "xet-cas"
TELEMETRY_MAX = 1024 * 1024  # bytes of a telemetry report read (and dropped); more is refused
MAX_RANGES = 1024  # ranges in one xorb fetch; clients send one per term (HF: at most ~500)
_OCTETS = "application/octet-stream"
_RANGE = re.compile(r"^(\d+)-(\d*)$")
# route segment -> the hf_xet releases that ask for it; all are answered as v1
LEGACY_RECONSTRUCTIONS = {
    "reconstruction": "hf_xet 0.1.x - 1.1.9",
    "reconstructions": "hf_xet 1.1.10 - 1.2.0",
}
LEGACY_VERSION = 1  # the answer's shape: what these clients deserialise


def is_xet_cas_route(raw_path: str, prefix: str = "") -> bool:
    """Cheap on the hot path: most requests never name ``xet-cas`` at all. A model of a
    user named ``xet-cas`` keeps its ``/xet-cas/{name}/resolve/...`` URLs."""
    if CAS_ROOT not in raw_path:
        return False
    segments = split_raw_path(raw_path, prefix)
    return segments[:1] == [CAS_ROOT] and segments[2:3] != ["resolve"]


async def handle_xet_cas(request: web.BaseRequest, prefix: str = "") -> web.StreamResponse:
    if not mirror_of(request).serves_xet:
        raise NoSuchRoute("this mirror does not serve Xet (setting xet_serve)")
    segments = split_raw_path(request.raw_path, prefix)[1:]
    match request.method, segments:
        case "GET", ["v1" | "v2" as version, "reconstructions", xet_hash]:
            return await _reconstruction(request, xet_hash, int(version[1]))
        case "GET", [route, xet_hash] if route in LEGACY_RECONSTRUCTIONS:
            return await _reconstruction(request, xet_hash, LEGACY_VERSION)
        case "GET", ["xorbs", xorb_hash]:
            return await _xorb(request, xorb_hash)
        case "POST", ["v1", "telemetry"]:
            return await _telemetry(request)
        case "HEAD", ["v1", "files", xet_hash]:
            found = await mirror_of(request).xet_file(cas_request(request), xet_hash)
            return web.Response(headers={"Content-Length": str(found.blob.size)})
    raise NoSuchRoute(f"no Xet CAS route {request.method} /{'/'.join(segments)[:200]}")


def cas_request(request: web.BaseRequest) -> CasRequest:
    """Who asks: the client's address, its token, and the per-client fill limit (the same
    as a GET's, counted against the requesting address) a fill it starts counts against."""
    address = address_of(request)
    claim = limits_of(request).fill_claim(address)
    return CasRequest(address, request.headers.get("Authorization"), claim)


async def _reconstruction(request: web.BaseRequest, xet_hash: str, version: int) -> web.Response:
    rate = limits_of(request).rate  # a reconstruction is a file download: one per file
    if rate is not None:
        rate.check(address_of(request))
    wanted = parse_range(request.headers.get("Range"))  # bad input: refused before lookups
    cas_url = f"{base_url(request)}/{CAS_ROOT}"
    mirror = mirror_of(request)
    body = await mirror.xet_reconstruction(cas_request(request), xet_hash, wanted, version, cas_url)
    return _json(body)


def _json(body: dict) -> web.Response:
    return web.Response(body=json.dumps(body).encode(), content_type="application/json")


async def _telemetry(request: web.BaseRequest) -> web.Response:
    """Accepted and dropped: the mirror has no use for a client's transfer statistics."""
    await body_within_timeout(request, _drain(request, TELEMETRY_MAX))
    return _json({})


async def _drain(request: web.BaseRequest, limit: int) -> None:
    read = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        read += len(chunk)
        if read > limit:
            raise InvalidInput("telemetry report too large")


# -- xorb fetches --------------------------------------------------------------------


async def _xorb(request: web.BaseRequest, xorb_hash: str) -> web.StreamResponse:
    mirror = mirror_of(request)
    async with mirror.xet_xorb(cas_request(request), xorb_hash, request.query) as xorb:
        spans = parse_ranges(request.headers.get("Range"), xorb.length)
        return await _send_xorb(request, xorb, spans)


def parse_ranges(header: str | None, length: int) -> list[tuple[int, int]] | None:
    """``bytes=a-b[,c-d...]`` as inclusive spans within ``length`` bytes, or ``None``."""
    if header is None:
        return None
    unit, _, ranges = header.replace(" ", "").partition("=")
    matches = [_RANGE.match(r) for r in ranges.split(",", MAX_RANGES)]
    if unit != "bytes" or not all(matches):
        raise InvalidInput(f"Malformed Range header {header[:60]!r}: use bytes=start-end")
    spans = []
    for match in matches:
        first = position(match[1], header)
        last = position(match[2], header) if match[2] else max(first, length - 1)
        if last < first:
            raise InvalidInput(f"Malformed Range header {header[:60]!r}: end before start")
        if first >= length:
            raise RangeNotSatisfiable(length)
        spans.append((first, min(last, length - 1)))
    return spans


async def _send_xorb(
    request: web.BaseRequest, xorb: XorbRead, spans: list[tuple[int, int]] | None
) -> web.StreamResponse:
    if spans is not None and len(spans) > 1:
        return await _send_multipart(request, xorb, spans)
    first, last = spans[0] if spans else (0, xorb.length - 1)
    resp = web.StreamResponse(status=206 if spans else 200, headers=_headers(xorb, _OCTETS))
    if spans:
        resp.headers["Content-Range"] = f"bytes {first}-{last}/{xorb.length}"
    resp.content_length = last - first + 1
    await resp.prepare(request)
    request[BODY_STARTED] = resp
    await _write_span(resp, xorb, (first, last))
    await resp.write_eof()
    return resp


async def _send_multipart(
    request: web.BaseRequest, xorb: XorbRead, spans: list[tuple[int, int]]
) -> web.StreamResponse:
    """Several ranges: one ``multipart/byteranges`` body, each part exactly its bytes."""
    boundary = secrets.token_hex(16)
    heads = [
        (
            f"--{boundary}\r\nContent-Type: {_OCTETS}\r\n"
            f"Content-Range: bytes {first}-{last}/{xorb.length}\r\n\r\n"
        ).encode()
        for first, last in spans
    ]
    tail = f"\r\n--{boundary}--\r\n".encode()
    total = sum(len(h) + last - first + 1 for h, (first, last) in zip(heads, spans, strict=True))
    total += 2 * (len(spans) - 1) + len(tail)  # CRLF before every boundary but the first
    content_type = f"multipart/byteranges; boundary={boundary}"
    resp = web.StreamResponse(status=206, headers=_headers(xorb, content_type))
    resp.content_length = total
    await resp.prepare(request)
    request[BODY_STARTED] = resp
    for number, (head, span) in enumerate(zip(heads, spans, strict=True)):
        await resp.write((b"\r\n" if number else b"") + head)
        await _write_span(resp, xorb, span)
    await resp.write(tail)
    await resp.write_eof()
    return resp


def _headers(xorb: XorbRead, content_type: str) -> dict[str, str]:
    """The cache status says where the bytes came from, for metrics and the dashboard."""
    cache = CacheStatus.HIT if xorb.stored else CacheStatus.MISS
    return {"Content-Type": content_type, X_CACHE_STATUS: str(cache)}


async def _write_span(resp: web.StreamResponse, xorb: XorbRead, span: tuple[int, int]) -> None:
    async for piece in xorb.pieces(*span):
        await resp.write(piece)


# -- the token route ------------------------------------------------------------


def is_xet_token_route(route: Route) -> bool:
    return isinstance(route, RepoApi) and route.action == XET_READ_TOKEN


async def handle_xet_token(request: web.Request, route: RepoApi) -> web.Response:
    mirror = mirror_of(request)
    if not mirror.serves_xet:  # xet_serve off: answered as any API route it does not serve
        return await handle_api(request, route)
    if request.method == "POST":
        raise NoSuchRoute(f"/api/.../{XET_READ_TOKEN}/{{revision}} takes a GET")
    if route.path is not None and route.path.value:  # e.g. refs/pr/1 unquoted
        raise NoSuchRoute(f"/api/.../{XET_READ_TOKEN}/{{revision}}: quote a '/' in it as %2F")
    base = base_url(request)  # a bad Host is refused before any work
    asked = request.query.get("revision")  # the branch or tag the token URL names, if any
    named = Revision(asked) if asked else None
    token, expires = await mirror.xet_token(caller_of(request), route.repo, route.revision, named)
    cas_url = base + XET_CAS_PREFIX
    headers = {
        X_XET_CAS_URL: cas_url,
        X_XET_ACCESS_TOKEN: token,
        X_XET_TOKEN_EXPIRATION: str(expires),
        "Cache-Control": "no-store",
    }
    body = json.dumps({"accessToken": token, "exp": expires, "casUrl": cas_url})
    return web.Response(body=body.encode(), headers=headers, content_type="application/json")
