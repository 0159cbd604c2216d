"""A Hub error answer (status, ``X-Error-Code``, message) as a domain error.

The same reading huggingface_hub's ``hf_raise_for_status`` applies, shared by the mirror's
upstream client and the download client: refusals (401/403/404 with their codes)
are answers, 429 and 5xx are outages.
"""

from __future__ import annotations

from collections.abc import Mapping

from hubmirror.errors import (
    AwaitingApproval,
    DisabledRepo,
    EntryNotFound,
    Forbidden,
    GatedRepo,
    HubMirrorError,
    InvalidCredentials,
    InvalidInput,
    MirrorOffline,
    NotAllowed,
    RangeNotSatisfiable,
    RepoNotFound,
    RevisionNotFound,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from hubmirror.hub import headers as h

# What a hubmirror upstream (a tier's central mirror, docs/scaling.md) sends with a 5xx
# when its *own* upstream failed: the answer comes from a healthy server.
_RELAYED_OUTAGES = frozenset({"UpstreamUnavailable", "UpstreamTimeout", "RateLimited"})
# ... and with a 403 when its own rules refuse the repo: the site says the same.
_MIRROR_REFUSALS = {"RepoNotAllowed": NotAllowed, "AwaitingApproval": AwaitingApproval}

_REFUSALS = {
    "RepoNotFound": RepoNotFound,
    "GatedRepo": GatedRepo,
    "RevisionNotFound": RevisionNotFound,
}


class RelayedOutage(UpstreamUnavailable):
    """A mirror upstream answered that the Hub behind it cannot be reached.

    Still an outage for this request (5xx, never "not found"), but the upstream itself
    is up and serves what it has cached: the pool must not open its circuit breaker,
    or one tier's outage would hide the other tier's cache. It lives here, beside the
    reading of the wire that makes it, and maps to ``UpstreamUnavailable``'s row.
    """


class RelayedOffline(MirrorOffline):
    """A mirror upstream is offline and lacks the thing: so do we, until it has it. Its
    words are passed on as they are (they are about that mirror, not this one)."""


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
    if status == 403 and code in _MIRROR_REFUSALS:
        return _MIRROR_REFUSALS[code](message)
    if code == "MirrorOffline":  # a mirror upstream, offline, lacks it: so do we, for now
        return RelayedOffline(f"upstream mirror: {message}")
    if status >= 500 and code in _RELAYED_OUTAGES:
        return RelayedOutage(f"upstream mirror: {message}", retry_after=retry_after(headers))
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
    # ASCII digits only, and few of them: int() of "²" or of 5,000 digits raises.
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None
