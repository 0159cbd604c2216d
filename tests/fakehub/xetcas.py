"""A minimal Xet CAS on its own port: reconstructions and xorb ranges over plain LFS blobs.

With `hub.xet_files` on, LFS files are "Xet-backed": resolve and tree advertise their real
Xet hash (`hf_xet.hash_files`), the token route names this CAS, and a real hf_xet client
can download them here. The xorbs are the mirror's "virtual xorbs" (`hubmirror.hub.xet`):
a blob cut into fixed uncompressed chunks, so nothing is stored and every offset is
arithmetic. Tokens are signed by the hub; xorb links are signed like CDN links (hf_xet
sends no Authorization with them). Every request is logged on host "cas", and the hub's
faults apply here too; `faults.corrupt_xorbs` flips a data byte in every xorb body.
"""

import hashlib
import hmac
import os
import tempfile
import time

from aiohttp import web

from hubmirror.hub import xet
from tests.fakehub.access import HubError
from tests.fakehub.appkeys import ENTRY, HUB
from tests.fakehub.blobs import Blob
from tests.fakehub.bodies import write_body
from tests.fakehub.files import require_signed_link
from tests.fakehub.ranges import plan_range
from tests.fakehub.routes import UNKNOWN, Route, segments
from tests.fakehub.signing import signed_query

XORB_LINK_TTL = 3600


def parse_cas(raw_path: str) -> Route:
    """/v1|v2/reconstructions/{hash}, /xorbs/{sha256}/{index}, /v1/telemetry."""
    parts = segments(raw_path)
    if len(parts) == 3 and parts[0] in ("v1", "v2") and parts[1] == "reconstructions":
        return Route(f"reconstruction-{parts[0]}", path=parts[2])
    if len(parts) == 3 and parts[0] == "xorbs" and parts[2].isdigit():
        return Route("xorb", path=f"{parts[1]}/{parts[2]}")
    if parts == ["v1", "telemetry"]:
        return Route("cas-telemetry")
    return UNKNOWN


# -- tokens ---------------------------------------------------------------------------------


def issue_token(key: bytes, object_id: str, expires: int) -> str:
    """A CAS access token the hub hands out with xet-read-token; checked by `check_token`."""
    body = f"xet_{object_id}_{expires}"
    return f"{body}_{_sign(key, body)}"


def _sign(key: bytes, body: str) -> str:
    return hmac.new(key, b"cas-token:" + body.encode(), hashlib.sha256).hexdigest()[:32]


def check_token(key: bytes, authorization: str | None, now: float) -> None:
    """401 unless the bearer token was issued by this hub and has not expired."""
    token = (authorization or "").removeprefix("Bearer ").strip()
    body, _, sig = token.rpartition("_")
    expires = body.rpartition("_")[2]
    if not (body and hmac.compare_digest(_sign(key, body), sig) and expires.isdigit()):
        raise HubError(401, None, "Invalid or missing CAS token")
    if int(expires) < now:
        raise HubError(401, None, "CAS token expired")


# -- Xet hashes -----------------------------------------------------------------------------


def real_xet_hash(blob: Blob) -> str:
    """The Xet hash hf_xet computes for the blob's bytes (it hashes files, so spill to one)."""
    import hf_xet  # the fake's CAS needs it; imported only when Xet files are on

    if blob.disk_path is not None:
        return hf_xet.hash_files([str(blob.disk_path)])[0].hash
    handle, path = tempfile.mkstemp(prefix="fakehub-xet-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(blob.data)
        return hf_xet.hash_files([path])[0].hash
    finally:
        os.unlink(path)


# -- handlers -------------------------------------------------------------------------------


async def reconstruction(request: web.Request, route: Route) -> web.Response:
    """Terms and fetch ranges for the asked byte range (v2 `xorbs`, v1 `fetch_info`)."""
    hub = request.app[HUB]
    check_token(hub.signing_key, request.headers.get("Authorization"), time.time())
    blob = hub.xet_blob(route.path)
    if blob is None:
        raise HubError(404, None, f"File not found: {route.path}")
    plan = plan_range(request.headers.get("Range"), blob.size)
    if plan.status == 416:
        raise HubError(416, None, "Range past the end", {"Content-Range": plan.content_range()})
    answer = xet.reconstruct(blob.size, plan.start, plan.end - 1)
    body: dict = {"offset_into_first_range": answer.offset_into_first_range, "terms": []}
    fetch: dict = {}
    for term in answer.terms:
        xorb = xet.xorb_id(blob.sha256, term.xorb)
        chunks = {"start": term.start, "end": term.end}
        body["terms"].append(
            {"hash": xorb, "range": chunks, "unpacked_length": term.unpacked_length}
        )
        url = _xorb_url(hub, blob.sha256, term.xorb)
        byte_range = {"start": term.first_byte, "end": term.last_byte}
        if route.kind == "reconstruction-v2":
            fetch[xorb] = [{"url": url, "ranges": [{"chunks": chunks, "bytes": byte_range}]}]
        else:
            fetch[xorb] = [{"range": chunks, "url": url, "url_range": byte_range}]
    body["xorbs" if route.kind == "reconstruction-v2" else "fetch_info"] = fetch
    return web.json_response(body)


def _xorb_url(hub, sha256: str, index: int) -> str:
    expires = int(time.time()) + XORB_LINK_TTL
    query = signed_query(hub.signing_key, f"{sha256}/{index}", expires)
    return f"{hub.cas_url}/xorbs/{sha256}/{index}?{query}"


async def xorb(request: web.Request, route: Route) -> web.StreamResponse:
    """Serialized records of one virtual xorb (Range honoured), behind a signed link."""
    hub = request.app[HUB]
    query = request.query
    require_signed_link(hub, route.path, query)
    sha256, index = route.path.split("/")
    blob = hub.lfs_blob(sha256)
    length = xet.xorb_length(blob.size, int(index)) if blob else 0
    if length == 0:
        raise HubError(404, None, "NoSuchKey")
    plan = plan_range(request.headers.get("Range"), length)
    if plan.status == 416:
        raise HubError(416, None, "Range past the end", {"Content-Range": plan.content_range()})
    pieces = xet.xorb_pieces(blob.size, int(index), plan.start, plan.end - 1)
    response = web.StreamResponse(status=plan.status)
    response.content_length = plan.length
    response.content_type = "application/octet-stream"
    if plan.status == 206:
        response.headers["Content-Range"] = plan.content_range()
    request[ENTRY].status = plan.status
    await response.prepare(request)
    if request.method != "HEAD":
        await write_body(request, response, _records(blob, pieces, hub.faults.corrupt_xorbs))
    return response


def _records(blob: Blob, pieces, corrupt: bool):
    """The pieces as bytes; with `corrupt`, the first byte of chunk data is flipped."""
    for piece in pieces:
        if isinstance(piece, bytes):
            yield piece
            continue
        for data in blob.chunks(*piece):
            if corrupt:
                data, corrupt = bytes([data[0] ^ 0xFF]) + data[1:], False
            yield data


async def telemetry(request: web.Request, route: Route) -> web.Response:
    return web.Response(status=200)


CAS_HANDLERS = {
    "reconstruction-v1": (("GET",), reconstruction),
    "reconstruction-v2": (("GET",), reconstruction),
    "xorb": (("GET", "HEAD"), xorb),
    "cas-telemetry": (("POST",), telemetry),
}
