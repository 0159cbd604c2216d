"""``HubClient``: one upstream Hub over one aiohttp session; answers become types or errors.

No caching and no retries here: the pool decides where to go next, the mirror
decides what to remember. Redirects of ``/resolve/`` are read, not relayed: a
cross-origin 3xx carries the file's metadata (commit, ETag, size) itself, and its
``Location`` is only ever used by the mirror itself. Every redirect is followed
by hand, and only to hosts on the allow-list (``hub.redirects``): an upstream
never makes the mirror fetch an arbitrary URL.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp

from hubmirror import __version__
from hubmirror.errors import (
    HubRefusal,
    LinkExpired,
    RedirectRefused,
    UpstreamUnavailable,
)
from hubmirror.hub import headers as h
from hubmirror.hub.redirects import is_allowed_redirect, normalize_pattern, redirect_host
from hubmirror.hub.routes import resolve_path
from hubmirror.hub.statuses import hub_error
from hubmirror.types import FileEntry, RepoId, check_commit
from hubmirror.upstream import transport

USER_AGENT = f"hubmirror/{__version__}"
READ_BUFSIZE = 1024 * 1024  # per upstream connection; a 16-segment fill holds 16 of them
_MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FileMetadata:
    """What a HEAD on ``/resolve/`` told us: the commit and the file it names."""

    commit: str
    entry: FileEntry
    xet_hash: str | None = None  # upstream keeps the file in Xet storage (X-Xet-Hash)


@dataclass(frozen=True, slots=True)
class FileSource:
    """Where a file's bytes are: its CDN ``Location`` (or resolve URL) and, for a file
    upstream keeps in Xet storage, its Xet hash."""

    location: str
    xet_hash: str | None


@dataclass(frozen=True, slots=True)
class JsonAnswer:
    status: int
    body: bytes
    link_next: str | None


def create_session(timeout: float) -> aiohttp.ClientSession:
    """The one place upstream sessions are made: pooled keep-alive, big read buffer."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=256, limit_per_host=64, ttl_dns_cache=300),
        timeout=aiohttp.ClientTimeout(
            total=None, sock_connect=transport.connect_timeout(timeout), sock_read=timeout
        ),
        read_bufsize=READ_BUFSIZE,
        headers={"User-Agent": USER_AGENT},
        trust_env=True,
    )


class HubClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        redirect_hosts: Collection[str] = (),
        default_auth: str | None = None,
    ) -> None:
        """``redirect_hosts``: host patterns redirects may lead to; this upstream's own
        host is always one of them. ``default_auth`` goes with requests whose caller
        brings no token: a site mirror's token for a central mirror that requires one."""
        self.session = session
        self.default_auth = default_auth
        self.base_url = base_url.rstrip("/")
        self.name = _host_name(self.base_url)
        self.redirect_hosts = frozenset(redirect_hosts) | {normalize_pattern(self.base_url)}

    def url(self, path: str) -> str:
        return self.base_url + path

    async def reachable(self) -> None:
        """Return when the upstream answers anything at all (a 404 of its root will do);
        raise ``UpstreamUnavailable`` saying why when it cannot be reached."""
        url = self.base_url + "/"
        async with (
            _translate(url, self.session),
            self.session.head(url, allow_redirects=False) as resp,
        ):
            resp.release()

    async def file_metadata(
        self, repo: RepoId, revision: str, path: str, auth: str | None
    ) -> FileMetadata:
        """HEAD the resolve URL, following only same-origin redirects (renames)."""
        resp, _ = await self._head_resolve(repo, revision, path, auth)
        return _metadata_from_headers(resp.headers, path)

    async def file_location(self, repo: RepoId, commit: str, path: str, auth: str | None) -> str:
        """Where the file's bytes are: the CDN ``Location`` of a cross-origin redirect, or
        the resolve URL itself. Fills ask once and send every segment there directly."""
        return (await self.file_source(repo, commit, path, auth)).location

    async def file_source(self, repo: RepoId, commit: str, path: str, auth: str | None):
        """``file_location`` and the Xet hash upstream announces with it, from one HEAD."""
        resp, url = await self._head_resolve(repo, commit, path, auth)
        xet_hash = _xet_hash(resp.headers)
        location = resp.headers.get("Location")
        if resp.status in _REDIRECTS and location:
            return FileSource(urljoin(url, location), xet_hash)  # checked by _head_resolve
        return FileSource(url, xet_hash)

    async def _head_resolve(
        self, repo: RepoId, revision: str, path: str, auth: str | None
    ) -> tuple[aiohttp.ClientResponse, str]:
        url = self.url(resolve_path(repo, revision, path))
        headers = _auth_headers(auth or self.default_auth) | {"Accept-Encoding": "identity"}
        for _ in range(_MAX_REDIRECTS):
            async with _translate(url, self.session):
                resp = await self.session.head(url, headers=headers, allow_redirects=False)
                resp.release()
            location = resp.headers.get("Location")
            if resp.status in _REDIRECTS and location:
                target = self.check_redirect(urljoin(url, location))
                if _same_origin(target, url) and not resp.headers.get(h.X_REPO_COMMIT):
                    url = target
                    continue
            raise_for_hub_status(resp.status, resp.headers, auth)
            return resp, url
        raise UpstreamUnavailable(f"{self.name}: too many redirects for {path}")

    @contextlib.asynccontextmanager
    async def open_file(
        self,
        repo: RepoId,
        commit: str,
        path: str,
        auth: str | None,
        start: int = 0,
        end: int | None = None,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """GET the file's bytes (following the CDN redirect), optionally a byte range."""
        url = self.url(resolve_path(repo, commit, path))
        async with self.open_url(url, auth, start, end) as resp:
            yield resp

    @contextlib.asynccontextmanager
    async def open_url(
        self, url: str, auth: str | None, start: int = 0, end: int | None = None
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """GET bytes at ``url``; the token goes only to the Hub's own origin, never a CDN."""
        headers = {"Accept-Encoding": "identity"}
        if start or end is not None:
            headers["Range"] = f"bytes={start}-{'' if end is None else end}"
        resp, url = await self._follow("GET", url, headers, auth)
        own = _same_origin(url, self.base_url)
        try:
            if resp.status not in (200, 206):
                if not own and resp.status in (401, 403, 404, 410):
                    raise LinkExpired(f"{self.name}: CDN link refused ({resp.status})")
                if not own:
                    raise UpstreamUnavailable(f"{self.name}: CDN answered {resp.status}")
                raise_for_hub_status(resp.status, resp.headers, auth)
            if "Range" in headers and resp.status != 206:
                raise UpstreamUnavailable(f"{self.name} ignored a Range request")
            yield resp
        finally:
            resp.release()

    async def get_json(
        self, path_and_query: str, auth: str | None, form: list[tuple[str, str]] | None = None
    ) -> JsonAnswer:
        """GET (or POST a form to) an API route; error statuses become errors."""
        url = path_and_query if "://" in path_and_query else self.url(path_and_query)
        method = "POST" if form is not None else "GET"
        resp, url = await self._follow(method, url, {}, auth, form)
        try:
            async with _translate(url, self.session):
                body = await resp.read()
        finally:
            resp.release()
        if resp.status >= 400:
            raise_for_hub_status(resp.status, resp.headers, auth)
        link_next = self.below_base(h.parse_link_next(resp.headers.get("Link")))
        return JsonAnswer(resp.status, body, link_next)

    def below_base(self, link: str | None) -> str | None:
        """A link under this upstream's URL as the path after it (``/api/...?cursor=``).

        A mirror upstream behind a path prefix (``http://gw/hubmirror``) names its next
        pages with the prefix; kept, it would be asked for below the prefix twice and
        shown to clients under a prefix this mirror does not serve.
        """
        if link and link.startswith(self.base_url + "/"):
            return link[len(self.base_url) :]
        return link

    async def _follow(
        self, method: str, url: str, headers: dict[str, str], auth: str | None, data=None
    ) -> tuple[aiohttp.ClientResponse, str]:
        """Send a request and follow its redirects by hand, as aiohttp would, except that
        every hop must be on the allow-list and the token goes only to our own origin."""
        for _ in range(_MAX_REDIRECTS):
            self.check_redirect(url)
            own = _same_origin(url, self.base_url)
            hop_headers = headers | _auth_headers((auth or self.default_auth) if own else None)
            async with _translate(url, self.session):
                resp = await self.session.request(
                    method, url, headers=hop_headers, data=data, allow_redirects=False
                )
            location = resp.headers.get("Location")
            if resp.status not in _REDIRECTS or not location:
                return resp, url
            resp.release()
            url = urljoin(url, location)
            if (resp.status == 303 and method != "HEAD") or (
                resp.status in (301, 302) and method == "POST"
            ):
                method, data = "GET", None  # what browsers, aiohttp and httpx do
        raise UpstreamUnavailable(f"{self.name}: too many redirects for {urlsplit(url).path}")

    def check_redirect(self, url: str) -> str:
        """``url`` if it is below this upstream's URL or its host is on the allow-list;
        otherwise log and refuse it."""
        if url.startswith(self.base_url + "/") or is_allowed_redirect(url, self.redirect_hosts):
            return url
        host = redirect_host(url)
        shown = host or "a malformed URL"
        log.warning(
            "upstream %s redirected to %s, not on the redirect allow-list", self.name, shown
        )
        raise RedirectRefused(
            f"Upstream {self.name} redirected to {shown}, which is not on this mirror's "
            "redirect allow-list (setting redirect_hosts)",
            host=host,
        )


def _auth_headers(auth: str | None) -> dict[str, str]:
    return {"Authorization": auth} if auth else {}


def _host_name(url: str) -> str:
    """``host[:port]`` of ``url`` for logs and errors: user info (a password) left out."""
    netloc = urlsplit(url).netloc.rpartition("@")[2]
    return netloc or url


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.netloc) == (pb.scheme, pb.netloc)


@contextlib.asynccontextmanager
async def _translate(url: str, session: aiohttp.ClientSession) -> AsyncIterator[None]:
    """Transport failures become ``UpstreamUnavailable``: never a 404 for an outage."""
    try:
        yield
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise transport.failure(exc, _host_name(url), session.timeout) from None


def raise_for_hub_status(status: int, headers, auth: str | None) -> None:
    """Turn an upstream error status into the matching domain error; 2xx/3xx pass."""
    error = hub_error(status, headers, authenticated=bool(auth))
    if error is not None:
        raise error


def _metadata_from_headers(headers, path: str) -> FileMetadata:
    """Read commit, etag and size as huggingface_hub does; refuse a non-Hub answer."""
    commit = headers.get(h.X_REPO_COMMIT)
    etag = h.normalize_etag(headers.get(h.X_LINKED_ETAG) or headers.get("ETag"))
    size = headers.get(h.X_LINKED_SIZE) or headers.get("Content-Length")
    try:
        check_commit(commit or "")
        size_value = int(size or "")
    except ValueError:
        raise UpstreamUnavailable(f"upstream answer for {path} lacks Hub metadata") from None
    if not etag:
        raise UpstreamUnavailable(f"upstream answer for {path} has no ETag")
    lfs = len(etag) == 64 and headers.get(h.X_LINKED_ETAG) is not None
    entry = FileEntry(path=path, size=size_value, etag=etag, lfs=lfs, sha256=etag if lfs else None)
    return FileMetadata(commit=commit, entry=entry, xet_hash=_xet_hash(headers) if lfs else None)


def _xet_hash(headers) -> str | None:
    """Upstream's ``X-Xet-Hash``, when it is one (64 lowercase hex digits)."""
    value = (headers.get("X-Xet-Hash") or "").strip()
    return value if len(value) == 64 and all(c in "0123456789abcdef" for c in value) else None


__all__ = ["HubClient", "HubRefusal", "FileMetadata", "FileSource", "JsonAnswer", "create_session"]
