"""The mirror's Xet CAS: which file a Xet client may read, its reconstruction, signed URLs.

A Xet client sees only Xet hashes and the token the mirror issued for one repo
(``tokens``). A hash is answered when that repo holds the blob; the answer
describes the blob as virtual xorbs (``hub.xet``) whose URLs the mirror signs:
xorb fetches carry no token, so the URL names the token's holder, one blob, one
xorb and a few minutes. These are the pieces, each given only what it reads (the
index's Xet records, a lookup of announced blobs); ``serving`` joins them with the
access decision (every request, reconstruction or xorb fetch, decides again for the
holder as ``/resolve/`` would at that moment) and with fills. The xorb bytes
themselves are read by ``xorbs``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

from hubmirror.errors import (
    EntryNotFound,
    Forbidden,
    InvalidCredentials,
    InvalidInput,
    UpstreamUnavailable,
)
from hubmirror.hub import xet
from hubmirror.index.records import StoredBlob
from hubmirror.mirror.fills.state import Fill
from hubmirror.mirror.xet.announce import checked_by
from hubmirror.mirror.xet.tokens import ReadToken, read_claims, read_token
from hubmirror.types import RepoId

URL_TTL = 300  # seconds a signed xorb URL stays valid; an expired one gets a 403, then a new one
_BEARER = "bearer "


class XetFiles(Protocol):
    """The index's Xet records (``index.xet``): hashes of blobs, and which file has a blob."""

    def blob_of(self, xet_hash: str) -> StoredBlob | None: ...

    def sha256_of(self, xet_hash: str) -> str | None: ...

    def xet_hash_of(self, sha256: str) -> str | None: ...

    def file_with_blob(self, repo: RepoId, blob: StoredBlob) -> tuple[str, str] | None: ...


def _none(_xet_hash: str) -> None:
    return None


def bearer_token(authorization: str | None) -> str:
    """The token of ``Authorization: Bearer ...``, or 401."""
    value = authorization or ""
    if value[: len(_BEARER)].lower() != _BEARER:
        raise InvalidCredentials("a Xet token from this mirror is required (Authorization: Bearer)")
    return value[len(_BEARER) :].strip()


def token_claims(secret: str, authorization: str | None, now: float) -> ReadToken:
    """What the caller's mirror-issued Xet token says (its repo, its holder), or 401."""
    claims = read_token(secret, bearer_token(authorization), now)
    if claims is None:
        raise InvalidCredentials("invalid or expired Xet token: ask the mirror for a new one")
    return claims


@dataclass(frozen=True, slots=True)
class CasFile:
    """A file of the token's repo, found by its Xet hash: its bytes and where it is."""

    blob: StoredBlob
    commit: str
    path: str
    stored: bool  # ``False``: a running fill checks the hash (a cold file)
    announced: str | None = None  # upstream's hash, which the fill to start must check


def file_for_hash(
    records: XetFiles,
    repo: RepoId,
    xet_hash: str,
    pending: Callable[[str], StoredBlob | None] = _none,
) -> CasFile:
    """The file with this Xet hash if the token's repo has it; 400 or 404 otherwise.

    ``records`` is ``index.xet``. A repo without the blob gets the same 404 as an
    unknown hash: a token for one repo must not tell what other repos hold.
    ``pending`` finds a blob not recorded yet whose running fill checks this hash
    (a cold file advertised with upstream's hash: its client asks before the fill ends).
    """
    if not xet.is_xet_hash(xet_hash):
        raise InvalidInput(f"not a Xet hash: {xet_hash[:80]!r}")
    blob = records.blob_of(xet_hash)
    stored = blob is not None
    blob = blob or pending(xet_hash)
    where = records.file_with_blob(repo, blob) if blob is not None else None
    if where is None:
        raise EntryNotFound(f"no file with Xet hash {xet_hash} in {repo.name}")
    return CasFile(blob, *where, stored)


def cold_file(
    records: XetFiles, repo: RepoId, xet_hash: str, offered: Callable[[str], StoredBlob | None]
) -> CasFile | None:
    """A file of ``repo`` with this hash that no fill brings yet: one the mirror verified
    once and let go (a client's listing may be older than the eviction), or one whose hash
    upstream announced and a HEAD passed on (``offered`` finds its blob: the client's
    download starts here, not at the HEAD). ``None`` when the repo has no such file."""
    sha256 = records.sha256_of(xet_hash)
    if sha256 is not None:
        where = records.file_with_blob(repo, StoredBlob(sha256, "", 0))
        if where is not None:
            return CasFile(StoredBlob(sha256, "", 0), *where, stored=False)
    blob = offered(xet_hash)
    where = records.file_with_blob(repo, blob) if blob is not None else None
    if where is None:
        return None
    return CasFile(blob, *where, stored=False, announced=xet_hash)


def check_announced(records: XetFiles, started: Fill, announced: str) -> None:
    """Raise unless ``started`` checks ``announced``, or stored bytes with that hash:
    404 once the stored bytes proved to hash otherwise, else 503 (being fetched, then
    hashed: retry)."""
    if checked_by(started, announced) is not None:
        return
    if started.blob is not None:
        verified = records.xet_hash_of(started.blob.sha256)
        if verified == announced:
            return
        if verified is not None:
            raise EntryNotFound(f"no file with Xet hash {announced}")
    raise UpstreamUnavailable("this file is being fetched and checked: retry shortly")


# -- signed xorb URLs ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class XorbGrant:
    """What a valid signed xorb URL lets its bearer read: one xorb of one blob, as the
    file ``path`` at ``commit`` of the repo of the Xet token whose ``claims`` it names,
    while that token's holder may read it."""

    sha256: str
    xorb: int
    claims: str = ""  # ``tokens.claims_of`` the reconstruction's token
    commit: str = ""
    path: str = ""


def xorb_url(secret: str, cas_url: str, grant: XorbGrant, expires: int) -> str:
    xorb_hash = xet.xorb_id(grant.sha256, grant.xorb)
    query = {"b": grant.sha256, "x": str(grant.xorb), "e": str(expires)}
    query |= {"c": grant.commit, "p": grant.path, "h": grant.claims}
    query["s"] = _url_mac(secret, xorb_hash, grant, expires)
    return f"{cas_url}/xorbs/{xorb_hash}?{urlencode(query)}"


def verify_xorb_url(secret: str, xorb_hash: str, query: Mapping[str, str], now: float) -> XorbGrant:
    """The grant a signed URL's path and query carry, or 403 (forged, edited, expired)."""
    try:
        grant = XorbGrant(query["b"], int(query["x"]), query["h"], query["c"], query["p"])
        expires, signature = int(query["e"]), query["s"]
    except (KeyError, ValueError):
        raise Forbidden("xorb URL without a valid signature") from None
    expected = _url_mac(secret, xorb_hash, grant, expires)
    if not hmac.compare_digest(expected, signature):
        raise Forbidden("xorb URL signature does not match")
    if now >= expires:
        raise Forbidden("xorb URL expired: fetch the reconstruction again")
    return grant


def grant_claims(secret: str, grant: XorbGrant) -> ReadToken:
    """What the Xet token a signed URL names says (the URL's own expiry counts, not the
    token's: a download outlives the token it started with)."""
    claims = read_claims(secret, grant.claims, None)
    if claims is None:  # signed by this mirror, so only an older mirror's URL gets here
        raise Forbidden("xorb URL of an older mirror: fetch the reconstruction again")
    return claims


def _url_mac(secret: str, xorb_hash: str, grant: XorbGrant, expires: int) -> str:
    fields = [xorb_hash, grant.sha256, grant.xorb, expires, grant.commit, grant.path, grant.claims]
    message = b"xet-xorb\n" + json.dumps(fields).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


# -- reconstructions -----------------------------------------------------------------


def reconstruction(
    blob: StoredBlob, span: tuple[int, int], urls: Callable[[int], str], version: int
) -> dict:
    """The JSON body of ``/v{version}/reconstructions/{hash}`` for blob bytes ``span``
    (inclusive). ``urls(xorb)`` signs the URL of xorb ``xorb`` of the blob."""
    plan = xet.reconstruct(blob.size, *span)
    terms = [
        {
            "hash": xet.xorb_id(blob.sha256, t.xorb),
            "range": {"start": t.start, "end": t.end},
            "unpacked_length": t.unpacked_length,
        }
        for t in plan.terms
    ]
    body = {"offset_into_first_range": plan.offset_into_first_range, "terms": terms}
    if version == 1:
        body["fetch_info"] = {
            xet.xorb_id(blob.sha256, t.xorb): [_v1_fetch(t, urls(t.xorb))] for t in plan.terms
        }
    else:
        body["xorbs"] = {
            xet.xorb_id(blob.sha256, t.xorb): [_v2_fetch(t, urls(t.xorb))] for t in plan.terms
        }
    return body


def _v1_fetch(term: xet.Term, url: str) -> dict:
    return {
        "range": {"start": term.start, "end": term.end},
        "url": url,
        "url_range": {"start": term.first_byte, "end": term.last_byte},
    }


def _v2_fetch(term: xet.Term, url: str) -> dict:
    chunks = {"start": term.start, "end": term.end}
    return {"url": url, "ranges": [{"chunks": chunks, "bytes": _bytes(term)}]}


def _bytes(term: xet.Term) -> dict:
    return {"start": term.first_byte, "end": term.last_byte}
