"""Header names and values of the Hub protocol, and which upstream signals never pass.

The mirror builds every file response's headers itself from the index, so no
upstream header (``Location``, ``X-Xet-*``, ``Content-Encoding``, ``Set-Cookie``)
can leak by accident: stripping Xet (which would send clients past the mirror) is
structural.
"""

from __future__ import annotations

import enum
import functools
import re
from urllib.parse import quote

from hubmirror.types import FileEntry, RepoId

X_REPO_COMMIT = "X-Repo-Commit"
X_LINKED_ETAG = "X-Linked-Etag"
X_LINKED_SIZE = "X-Linked-Size"
X_ERROR_CODE = "X-Error-Code"
X_ERROR_MESSAGE = "X-Error-Message"
X_CACHE_STATUS = "X-Cache-Status"
X_HF_WARNING = "X-HF-Warning"  # "topic; message": huggingface_hub logs it once per topic
# "<id>; parts=<n>": sent by `hubmirror download` with each ranged request of one file, so
# the mirror audits the file's n parts as one download
X_HUBMIRROR_DOWNLOAD = "X-Hubmirror-Download"

X_XET_HASH = "X-Xet-Hash"
X_XET_CAS_URL = "X-Xet-Cas-Url"
X_XET_ACCESS_TOKEN = "X-Xet-Access-Token"
X_XET_TOKEN_EXPIRATION = "X-Xet-Token-Expiration"
XET_READ_TOKEN = "xet-read-token"  # the API action that hands out the mirror's Xet tokens
XET_CAS_PREFIX = "/xet-cas"  # below the mirror's base URL: its own Xet CAS routes

_LINK_NEXT = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')


def bearer(token: str | None) -> str | None:
    """The ``Authorization`` value of a token given on a command line or in a request body:
    the Hub reads ``Bearer <token>``; one that already says ``Bearer`` is kept as it is."""
    if not token:
        return None
    return token if token.startswith("Bearer ") else f"Bearer {token}"


class CacheStatus(enum.StrEnum):
    """Where a file response's bytes come from, shown as ``X-Cache-Status``."""

    HIT = "HIT"  # verified blob on local disk
    MISS = "MISS"  # fetched from upstream for this request (or a fill in progress)
    STALE = "STALE"  # served from cache because no upstream could confirm it


class ErrorCode(enum.StrEnum):
    """The ``X-Error-Code`` values huggingface_hub maps to its exceptions (and acts on)."""

    REPO_NOT_FOUND = "RepoNotFound"
    GATED_REPO = "GatedRepo"
    REVISION_NOT_FOUND = "RevisionNotFound"
    ENTRY_NOT_FOUND = "EntryNotFound"
    BAD_REQUEST = "BadRequest"
    RANGE_NOT_SATISFIABLE = "RangeNotSatisfiable"
    REQUEST_TIMEOUT = "RequestTimeout"  # this mirror's own: a request body too slow
    NOT_FOUND = "NotFound"
    UPSTREAM_UNAVAILABLE = "UpstreamUnavailable"
    UPSTREAM_TIMEOUT = "UpstreamTimeout"
    MIRROR_OFFLINE = "MirrorOffline"  # this mirror's own: offline, and it lacks the thing
    RATE_LIMITED = "RateLimited"
    TOO_MANY_REQUESTS = "TooManyRequests"  # this mirror's own per-client limits
    REDIRECT_REFUSED = "RedirectRefused"
    INTEGRITY = "IntegrityError"
    STORAGE_FULL = "InsufficientStorage"
    FORBIDDEN = "Forbidden"
    NOT_ALLOWED = "RepoNotAllowed"
    AWAITING_APPROVAL = "AwaitingApproval"


def normalize_etag(value: str | None) -> str | None:
    """Drop a ``W/`` prefix and quotes, as huggingface_hub does."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"') or None


def file_headers(commit: str, entry: FileEntry, cache_status: CacheStatus) -> dict[str, str]:
    """Metadata headers of a ``/resolve/`` answer, HEAD and GET alike."""
    name = entry.path.rsplit("/", 1)[-1]
    return {
        X_REPO_COMMIT: commit,
        "ETag": f'"{entry.etag}"',
        X_LINKED_ETAG: f'"{entry.etag}"',
        X_LINKED_SIZE: str(entry.size),
        "Accept-Ranges": "bytes",
        "Content-Type": "application/octet-stream",
        "Content-Disposition": content_disposition(name),
        X_CACHE_STATUS: str(cache_status),
    }


@functools.lru_cache(maxsize=4096)
def xet_headers(
    base: str, repo: RepoId, commit: str, xet_hash: str, revision: str | None = None
) -> dict[str, str]:
    """A ``/resolve/`` answer's Xet headers: the hash the mirror computed and its own token
    and reconstruction URLs (never upstream's), which huggingface_hub follows verbatim.

    The token URL names the commit (the token is for the files the client saw) and, when
    the client asked for a branch or tag, that revision as ``?revision=``: the token
    carries it, so the audit records of Xet downloads name the revision asked, as those
    of ``/resolve/`` GETs do.

    Kept for hot files: every HEAD of a Xet file carries them. Callers merge, never edit."""
    token = f"{base}/api/{repo.repo_type.plural}/{repo.name}/{XET_READ_TOKEN}/{commit}"
    if revision is not None and revision != commit:
        token += f"?revision={quote(revision, safe='')}"
    reconstruction = f"{base}{XET_CAS_PREFIX}/v1/reconstructions/{xet_hash}"
    return {
        X_XET_HASH: xet_hash,
        "Link": f'<{token}>; rel="xet-auth", <{reconstruction}>; rel="xet-reconstruction-info"',
    }


def content_disposition(filename: str) -> str:
    """``filename="..."`` ends with ``;`` because huggingface_hub's regex needs it."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_")
    return f"inline; filename*=UTF-8''{quote(filename)}; filename=\"{ascii_name}\";"


def parse_link_next(link: str | None) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header, if any."""
    if not link:
        return None
    match = _LINK_NEXT.search(link)
    return match.group(1) if match else None


_DOWNLOAD_TAG = re.compile(r"([A-Za-z0-9_-]{8,64}); *parts=([1-9][0-9]{0,3})")


def download_tag(download_id: str, parts: int) -> str:
    """The ``X-Hubmirror-Download`` value of one file's download in ``parts`` requests."""
    return f"{download_id}; parts={parts}"


def parse_download_tag(value: str | None) -> tuple[str, int] | None:
    """``(id, parts)`` of an ``X-Hubmirror-Download`` value; ``None`` if absent or malformed."""
    match = _DOWNLOAD_TAG.fullmatch(value.strip()) if value else None
    return (match[1], int(match[2])) if match else None
