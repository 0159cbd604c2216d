"""What every handler reads from a request: the mirror, the caller's token, the base URL."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from hubmirror.mirror.callers import Caller
from hubmirror.mirror.service import Mirror


@dataclass(frozen=True)
class ServerContext:
    """The server's wiring, handed to every request by the dispatcher."""

    mirror: Mirror
    public_url: str = ""  # scheme://host[/prefix] clients use, or "" to take it from requests
    admin_token: str | None = None

    @property
    def prefix(self) -> str:
        return urlsplit(self.public_url).path.rstrip("/")


CONTEXT = web.RequestKey("hubmirror", ServerContext)
CALLER = web.RequestKey("hubmirror-caller", Caller)


def mirror_of(request: web.BaseRequest) -> Mirror:
    return request[CONTEXT].mirror


def caller_of(request: web.BaseRequest) -> Caller:
    """Who sent this request (identified once, then kept on the request for the audit log)."""
    caller = request.get(CALLER)
    if caller is None:
        authorization = request.headers.get("Authorization") or None
        caller = request[CALLER] = request[CONTEXT].mirror.identify(
            request.remote or "-", authorization
        )
    return caller


def base_url(request: web.BaseRequest) -> str:
    """Scheme, host and prefix clients use to reach us: setting, else X-Forwarded-*, else Host."""
    configured = request[CONTEXT].public_url
    if configured:
        return configured
    proto = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
    host = request.headers.get("X-Forwarded-Host", request.host).split(",")[0].strip()
    return f"{proto}://{host}"
