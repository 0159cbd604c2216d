"""The Xet use cases: what a Xet client asks of the mirror, decided here.

A client first asks the token route: the token takes the access decision a download
of the repo would take, then names the repo and its holder, signed with the mirror's
Xet secret (``tokens``). With it the client asks the CAS for a file by its Xet hash and
for its reconstruction, whose xorb URLs the mirror signs for the holder
(``reconstruction``); then it fetches those xorbs (``xorbs``). Every CAS request
identifies the holder again and takes the decision ``/resolve/`` would take now
(``Downloads.may_download``): a mirror token revoked or a repo denied since holds
here too. A reconstruction is the client's download: a file no fill brings yet is
fetched with the holder's credentials, and the download is audited. The server only
parses requests and writes what these methods return.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from typing import Protocol

from hubmirror.errors import (
    EntryNotFound,
    NoSuchRoute,
    RangeNotSatisfiable,
    RevisionNotFound,
    UpstreamUnavailable,
)
from hubmirror.hub import payloads
from hubmirror.hub.headers import CacheStatus
from hubmirror.hub.routes import RepoApi
from hubmirror.index.records import ApiAnswer, StoredBlob
from hubmirror.mirror.access.callers import Caller
from hubmirror.mirror.answers.files import FileAnswer
from hubmirror.mirror.fills.state import Fill, FillClaim, FillSource
from hubmirror.mirror.xet import reconstruction
from hubmirror.mirror.xet.reconstruction import CasFile, XetFiles, XorbGrant
from hubmirror.mirror.xet.tokens import ReadToken, claims_of, issue_token
from hubmirror.mirror.xet.xorbs import XorbRead
from hubmirror.types import FileEntry, FileRef, RepoId, RepoPath, Revision


class Downloads(Protocol):
    """The facade's decisions about a caller and a download, as ``/resolve/`` takes them."""

    def identify(self, address: str, authorization: str | None) -> Caller: ...

    def admit(self, caller: Caller, repo: RepoId) -> None: ...

    async def may_download(self, caller: Caller, ref: FileRef) -> None: ...

    async def file(self, ref: FileRef, auth: str | None) -> FileAnswer: ...

    async def api(
        self,
        route: RepoApi,
        query: list[tuple[str, str]],
        form: list[tuple[str, str]] | None,
        auth: str | None,
    ) -> ApiAnswer: ...


class Visibilities(Protocol):
    async def visibility(self, repo: RepoId) -> str: ...


class KnownCommits(Protocol):
    def last_known_commit(self, repo: RepoId, revision: Revision) -> str | None: ...


class Entries(Protocol):
    """The files the index knows at a commit."""

    def get_entry(self, repo: RepoId, commit: str, path: str) -> FileEntry | None: ...

    def entries_at(self, repo: RepoId, commit: str) -> list[FileEntry]: ...


class XetRecords(XetFiles, Protocol):
    """``index.xet``: the Xet records, and the secret every node signs with."""

    def secret(self) -> str: ...


class Announcements(Protocol):
    """Blobs found by upstream's announced Xet hash (``announce``)."""

    def pending_blob(self, xet_hash: str) -> StoredBlob | None: ...

    def offered_blob(self, xet_hash: str) -> StoredBlob | None: ...


class FillStarts(Protocol):
    def start(self, source: FillSource, claim: FillClaim | None = None) -> Fill: ...


class Xorbs(Protocol):
    """Where xorb bytes are read on this node (``xorbs.XorbSources``)."""

    def only_in_object_store(self, sha256: str) -> bool: ...

    def open(self, sha256: str, xorb: int) -> AbstractAsyncContextManager[XorbRead | None]: ...


class Audit(Protocol):
    enabled: bool

    def add(self, record: dict[str, str | int | None]) -> None: ...

    def decision(
        self,
        caller: Caller | None,
        repo: RepoId,
        revision: str | None,
        path: str | None,
        verdict: str,
        reason: str,
    ) -> None: ...


class Span(Protocol):
    """A requested byte range (``server.ranges.RangeSpec``), placed in a file once its
    size is known."""

    def span(self, size: int) -> tuple[int, int]: ...


@dataclass(frozen=True, slots=True)
class CasRequest:
    """Who asks the CAS: the client's address, its ``Authorization`` (the mirror's Xet
    token; a xorb fetch carries none), and the per-client fill limit a fill it starts
    counts against (``None``: no limit)."""

    address: str
    authorization: str | None = None
    claim: FillClaim | None = None


class XetServing:
    """The Xet use cases of the facade: a read token, a CAS file, a reconstruction with
    signed xorb URLs, a xorb to send. ``enabled`` is ``xet_serve``."""

    def __init__(
        self,
        *,
        enabled: bool,
        downloads: Downloads,
        visibilities: Visibilities,
        revisions: KnownCommits,
        entries: Entries,
        records: XetRecords,
        announced: Announcements,
        fills: FillStarts,
        xorbs: Xorbs,
        audit: Audit,
        clock: Callable[[], float],
    ) -> None:
        self.enabled = enabled
        self.downloads, self.visibilities, self.revisions = downloads, visibilities, revisions
        self.entries, self.records, self.announced = entries, records, announced
        self.fills, self.xorbs, self.audit, self.clock = fills, xorbs, audit, clock
        self._secret: str | None = None

    @property
    def secret(self) -> str:
        """The Xet secret, read once: ``secret()`` runs an insert-if-missing on every
        call, too dear for every xorb fetch, and the secret never changes."""
        if self._secret is None:
            self._secret = self.records.secret()
        return self._secret

    # -- the token route ------------------------------------------------------------

    async def token(
        self, caller: Caller, repo: RepoId, revision: Revision, asked: Revision | None = None
    ) -> tuple[str, int]:
        """A read token for ``repo`` issued to ``caller``, and its expiry (unix seconds),
        once ``caller`` may download files of ``repo`` at ``revision``; the decision is
        audited. The token carries ``asked`` (the branch or tag the client named, else
        ``revision``): the audit records of its downloads name it."""
        self.downloads.admit(caller, repo)
        commit = await self._read_access(repo, revision, caller.upstream_auth)
        named = (asked or revision).value
        token, expires = issue_token(self.secret, repo, self.clock(), holder=caller, revision=named)
        self.audit.decision(caller, repo, commit, None, "allowed", "Xet read token")
        return token, expires

    async def _read_access(self, repo: RepoId, revision: Revision, auth: str | None) -> str:
        """The commit ``revision`` names, once ``auth`` may download files of ``repo`` there.

        A Xet token is the right to read this repo's blobs, so it takes the decision of
        a download: for a gated or private repo, the one ``file`` makes for a file of it.
        """
        try:
            info = await self.downloads.api(RepoApi(repo, "revision", revision), [], None, auth)
        except UpstreamUnavailable:
            return await self._read_access_in_outage(repo, revision, auth)
        data = json.loads(info.body)
        commit = payloads.commit_of_info(data)
        if commit is None:
            raise RevisionNotFound(f"Invalid rev id: {revision}")
        if await self.visibilities.visibility(repo) != "public":
            names = [s.get("rfilename") for s in data.get("siblings") or []]
            name = next((n for n in names if isinstance(n, str) and n), None)
            if name is None:
                raise EntryNotFound(f"{repo} has no file to download at {commit}")
            await self.downloads.file(FileRef(repo, Revision(commit), RepoPath(name)), auth)
        return commit

    async def _read_access_in_outage(
        self, repo: RepoId, revision: Revision, auth: str | None
    ) -> str:
        """Upstream down: the decision a download of a file known at ``revision`` gets now
        (served from the cache, or refused, as the outage policy says for this caller)."""
        commit = self.revisions.last_known_commit(repo, revision)
        entries = self.entries.entries_at(repo, commit) if commit else []
        if not entries:
            raise UpstreamUnavailable(
                f"upstream is unreachable and this mirror knows no file of {repo} at {revision}"
            )
        await self.downloads.file(FileRef(repo, Revision(commit), RepoPath(entries[0].path)), auth)
        return commit

    # -- the CAS ----------------------------------------------------------------------

    async def file(self, request: CasRequest, xet_hash: str) -> CasFile:
        """The file of the token's repo with this Xet hash, once its holder may read it now
        (401, 403, 400, 404); nothing is fetched (a HEAD)."""
        _claims, found = await self._authorized(request, xet_hash, fetch=False)
        return found

    async def reconstruction(
        self, request: CasRequest, xet_hash: str, wanted: Span | None, version: int, cas_url: str
    ) -> dict:
        """The ``/v{version}/reconstructions/{hash}`` body for the ``wanted`` bytes (all
        without a Range), its xorb URLs under ``cas_url`` signed for the token's holder for
        ``URL_TTL`` seconds. The client's download starts here: a file no fill brings yet
        is fetched, and the download is audited."""
        claims, found = await self._authorized(request, xet_hash, fetch=True)
        blob = found.blob
        if blob.size == 0:  # an empty file has no chunk to describe (and is never advertised)
            raise RangeNotSatisfiable(0)
        span = wanted.span(blob.size) if wanted else (0, blob.size - 1)
        urls = self._signer(request, found, cas_url)
        body = reconstruction.reconstruction(blob, span, urls, version)
        self._audit_download(request.address, claims, found, span[1] - span[0] + 1)
        return body

    @contextlib.asynccontextmanager
    async def xorb(
        self, request: CasRequest, xorb_hash: str, query: Mapping[str, str]
    ) -> AsyncIterator[XorbRead]:
        """The xorb a signed URL (``xorb_hash`` and its ``query``) names, open while it is
        sent, once the holder the URL names may still read its file: 403 for a forged,
        edited or expired URL, 404 once the mirror no longer has the blob."""
        grant = reconstruction.verify_xorb_url(self.secret, xorb_hash, query, self.clock())
        claims = reconstruction.grant_claims(self.secret, grant)
        caller = self._holder(claims, request.address)
        await self._may_read(caller, claims.repo, grant.commit, grant.path)
        async with self.xorbs.open(grant.sha256, grant.xorb) as read:
            if read is None:
                raise NoSuchRoute(f"xorb {xorb_hash} is not on this mirror (any more)")
            yield read

    async def _authorized(
        self, request: CasRequest, xet_hash: str, fetch: bool
    ) -> tuple[ReadToken, CasFile]:
        """The token's claims and the file of its repo with this Xet hash, once the holder
        may read that file now as ``/resolve/`` would decide.

        ``fetch`` (a reconstruction: the client's download starts): a file no fill brings
        yet is fetched, with the holder's credentials: a cold file whose hash upstream
        announced (the HEAD passed it on and started nothing), one the mirror verified once
        and let go, or, in a cluster, one only in the object store (onto this node's disk).
        """
        claims = reconstruction.token_claims(self.secret, request.authorization, self.clock())
        caller = self._holder(claims, request.address)
        found, cold = self._find(claims.repo, xet_hash, fetch)
        await self._may_read(caller, claims.repo, found.commit, found.path)
        local_missing = found.stored and self.xorbs.only_in_object_store(found.blob.sha256)
        if cold or (fetch and local_missing):
            found = self._fill(caller, claims.repo, found, request.claim)
        return claims, found

    def _find(self, repo: RepoId, xet_hash: str, fetch: bool) -> tuple[CasFile, bool]:
        """The file with this hash, and whether it is cold (no fill brings it yet: only
        looked for when ``fetch``)."""
        pending = self.announced.pending_blob
        try:
            return reconstruction.file_for_hash(self.records, repo, xet_hash, pending), False
        except EntryNotFound:
            if not fetch:
                raise
            offered = self.announced.offered_blob
            cold = reconstruction.cold_file(self.records, repo, xet_hash, offered)
            if cold is None:
                raise
            return cold, True

    def _holder(self, claims: ReadToken, address: str) -> Caller:
        """The token's holder, identified again as a request of theirs would be now and
        admitted to the token's repo (401 for a mirror token revoked since, 403 for a repo
        denied since)."""
        caller = self.downloads.identify(address, claims.presented)
        self.downloads.admit(caller, claims.repo)
        return caller

    async def _may_read(self, caller: Caller, repo: RepoId, commit: str, path: str) -> None:
        """Raise unless ``/resolve/`` would give ``caller`` this file of ``repo`` now."""
        await self.downloads.may_download(caller, FileRef(repo, Revision(commit), RepoPath(path)))

    def _fill(
        self, caller: Caller, repo: RepoId, found: CasFile, claim: FillClaim | None
    ) -> CasFile:
        """Start (or join) the fill of ``found``'s blob with what a download by ``caller``
        sends upstream; ``found`` as the fill leaves it. A file found by upstream's announced
        hash is served only from a fill that checks that hash (``check_announced``).
        ``claim``: the per-client fill limit, asked only for a new fill."""
        entry = self.entries.get_entry(repo, found.commit, found.path)
        if entry is None:
            raise EntryNotFound(f"{found.path} is not known at {found.commit}")
        sha256 = found.blob.sha256
        entry = replace(entry, sha256=sha256)  # one fill key with every other reader: the sha256
        source = FillSource(repo, found.commit, entry, caller.upstream_auth, found.announced)
        started = self.fills.start(source, claim)
        blob = started.blob or StoredBlob(sha256, found.blob.git_sha1, entry.size)
        if found.announced is not None:
            reconstruction.check_announced(self.records, started, found.announced)
        return replace(found, blob=blob, stored=found.stored or started.blob is not None)

    def _signer(self, request: CasRequest, found: CasFile, cas_url: str) -> Callable[[int], str]:
        """Signs the URL of a xorb of ``found``'s blob: it names the token's holder (xorb
        fetches carry no token) and lives ``URL_TTL`` seconds."""
        expires = int(self.clock()) + reconstruction.URL_TTL
        holder = claims_of(reconstruction.bearer_token(request.authorization))
        blob = found.blob

        def url(xorb: int) -> str:
            grant = XorbGrant(blob.sha256, xorb, holder, found.commit, found.path)
            return reconstruction.xorb_url(self.secret, cas_url, grant, expires)

        return url

    def _audit_download(self, address: str, claims: ReadToken, found: CasFile, length: int) -> None:
        """A Xet client's download, as the audit log records a file GET: who (the holder the
        token names), which file, how many bytes the reconstruction leads to, HIT or MISS."""
        if not self.audit.enabled:
            return
        repo = claims.repo
        cache = CacheStatus.HIT if found.stored else CacheStatus.MISS
        self.audit.add(
            {
                "event": "download",
                "address": address,
                "identity": claims.identity,
                "fingerprint": claims.fingerprint,
                "repo_type": repo.repo_type.value,
                "repo": repo.canonical,
                "revision": claims.revision,
                "commit": found.commit,
                "path": found.path,
                "method": "GET",  # a reconstruction is asked with a GET
                "action": "xet",
                "bytes": length,
                "status": 200,
                "cache": str(cache),
            }
        )
