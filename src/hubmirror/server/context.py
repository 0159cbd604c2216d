"""What every handler reads from a request: the mirror, the caller's token, the base URL."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from aiohttp import web

from hubmirror.census import WorkerCensus
from hubmirror.errors import InvalidCredentials, InvalidInput, RequestTimeout
from hubmirror.mirror.service import INVALID_CREDENTIALS, Caller, Mirror
from hubmirror.server.addresses import Network, client_address
from hubmirror.server.limits import NO_LIMITS, ClientLimits


@dataclass(frozen=True)
class ServerContext:
    """The server's wiring, handed to every request by the dispatcher."""

    mirror: Mirror
    public_url: str = ""  # scheme://host[/prefix] clients use, or "" to take it from requests
    admin_token: str | None = None
    limits: ClientLimits = NO_LIMITS  # per client address: request rate, fills at once
    trusted_proxies: tuple[Network, ...] = ()  # whose X-Forwarded-For names the client
    body_timeout: float = 30.0  # seconds a request body may take to arrive (0 = no limit)
    census: WorkerCensus | None = None  # with --workers N: the workers alive and restarted

    @property
    def prefix(self) -> str:
        return urlsplit(self.public_url).path.rstrip("/")


T = TypeVar("T")

CONTEXT = web.RequestKey("hubmirror", ServerContext)
CALLER = web.RequestKey("hubmirror-caller", Caller)


def mirror_of(request: web.BaseRequest) -> Mirror:
    return request[CONTEXT].mirror


def limits_of(request: web.BaseRequest) -> ClientLimits:
    return request[CONTEXT].limits


async def body_within_timeout(request: web.BaseRequest, read: Awaitable[T]) -> T:
    """``read`` (of the request body), or 408 once ``body_timeout`` has passed: a client
    that sends headers and then a trickle of body must not hold a connection for ever."""
    seconds = request[CONTEXT].body_timeout
    if not seconds:
        return await read
    try:
        async with asyncio.timeout(seconds):
            return await read
    except TimeoutError:
        raise RequestTimeout(
            f"the request body did not arrive within {seconds:g} s (body_timeout)"
        ) from None


def authorization_of(request: web.BaseRequest) -> str | None:
    """The caller's ``Authorization`` value. Anything but printable ASCII is no token of
    theirs and could not be sent upstream as it came: refused as the Hub refuses a
    wrong token."""
    value = request.headers.get("Authorization") or None
    if value is not None and not (value.isascii() and value.isprintable()):
        raise InvalidCredentials(INVALID_CREDENTIALS)
    return value


def address_of(request: web.BaseRequest) -> str:
    """The client's address; behind a trusted proxy, the one it forwarded for."""
    context = request.get(CONTEXT)
    remote = request.remote or "-"
    if context is None or not context.trusted_proxies:
        return remote
    forwarded = request.headers.get("X-Forwarded-For")
    return client_address(remote, forwarded, context.trusted_proxies)


def caller_of(request: web.BaseRequest) -> Caller:
    """Who sent this request (identified once, then kept on the request for the audit log)."""
    caller = request.get(CALLER)
    if caller is None:
        authorization = authorization_of(request)
        caller = request[CALLER] = request[CONTEXT].mirror.identify(
            address_of(request), authorization
        )
    return caller


def base_url(request: web.BaseRequest) -> str:
    """Scheme, host and prefix clients use to reach us: setting, else X-Forwarded-*, else Host."""
    configured = request[CONTEXT].public_url
    if configured:
        return configured
    proto = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
    host = request.headers.get("X-Forwarded-Host", request.host).split(",")[0].strip()
    if proto not in ("http", "https") or not _AUTHORITY.match(host):
        # Reflected into a Link that clients follow with their token: a proxy's cache
        # must never keep one pointing elsewhere.
        raise InvalidInput("Invalid Host or X-Forwarded-Host/-Proto header (or set public_url)")
    return f"{proto}://{host}"


_AUTHORITY = re.compile(r"^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")
