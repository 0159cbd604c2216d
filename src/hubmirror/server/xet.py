"""Xet for clients: the token route and the ``/xet-cas/...`` CAS routes, parsed and written.

``GET /api/{t}/{repo}/xet-read-token/{rev}`` hands out the mirror's own token (signed with
its Xet secret, good for one repo, never the caller's Hub token) and ``casUrl`` =
``{base_url}/xet-cas``; huggingface_hub reads them from the headers, hf_xet refreshes from
the JSON body. Reconstructions need the token; xorb fetches carry none, so their signed URL
names the token's holder. Every request takes the access decision ``/resolve/`` would take
now. hf_xet releases before 1.3 ask for reconstructions under older paths
(``/reconstruction/{hash}`` up to 1.1.9, ``/reconstructions/{hash}`` up to 1.2.0) and read
the v1 answer: they get it there. Policy lives in ``hubmirror.mirror.xet``; this module
parses requests and writes bytes. Answered only with ``xet_serve``.
"""

from __future__ import annotations

import json
import re
import secrets

from aiohttp import web

from hubmirror.errors import EntryNotFound, InvalidInput, NoSuchRoute, RangeNotSatisfiable
from hubmirror.hub import xet
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
from hubmirror.mirror.access.callers import Caller
from hubmirror.mirror.xet import reconstruction, xorbs
from hubmirror.mirror.xet.tokens import ReadToken, claims_of, issue_token
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
from hubmirror.types import RepoId

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
    mirror = mirror_of(request)
    if not mirror.xet.enabled:
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
            _claims, _caller, found = await authorized_file(request, xet_hash)
            return web.Response(headers={"Content-Length": str(found.blob.size)})
    raise NoSuchRoute(f"no Xet CAS route {request.method} /{'/'.join(segments)[:200]}")


async def authorized_file(
    request: web.BaseRequest, xet_hash: str, fetch: bool = False
) -> tuple[ReadToken, Caller, reconstruction.CasFile]:
    """The token's claims, its holder, and the file of its repo with this Xet hash, once
    the holder may read that file now as ``/resolve/`` would decide (401, 403, 400, 404).

    ``fetch`` (a reconstruction: the client's download starts): a file no fill brings
    yet is fetched, with the holder's credentials: a cold file whose hash upstream
    announced (the HEAD passed it on and started nothing), one the mirror verified once
    and let go, or, in a cluster, one only in the object store (onto this node's disk).
    """
    mirror = mirror_of(request)
    records = mirror.index.xet
    claims = reconstruction.token_claims(
        reconstruction.secret_of(records), request.headers.get("Authorization"), mirror.clock()
    )
    caller = reconstruction.holder_of(mirror, claims, address_of(request))
    cold = None
    try:
        found = reconstruction.file_for_hash(
            records, claims.repo, xet_hash, mirror.announced.pending_blob
        )
    except EntryNotFound:
        cold = reconstruction.cold_file(mirror, claims.repo, xet_hash) if fetch else None
        if cold is None:
            raise
        found = cold
    await reconstruction.may_read(mirror, caller, claims.repo, found.commit, found.path)
    if cold is not None or (fetch and reconstruction.only_in_object_store(mirror, found)):
        found = start_fill(request, caller, claims.repo, found)
    return claims, caller, found


def start_fill(
    request: web.BaseRequest, caller: Caller, repo: RepoId, found: reconstruction.CasFile
) -> reconstruction.CasFile:
    """Start (or join) the fill of ``found``'s blob for the token's holder, under the same
    per-client fill limit as a GET, counted against the requesting address."""
    claim = limits_of(request).fill_claim(address_of(request))
    return reconstruction.fill(mirror_of(request), caller, repo, found, claim)


async def _reconstruction(request: web.BaseRequest, xet_hash: str, version: int) -> web.Response:
    rate = limits_of(request).rate  # a reconstruction is a file download: one per file
    if rate is not None:
        rate.check(address_of(request))
    range_spec = parse_range(request.headers.get("Range"))  # bad input: refused before lookups
    claims, _caller, found = await authorized_file(request, xet_hash, fetch=True)
    blob = found.blob
    if blob.size == 0:  # an empty file has no chunk to describe (and is never advertised)
        raise RangeNotSatisfiable(0)
    span = range_spec.span(blob.size) if range_spec else (0, blob.size - 1)
    mirror = mirror_of(request)
    secret = reconstruction.secret_of(mirror.index.xet)
    expires = int(mirror.clock()) + reconstruction.URL_TTL
    cas_url = f"{base_url(request)}/{CAS_ROOT}"
    holder = claims_of(reconstruction.bearer_token(request.headers.get("Authorization")))

    def url(xorb: int) -> str:
        grant = reconstruction.XorbGrant(blob.sha256, xorb, holder, found.commit, found.path)
        return reconstruction.xorb_url(secret, cas_url, grant, expires)

    body = _json(reconstruction.reconstruction(blob, span, url, version))
    _audit_download(request, claims, found, span[1] - span[0] + 1)
    return body


def _audit_download(request: web.BaseRequest, claims, found, length: int) -> None:
    """A Xet client's download, as the audit log records a file GET: who (the holder the
    token names), which file, how many bytes the reconstruction leads to, HIT or MISS."""
    audit = mirror_of(request).audit
    if not audit.enabled:
        return
    repo = claims.repo
    cache = CacheStatus.HIT if found.stored else CacheStatus.MISS
    audit.add(
        {
            "event": "download",
            "address": address_of(request),
            "identity": claims.identity,
            "fingerprint": claims.fingerprint,
            "repo_type": repo.repo_type.value,
            "repo": repo.canonical,
            "commit": found.commit,
            "path": found.path,
            "method": request.method,
            "action": "xet",
            "bytes": length,
            "status": 200,
            "cache": str(cache),
        }
    )


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
    secret = reconstruction.secret_of(mirror.index.xet)
    grant = reconstruction.verify_xorb_url(secret, xorb_hash, request.query, mirror.clock())
    claims = reconstruction.grant_claims(secret, grant)
    caller = reconstruction.holder_of(mirror, claims, address_of(request))
    await reconstruction.may_read(mirror, caller, claims.repo, grant.commit, grant.path)
    source = await xorbs.xorb_source(mirror, grant.sha256)
    if source is None:
        raise NoSuchRoute(f"xorb {xorb_hash} is not on this mirror (any more)")
    with mirror.reading(source.key):  # the quota leaves a blob alone while it is sent
        try:
            length = xet.xorb_length(source.size, grant.xorb)
            spans = parse_ranges(request.headers.get("Range"), length)
            return await _send_xorb(request, source, grant.xorb, spans)
        finally:
            source.reads.close()


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


async def _send_xorb(request, source, xorb, spans) -> web.StreamResponse:
    length = xet.xorb_length(source.size, xorb)
    if spans is not None and len(spans) > 1:
        return await _send_multipart(request, source, xorb, spans)
    first, last = spans[0] if spans else (0, length - 1)
    resp = web.StreamResponse(status=206 if spans else 200, headers=_headers(source, _OCTETS))
    if spans:
        resp.headers["Content-Range"] = f"bytes {first}-{last}/{length}"
    resp.content_length = last - first + 1
    await resp.prepare(request)
    request[BODY_STARTED] = True
    await _write_span(resp, source, xorb, (first, last))
    await resp.write_eof()
    return resp


async def _send_multipart(request, source, xorb, spans) -> web.StreamResponse:
    """Several ranges: one ``multipart/byteranges`` body, each part exactly its bytes."""
    length = xet.xorb_length(source.size, xorb)
    boundary = secrets.token_hex(16)
    heads = [
        (
            f"--{boundary}\r\nContent-Type: {_OCTETS}\r\n"
            f"Content-Range: bytes {first}-{last}/{length}\r\n\r\n"
        ).encode()
        for first, last in spans
    ]
    tail = f"\r\n--{boundary}--\r\n".encode()
    total = sum(len(h) + last - first + 1 for h, (first, last) in zip(heads, spans, strict=True))
    total += 2 * (len(spans) - 1) + len(tail)  # CRLF before every boundary but the first
    content_type = f"multipart/byteranges; boundary={boundary}"
    resp = web.StreamResponse(status=206, headers=_headers(source, content_type))
    resp.content_length = total
    await resp.prepare(request)
    request[BODY_STARTED] = True
    for number, (head, span) in enumerate(zip(heads, spans, strict=True)):
        await resp.write((b"\r\n" if number else b"") + head)
        await _write_span(resp, source, xorb, span)
    await resp.write(tail)
    await resp.write_eof()
    return resp


def _headers(source: xorbs.XorbSource, content_type: str) -> dict[str, str]:
    """The cache status says where the bytes came from, for metrics and the dashboard."""
    cache = CacheStatus.HIT if source.stored else CacheStatus.MISS
    return {"Content-Type": content_type, X_CACHE_STATUS: str(cache)}


async def _write_span(resp, source, xorb, span) -> None:
    async for piece in xorbs.xorb_bytes(source.size, xorb, *span, source.reads):
        await resp.write(piece)


# -- the token route ------------------------------------------------------------


def is_xet_token_route(route: Route) -> bool:
    return isinstance(route, RepoApi) and route.action == XET_READ_TOKEN


async def handle_xet_token(request: web.Request, route: RepoApi) -> web.Response:
    mirror = mirror_of(request)
    if not mirror.xet.enabled:  # xet_serve off: answered as any API route it does not serve
        return await handle_api(request, route)
    if request.method == "POST":
        raise NoSuchRoute(f"/api/.../{XET_READ_TOKEN}/{{revision}} takes a GET")
    if route.path is not None and route.path.value:  # e.g. refs/pr/1 unquoted
        raise NoSuchRoute(f"/api/.../{XET_READ_TOKEN}/{{revision}}: quote a '/' in it as %2F")
    base = base_url(request)  # a bad Host is refused before any work
    caller = caller_of(request)
    mirror.admit(caller, route.repo)
    commit = await mirror.xet_read_access(route.repo, route.revision, caller.upstream_auth)
    token, expires = issue_token(
        mirror.index.xet.secret(), route.repo, mirror.clock(), holder=caller
    )
    mirror.audit.decision(caller, route.repo, commit, None, "allowed", "Xet read token")
    cas_url = base + XET_CAS_PREFIX
    headers = {
        X_XET_CAS_URL: cas_url,
        X_XET_ACCESS_TOKEN: token,
        X_XET_TOKEN_EXPIRATION: str(expires),
        "Cache-Control": "no-store",
    }
    body = json.dumps({"accessToken": token, "exp": expires, "casUrl": cas_url})
    return web.Response(body=body.encode(), headers=headers, content_type="application/json")
