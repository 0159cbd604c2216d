"""``start_server(mirror, ...)``: one dispatcher on the raw path, errors mapped in one place.

Routing is ours, not aiohttp's: the Hub's URLs need the raw, percent-encoded
path split before decoding (hub-api.md §1.4), with ``//`` collapsed.
"""

from __future__ import annotations

import functools
import logging

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from hubmirror.errors import HubMirrorError, InvalidInput
from hubmirror.hub.headers import X_CACHE_STATUS
from hubmirror.hub.routes import (
    Housekeeping,
    RepoApi,
    Resolve,
    Route,
    parse_route,
    split_raw_path,
)
from hubmirror.mirror.service import Mirror
from hubmirror.server.admin import handle_offline, handle_sync
from hubmirror.server.api import handle_api, handle_housekeeping
from hubmirror.server.context import CONTEXT, ServerContext
from hubmirror.server.errors import error_response
from hubmirror.server.limits import client_limits
from hubmirror.server.metrics import handle_health, handle_metrics
from hubmirror.server.protocol import HubServer
from hubmirror.server.resolve import handle_resolve
from hubmirror.server.responses import BODY_STARTED, abort

log = logging.getLogger("hubmirror.server")
access_log = logging.getLogger("hubmirror.access")
_silent_log = logging.getLogger("hubmirror.access.silent")
_silent_log.disabled = True

_ALLOWED = {
    Resolve: ("GET", "HEAD"),
    RepoApi: ("GET", "HEAD", "POST"),
    Housekeeping: ("GET", "HEAD", "POST"),
}


class Dispatcher:
    """The one request handler: route on the raw path, then map domain errors to answers.

    aiohttp's low-level server is used without an ``Application``: there is a single
    catch-all route anyway, and skipping the router and middleware chain measured
    about a third faster on warm HEADs.
    """

    def __init__(self, context: ServerContext) -> None:
        self.context = context

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        request[CONTEXT] = self.context
        try:
            return await _dispatch(request)
        except HubMirrorError as exc:
            if request.get(BODY_STARTED):
                log.warning("%s %s aborted mid-body: %s", request.method, request.path, exc)
                abort(request)
                raise ConnectionAbortedError(exc.message) from exc
            return error_response(exc)


async def _dispatch(request: web.BaseRequest) -> web.StreamResponse:
    route = _route(request.raw_path.split("?", 1)[0], request[CONTEXT].prefix)
    if route == _METRICS:
        return await handle_metrics(request)
    if route == _ADMIN_OFFLINE:
        return await handle_offline(request)
    if route == _ADMIN_SYNC:
        return await handle_sync(request)
    if route in _HEALTH:
        return await handle_health(request, ready=route == _HEALTH[1])
    if route is None:
        return web.Response(text="hubmirror: set HF_ENDPOINT to this server's URL\n")
    rate = request[CONTEXT].limits.rate  # None unless rate_limit is set: nothing to pay
    if rate is not None and not isinstance(route, Housekeeping):
        rate.check(request.remote or "-")
    if request.method not in _ALLOWED[type(route)]:
        raise InvalidInput(f"Method {request.method} is not allowed here")
    if isinstance(route, Resolve):
        return await handle_resolve(request, route)
    if isinstance(route, RepoApi):
        return await handle_api(request, route)
    return await handle_housekeeping(request, route)


_METRICS = Housekeeping("metrics")
_ADMIN_OFFLINE = Housekeeping("admin-offline")
_ADMIN_SYNC = Housekeeping("admin-sync")
_HEALTH = (Housekeeping("healthz"), Housekeeping("readyz"))


@functools.lru_cache(maxsize=65536)
def _route(raw_path: str, prefix: str) -> Route | None:
    """Parse a raw path once; hot paths (HEAD of a popular file) skip the parser."""
    segments = split_raw_path(raw_path, prefix)
    if segments == ["metrics"]:
        return _METRICS
    if segments == ["admin", "offline"]:
        return _ADMIN_OFFLINE
    if segments == ["admin", "sync"]:
        return _ADMIN_SYNC
    if segments in (["healthz"], ["readyz"]):
        return Housekeeping(segments[0])
    return parse_route(segments) if segments else None


class AccessLogger(AbstractAccessLogger):
    """One line per request: method, path, status, bytes, cache status, duration. No tokens.

    It also counts every request for ``/metrics``, with or without log lines.
    """

    @property
    def enabled(self) -> bool:
        return True

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        cache = response.headers.get(X_CACHE_STATUS, "-")
        sent = 0 if request.method == "HEAD" else _body_bytes(request, response)
        request[CONTEXT].mirror.served.record(_kind(request.raw_path), response.status, cache, sent)
        if not self.logger.isEnabledFor(logging.INFO) or self.logger.disabled:
            return
        self.logger.info(
            "%s %s %s %d %s %.1fms",
            request.method,
            request.rel_url.raw_path[:300],
            response.status,
            sent,
            cache,
            time * 1000,
        )


def _body_bytes(request: web.BaseRequest, response: web.StreamResponse) -> int:
    """Body bytes sent: aiohttp counts the status line and headers too, so take them off."""
    version = request.version
    head = len(f"HTTP/{version.major}.{version.minor} {response.status} {response.reason}\r\n")
    head += sum(len(k) + len(v) + 4 for k, v in response.headers.items()) + 2
    return max(0, response.body_length - head)


def _kind(raw_path: str) -> str:
    if "/resolve/" in raw_path:
        return "resolve"
    return "api" if raw_path.lstrip("/").startswith("api/") else "other"


async def start_server(
    mirror: Mirror,
    host: str,
    port: int,
    *,
    public_url: str | None = None,
    log_requests: bool = True,
    reuse_port: bool = False,
    admin_token: str | None = None,
    max_fills_per_client: int = 0,
    rate_limit: float = 0.0,
    rate_burst: int = 200,
) -> tuple[web.BaseRunner, int]:
    """Start listening; return the runner (to clean up) and the bound port.

    The limits are per client address and per server process (0 = no limit).
    """
    limits = client_limits(max_fills_per_client, rate_limit, rate_burst)
    context = ServerContext(mirror, (public_url or "").rstrip("/"), admin_token, limits)
    server = HubServer(
        Dispatcher(context),
        context=context,
        access_log_class=AccessLogger,
        access_log=access_log if log_requests else _silent_log,
    )
    runner = web.ServerRunner(server, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024, reuse_port=reuse_port or None)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    return runner, bound
