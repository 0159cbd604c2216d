"""The mirror's Xet CAS: which file a Xet client may read, its reconstruction, signed URLs.

A Xet client sees only Xet hashes and the token the mirror issued for one repo
(``xettokens``). A hash is answered when that repo holds the blob; the answer
describes the blob as virtual xorbs (``hub.xet``) whose URLs the mirror signs:
xorb fetches carry no token, so the URL is the authorization, for one blob, one
xorb and a short while. The xorb bytes themselves are read by ``xorbreads``.
"""

from __future__ import annotations

import hashlib
import hmac
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from hubmirror.errors import EntryNotFound, Forbidden, InvalidCredentials, InvalidInput
from hubmirror.hub import xet
from hubmirror.index.records import StoredBlob
from hubmirror.mirror.fillstate import FillClaim, FillSource
from hubmirror.mirror.xettokens import ReadToken, read_token
from hubmirror.types import RepoId

URL_TTL = 3600  # seconds a signed xorb URL stays valid; an expired one gets a 403, then a new one
_BEARER = "bearer "


_secrets: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # index.xet -> its secret


def _none(_xet_hash: str) -> None:
    return None


def secret_of(records) -> str:
    """The Xet secret of ``index.xet``, read once: ``secret()`` runs an insert-if-missing
    on every call, too dear for every xorb fetch, and the secret never changes."""
    secret = _secrets.get(records)
    if secret is None:
        secret = _secrets[records] = records.secret()
    return secret


def token_claims(secret: str, authorization: str | None, now: float) -> ReadToken:
    """What the caller's mirror-issued Xet token says (its repo, its holder), or 401."""
    value = authorization or ""
    if value[: len(_BEARER)].lower() != _BEARER:
        raise InvalidCredentials("a Xet token from this mirror is required (Authorization: Bearer)")
    claims = read_token(secret, value[len(_BEARER) :].strip(), now)
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


def file_for_hash(
    records, repo: RepoId, xet_hash: str, pending: Callable[[str], StoredBlob | None] = _none
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


def refill(
    mirror, claims: ReadToken, xet_hash: str, claim: FillClaim | None = None
) -> CasFile | None:
    """Fetch again a file of the token's repo that the mirror verified once and let go.

    A client's listing (or its cached copy of one) may carry the Xet hash of a blob
    evicted since; such a client asks only the CAS, never ``/resolve``. The fill
    uses the credential the token carries, as the client's own download would.
    ``None`` when the mirror never had the file in that repo.
    """
    sha256 = mirror.index.xet.sha256_of(xet_hash)
    where = (
        mirror.index.xet.file_with_blob(claims.repo, StoredBlob(sha256, "", 0)) if sha256 else None
    )
    if where is None:
        return None
    return _fill(mirror, claims, CasFile(StoredBlob(sha256, "", 0), *where, stored=False), claim)


def only_in_object_store(mirror, found: CasFile) -> bool:
    """The object store holds the blob, this node's disk does not (and should: without a
    local tier, ``local_tier_size=0``, xorbs are read from the store itself)."""
    shared_only = mirror.shared is not None and not mirror.streams_from_store
    return found.stored and shared_only and not mirror.store.has(found.blob.sha256)


def onto_local_disk(
    mirror, claims: ReadToken, found: CasFile, claim: FillClaim | None = None
) -> CasFile:
    """Fill the local tier from the object store, as a download through ``/resolve``
    would: the xorbs then read that fill, and later ones the local file."""
    return _fill(mirror, claims, found, claim)


def _fill(mirror, claims: ReadToken, found: CasFile, claim: FillClaim | None) -> CasFile:
    """Start (or join) the fill of ``found``'s blob; ``found`` as the fill leaves it.
    ``claim``: the per-client fill limit, asked only for a new fill."""
    entry = mirror.index.get_entry(claims.repo, found.commit, found.path)
    if entry is None:
        raise EntryNotFound(f"{found.path} is not known at {found.commit}")
    sha256 = found.blob.sha256
    entry = replace(entry, sha256=sha256)  # one fill key with every other reader: the sha256
    source = FillSource(claims.repo, found.commit, entry, claims.upstream_auth)
    fill = mirror.fills.start(source, claim)
    blob = fill.blob or StoredBlob(sha256, found.blob.git_sha1, entry.size)
    return replace(found, blob=blob, stored=found.stored or fill.blob is not None)


# -- signed xorb URLs ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class XorbGrant:
    """What a valid signed xorb URL lets its bearer read: one xorb of one blob."""

    sha256: str
    xorb: int


def xorb_url(secret: str, cas_url: str, sha256: str, xorb: int, expires: int) -> str:
    xorb_hash = xet.xorb_id(sha256, xorb)
    query = {"b": sha256, "x": str(xorb), "e": str(expires)}
    query["s"] = _url_mac(secret, xorb_hash, sha256, xorb, expires)
    return f"{cas_url}/xorbs/{xorb_hash}?{urlencode(query)}"


def verify_xorb_url(secret: str, xorb_hash: str, query, now: float) -> XorbGrant:
    """The grant a signed URL's path and query carry, or 403 (forged, edited, expired)."""
    try:
        sha256, xorb, expires = query["b"], int(query["x"]), int(query["e"])
        signature = query["s"]
    except (KeyError, ValueError):
        raise Forbidden("xorb URL without a valid signature") from None
    expected = _url_mac(secret, xorb_hash, sha256, xorb, expires)
    if not hmac.compare_digest(expected, signature):
        raise Forbidden("xorb URL signature does not match")
    if now >= expires:
        raise Forbidden("xorb URL expired: fetch the reconstruction again")
    return XorbGrant(sha256, xorb)


def _url_mac(secret: str, xorb_hash: str, sha256: str, xorb: int, expires: int) -> str:
    message = f"xet-xorb\n{xorb_hash}\n{sha256}\n{xorb}\n{expires}".encode()
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
