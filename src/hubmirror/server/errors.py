"""ERROR_MAP: every domain error → (HTTP status, X-Error-Code), and the response built from it.

A test checks that every exception in ``hubmirror.errors`` has a row here.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from aiohttp import web

from hubmirror import errors as e
from hubmirror.hub.headers import (
    X_ERROR_CODE,
    X_ERROR_MESSAGE,
    X_HF_WARNING,
    X_REPO_COMMIT,
    ErrorCode,
)

Status = int | Callable[[e.HubMirrorError], int]


def _401_or(status: int) -> Callable[[e.HubMirrorError], int]:
    """The Hub answers anonymous callers 401 and authenticated ones ``status``."""
    return lambda exc: status if getattr(exc, "authenticated", False) else 401


RETRY_AFTER = 5  # seconds, when upstream did not say: clients back off instead of hammering


ERROR_MAP: dict[type[e.HubMirrorError], tuple[Status, ErrorCode | None]] = {
    e.HubMirrorError: (500, None),
    e.InvalidInput: (400, ErrorCode.BAD_REQUEST),
    e.RangeNotSatisfiable: (416, ErrorCode.RANGE_NOT_SATISFIABLE),
    e.RequestTimeout: (408, ErrorCode.REQUEST_TIMEOUT),
    e.NoSuchRoute: (404, ErrorCode.NOT_FOUND),
    e.HubRefusal: (403, ErrorCode.FORBIDDEN),
    e.RepoNotFound: (_401_or(404), ErrorCode.REPO_NOT_FOUND),
    e.GatedRepo: (_401_or(403), ErrorCode.GATED_REPO),
    e.RevisionNotFound: (404, ErrorCode.REVISION_NOT_FOUND),
    e.EntryNotFound: (404, ErrorCode.ENTRY_NOT_FOUND),
    e.InvalidCredentials: (401, None),
    e.DisabledRepo: (403, None),
    e.Forbidden: (403, None),
    e.NotAllowed: (403, ErrorCode.NOT_ALLOWED),
    e.AwaitingApproval: (403, ErrorCode.AWAITING_APPROVAL),
    e.UpstreamUnavailable: (503, ErrorCode.UPSTREAM_UNAVAILABLE),
    e.UpstreamTimeout: (504, ErrorCode.UPSTREAM_TIMEOUT),
    e.UpstreamUnreachable: (503, ErrorCode.UPSTREAM_UNAVAILABLE),
    e.UpstreamSilent: (504, ErrorCode.UPSTREAM_TIMEOUT),
    # 409, not 503: clients retry 5xx for a minute, and nothing comes while offline;
    # not 404: the thing exists, this mirror just cannot fetch it
    e.MirrorOffline: (409, ErrorCode.MIRROR_OFFLINE),
    e.LinkExpired: (503, ErrorCode.UPSTREAM_UNAVAILABLE),
    e.UpstreamRateLimited: (503, ErrorCode.RATE_LIMITED),
    e.StoreUnavailable: (503, ErrorCode.UPSTREAM_UNAVAILABLE),
    e.StoreMisconfigured: (503, ErrorCode.UPSTREAM_UNAVAILABLE),
    e.IntegrityError: (502, ErrorCode.INTEGRITY),
    e.BlobMissing: (503, ErrorCode.UPSTREAM_UNAVAILABLE),
    e.StorageFull: (507, ErrorCode.STORAGE_FULL),
    e.IndexUnavailable: (503, None),
    e.RedirectRefused: (502, ErrorCode.REDIRECT_REFUSED),
    e.TooManyRequests: (429, ErrorCode.TOO_MANY_REQUESTS),
}


def lookup(exc: e.HubMirrorError) -> tuple[int, ErrorCode | None]:
    for cls in type(exc).__mro__:
        if cls in ERROR_MAP:
            status, code = ERROR_MAP[cls]
            return (status(exc) if callable(status) else status), code
    return 500, None


def error_response(exc: e.HubMirrorError) -> web.Response:
    """A Hub-style error: status, ``X-Error-Code``, ``X-Error-Message`` and a JSON body."""
    status, code = lookup(exc)
    headers = {X_ERROR_MESSAGE: _header_safe(exc.message)}
    if code:
        headers[X_ERROR_CODE] = str(code)
    commit = getattr(exc, "commit", None)
    if commit:
        headers[X_REPO_COMMIT] = commit
    if isinstance(exc, e.RangeNotSatisfiable):  # RFC 9110: the size a valid Range fits
        headers["Content-Range"] = f"bytes */{exc.size}"
    if isinstance(exc, e.UpstreamUnavailable):
        # huggingface_hub hides the server's words behind "check your connection";
        # this header it logs as they are, so the user reads why and what to do
        headers[X_HF_WARNING] = "hubmirror; " + headers[X_ERROR_MESSAGE]
    if isinstance(exc, e.UpstreamUnavailable | e.TooManyRequests) and not isinstance(
        exc, e.MirrorOffline
    ):
        headers["Retry-After"] = str(exc.retry_after or RETRY_AFTER)
    body = json.dumps({"error": exc.message}).encode()
    return web.Response(status=status, body=body, headers=headers, content_type="application/json")


def _header_safe(message: str) -> str:
    """ASCII without control characters: a header must not carry what the caller injected."""
    text = "".join(c if 0x20 <= ord(c) < 0x7F else "?" for c in message)
    return text[:500]
