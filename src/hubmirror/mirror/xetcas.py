"""The mirror's Xet CAS: which blob a Xet client may read, its reconstruction, its xorb bytes.

A Xet client sees only Xet hashes and the token the mirror issued for one repo
(``xettokens``). A hash is answered when that repo holds the blob; the answer
describes the blob as virtual xorbs (``hub.xet``) whose URLs the mirror signs:
xorb fetches carry no token, so the URL is the authorization, for one blob, one
xorb and a short while. The xorb bytes are the blob's bytes with chunk headers
put in between, read from the stored file or from the blob's running fill as
they arrive (the last byte only once verified, as for every reader).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

from hubmirror.errors import (
    EntryNotFound,
    Forbidden,
    HubMirrorError,
    IntegrityError,
    InvalidCredentials,
    InvalidInput,
)
from hubmirror.hub import xet
from hubmirror.index.records import StoredBlob
from hubmirror.mirror.fillstate import Fill, open_when_readable
from hubmirror.mirror.xettokens import ReadToken, read_token
from hubmirror.types import RepoId

URL_TTL = 3600  # seconds a signed xorb URL stays valid; an expired one gets a 403, then a new one
READ_WINDOW = 2 * 1024 * 1024  # blob bytes read per worker-thread hop for a stored blob
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


# -- xorb bytes ----------------------------------------------------------------------


class BlobReads(Protocol):
    """Reads of a blob's bytes ``[start, end)``, ``window`` bytes at a time at most."""

    window: int

    async def read(self, start: int, end: int) -> bytes: ...


async def xorb_bytes(
    size: int, xorb: int, first: int, last: int, reads: BlobReads
) -> AsyncIterator[bytes]:
    """Serialized bytes ``first..last`` (inclusive) of a xorb, in pieces as they are read:
    chunk headers from arithmetic, chunk bytes from ``reads`` in windows (not per chunk),
    each header sent with the chunk after it (one write, not two)."""
    pieces = xet.xorb_pieces(size, xorb, first, last)
    blob_end = max((p[1] for p in pieces if not isinstance(p, bytes)), default=0)
    window, window_start, pending = b"", 0, b""
    for piece in pieces:
        if isinstance(piece, bytes):
            pending += piece
            continue
        start, end = piece
        if start < window_start or end > window_start + len(window):
            window_end = max(end, min(start + reads.window, blob_end))
            window, window_start = await reads.read(start, window_end), start
            if len(window) != window_end - start:
                raise IntegrityError("blob is shorter than the index says")
        yield pending + window[start - window_start : end - window_start]
        pending = b""
    if pending:
        yield pending


class FileReads:
    """Reads of a stored blob file in a worker thread: a disk read never stalls the loop."""

    window = READ_WINDOW

    def __init__(self, path) -> None:
        self.fd = os.open(path, os.O_RDONLY)  # FileNotFoundError: the blob file is gone

    async def read(self, start: int, end: int) -> bytes:
        return await asyncio.to_thread(os.pread, self.fd, end - start, start)

    def close(self) -> None:
        os.close(self.fd)


class FillReads:
    """Reads of a blob still being filled: each waits for its bytes to be written (the
    last byte for verification); a failed fill raises, and the caller aborts. Read a chunk
    at a time, so each is sent as soon as it is written."""

    window = xet.CHUNK

    def __init__(self, fill: Fill, fd: int) -> None:
        self.fill, self.fd = fill, fd

    @classmethod
    async def open(cls, fill: Fill) -> FillReads:
        """Reads of ``fill``; one run by another worker process may need a poll to open."""
        return cls(fill, await open_when_readable(fill))

    async def read(self, start: int, end: int) -> bytes:
        fill = self.fill
        while fill.readable_end(start) < end:
            if fill.error is not None:
                break
            await fill.wait_beyond(fill.readable_end(start))
        if fill.error is not None:
            error = fill.error
            if isinstance(error, HubMirrorError):
                raise error
            raise IntegrityError(f"the fill of this blob failed: {error}")
        return os.pread(self.fd, end - start, start)  # just written: in the page cache

    def close(self) -> None:
        os.close(self.fd)


class StoreReads:
    """Reads of a blob from the object store, for a node that does not keep it on disk."""

    window = READ_WINDOW

    def __init__(self, objects, sha256: str) -> None:
        self.objects, self.sha256 = objects, sha256

    async def read(self, start: int, end: int) -> bytes:
        async with self.objects.open_range(self.sha256, start, end - 1) as body:
            return b"".join([chunk async for chunk in body.iter_chunks(READ_WINDOW)])

    def close(self) -> None:
        pass


class PeerReads:
    """Reads of another node's running fill (a cold file whose fill runs there): its
    ``/_node/fills`` route sends each range as the bytes arrive, the last one verified."""

    window = READ_WINDOW

    def __init__(self, peers, address: str, key: str) -> None:
        self.peers, self.address, self.key = peers, address, key

    async def read(self, start: int, end: int) -> bytes:
        async with self.peers.open_fill(self.address, self.key, start, end - 1) as resp:
            return await resp.read()

    def close(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class XorbSource:
    """Where a blob's bytes come from for a xorb fetch: its size, and the reads."""

    key: str  # what ``Mirror.reading`` marks while the bytes are sent
    size: int
    reads: FileReads | FillReads | StoreReads | PeerReads

    @property
    def stored(self) -> bool:
        """Sent from stored bytes (a HIT), not from a fill still fetching them (a MISS)."""
        return isinstance(self.reads, FileReads | StoreReads)


async def xorb_source(mirror, sha256: str) -> XorbSource | None:
    """The blob's running fill, else its stored file or object, else a fill of it that
    another worker process or node runs (a cold file's Xet client may ask any of them).

    ``None`` when the mirror has none of them (the blob was evicted or lost): the
    client's retry then re-asks the reconstruction, which no longer finds it.
    """
    blob = mirror.index.blob_by_id(sha256)
    running = mirror.fills.running
    keys = (sha256, f"git-{blob.git_sha1}") if blob else (sha256,)
    fill = next((running[k] for k in keys if k in running), None)
    if fill is None and blob is None:
        fill = mirror.fills.follow_local(sha256)
    if fill is not None:
        return XorbSource(fill.key, fill.size, await FillReads.open(fill))
    if blob is None:
        return _peer_source(mirror, sha256)
    mirror.touch(blob)  # a read, for LRU eviction
    if not mirror.streams_from_store:
        try:
            return XorbSource(sha256, blob.size, FileReads(mirror.store.path_for(sha256)))
        except FileNotFoundError:
            pass
    if mirror.shared is not None:
        return XorbSource(sha256, blob.size, StoreReads(mirror.shared.objects, sha256))
    return None


def _peer_source(mirror, sha256: str) -> XorbSource | None:
    """The node whose lease says it fills ``sha256``, for a blob announced to Xet clients."""
    shared = mirror.shared
    cluster = shared.cluster if shared is not None else None
    pending = mirror.index.xet.announced_for(sha256) if cluster is not None else None
    holder = cluster.holder(sha256) if pending is not None else None
    if holder is None or holder.node == cluster.node:
        return None
    return XorbSource(sha256, pending.size, PeerReads(cluster.peers, holder.address, sha256))
