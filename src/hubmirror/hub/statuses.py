"""A Hub error answer (status, ``X-Error-Code``, message) as a domain error.

The same reading huggingface_hub applies (hub-api.md §1.5), shared by the mirror's
upstream client and the download client: refusals (401/403/404 with their codes)
are answers, 429 and 5xx are outages.
"""

from __future__ import annotations

from collections.abc import Mapping

from hubmirror.errors import (
    DisabledRepo,
    EntryNotFound,
    Forbidden,
    GatedRepo,
    HubMirrorError,
    InvalidCredentials,
    InvalidInput,
    RangeNotSatisfiable,
    RepoNotFound,
    RevisionNotFound,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from hubmirror.hub import headers as h

_REFUSALS = {
    "RepoNotFound": RepoNotFound,
    "GatedRepo": GatedRepo,
    "RevisionNotFound": RevisionNotFound,
}


def hub_error(
    status: int,
    headers: Mapping[str, str],
    *,
    authenticated: bool = False,
    message: str | None = None,
) -> HubMirrorError | None:
    """The error an answer with ``status`` means, or ``None`` for 2xx/3xx."""
    if status < 400:
        return None
    code = headers.get(h.X_ERROR_CODE)
    message = message or headers.get(h.X_ERROR_MESSAGE) or f"upstream answered {status}"
    if code == "EntryNotFound":
        commit = headers.get(h.X_REPO_COMMIT)
        return EntryNotFound(message, commit=commit, authenticated=authenticated)
    if code in _REFUSALS:
        return _REFUSALS[code](message, authenticated=authenticated)
    return _without_code(status, headers, message, authenticated)


def _without_code(
    status: int, headers: Mapping[str, str], message: str, authenticated: bool
) -> HubMirrorError:
    if message.startswith("Access to this resource is disabled."):
        return DisabledRepo(message, authenticated=authenticated)
    if status == 401 and message.startswith("Invalid credentials in Authorization header"):
        return InvalidCredentials(message, authenticated=authenticated)
    if status in (401, 404):
        return RepoNotFound(message, authenticated=authenticated)
    if status == 403:
        return Forbidden(message, authenticated=authenticated)
    if status == 416:
        return RangeNotSatisfiable(0)
    if status == 429:
        return UpstreamRateLimited(message, retry_after=retry_after(headers))
    if 400 <= status < 500:
        return InvalidInput(message)
    return UpstreamUnavailable(f"upstream answered {status}", retry_after=retry_after(headers))


def retry_after(headers: Mapping[str, str]) -> int | None:
    value = headers.get("Retry-After", "")
    return int(value) if value.isdigit() else None
