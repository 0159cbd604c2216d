"""``start_server(mirror, ...)``: one dispatcher on the raw path, errors mapped in one place.

Routing is ours, not aiohttp's: the Hub's URLs need the raw, percent-encoded
path split before decoding (a revision such as ``refs%2Fpr%2F1`` is one segment;
a tree path may hold ``%2F``), with ``//`` collapsed (datasets sends it after a
trailing slash in ``HF_ENDPOINT``).
"""

from __future__ import annotations

import functools
import logging

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from hubmirror.census import WorkerCensus
from hubmirror.clientcounts import ClientCounts
from hubmirror.dashboard.context import DashboardContext
from hubmirror.dashboard.handler import handle_dashboard
from hubmirror.errors import HubMirrorError, InvalidInput
from hubmirror.hub.headers import (
    X_CACHE_STATUS,
    X_ERROR_CODE,
    X_HUBMIRROR_DOWNLOAD,
    X_REPO_COMMIT,
    parse_download_tag,
)
from hubmirror.hub.routes import (
    Housekeeping,
    RepoApi,
    Resolve,
    Route,
    Whoami,
    parse_route,
    split_raw_path,
)
from hubmirror.mirror.service import Mirror, token_fingerprint
from hubmirror.server.addresses import parse_networks
from hubmirror.server.admin import handle_offline, handle_sync
from hubmirror.server.api import handle_api, handle_housekeeping, handle_whoami
from hubmirror.server.context import CALLER, CONTEXT, ServerContext, address_of, base_url
from hubmirror.server.errors import error_response
from hubmirror.server.limits import client_limits
from hubmirror.server.metrics import handle_health, handle_metrics
from hubmirror.server.peers import handle_node_fill, is_node_route
from hubmirror.server.protocol import DEFAULT_TIMEOUTS, HubServer, Timeouts
from hubmirror.server.resolve import handle_resolve
from hubmirror.server.responses import BODY_STARTED, abort
from hubmirror.server.xet import (
    handle_xet_cas,
    handle_xet_token,
    is_xet_cas_route,
    is_xet_token_route,
)
from hubmirror.types import RepoId

log = logging.getLogger("hubmirror.server")
access_log = logging.getLogger("hubmirror.access")
_silent_log = logging.getLogger("hubmirror.access.silent")
_silent_log.disabled = True
CUT_SHORT = web.RequestKey("cut_short", str)  # why a started body broke off, for the access log

_ALLOWED = {
    Resolve: ("GET", "HEAD"),
    RepoApi: ("GET", "HEAD", "POST"),
    Housekeeping: ("GET", "HEAD", "POST"),
    Whoami: ("GET",),
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
            started = request.get(BODY_STARTED)
            if started is None:
                return error_response(exc)
            log.warning("%s %s aborted mid-body: %s", request.method, request.path, exc)
            return _cut_short_answer(request, started, exc.message)
        except ConnectionError as exc:
            started = request.get(BODY_STARTED)
            if started is None:
                raise
            if isinstance(exc, ConnectionAbortedError):  # ours: the bytes behind it failed
                log.warning("%s %s aborted mid-body: %s", request.method, request.path, exc)
                return _cut_short_answer(request, started, str(exc))
            return _cut_short_answer(request, started, "client disconnected")


def _cut_short_answer(
    request: web.BaseRequest, started: web.StreamResponse, why: str
) -> web.StreamResponse:
    """A body that broke off is an answer, not an error: the connection is dropped (never
    ended cleanly after a partial body), and handing the answer back to aiohttp gets it
    its one access-log line, marked ``cut-short``, instead of an error and a traceback."""
    abort(request)
    started.force_close()
    request[CUT_SHORT] = why
    return started


async def _dispatch(request: web.BaseRequest) -> web.StreamResponse:
    if is_node_route(request.raw_path):  # another node of the cluster, signed
        return await handle_node_fill(request)
    if is_xet_cas_route(request.raw_path, request[CONTEXT].prefix):  # Xet clients: own tokens
        return await handle_xet_cas(request, request[CONTEXT].prefix)
    route = _route_of(request.raw_path.split("?", 1)[0], request[CONTEXT].prefix)
    if route == _METRICS:
        return await handle_metrics(request)
    if route == _ADMIN_OFFLINE:
        return await handle_offline(request)
    if route == _ADMIN_SYNC:
        return await handle_sync(request)
    if route in _HEALTH:
        return await handle_health(request, ready=route == _HEALTH[1])
    if route is None or route == _DASHBOARD:
        return await _dashboard(request)
    rate = request[CONTEXT].limits.rate  # None unless rate_limit is set: nothing to pay
    if rate is not None and not isinstance(route, Housekeeping):
        rate.check(address_of(request))
    if request.method not in _ALLOWED[type(route)]:
        raise InvalidInput(f"Method {request.method} is not allowed here")
    if isinstance(route, Resolve):
        return await handle_resolve(request, route)
    if is_xet_token_route(route):  # the mirror's own Xet tokens (xet_serve)
        return await handle_xet_token(request, route)
    if isinstance(route, RepoApi):
        return await handle_api(request, route)
    if isinstance(route, Whoami):
        return await handle_whoami(request)
    return await handle_housekeeping(request, route)


_METRICS = Housekeeping("metrics")
_ADMIN_OFFLINE = Housekeeping("admin-offline")
_ADMIN_SYNC = Housekeeping("admin-sync")
_HEALTH = (Housekeeping("healthz"), Housekeeping("readyz"))
_DASHBOARD = Housekeeping("dashboard")


async def _dashboard(request: web.BaseRequest) -> web.StreamResponse:
    """``/`` and ``/dashboard/...``: the HTML pages (hubmirror.dashboard)."""
    context = request[CONTEXT]
    segments = split_raw_path(request.raw_path, context.prefix)
    dashboard = DashboardContext(
        context.mirror, base_url(request), context.prefix, context.admin_token
    )
    return await handle_dashboard(request, segments, dashboard)


def _is_dashboard(segments: list[str]) -> bool:
    """``/dashboard/...``, but not the files of a model named ``dashboard/x``."""
    return segments[:1] == ["dashboard"] and segments[2:3] != ["resolve"]


CACHED_PATH_MAX = 512  # longer paths are parsed each time: strangers make them up


def _route_of(raw_path: str, prefix: str) -> Route | None:
    """Parse a raw path; short ones once, so hot paths (HEAD of a popular file) skip the
    parser, while made-up 8 KiB paths cannot fill the cache with megabytes."""
    if len(raw_path) > CACHED_PATH_MAX:
        return _parse(raw_path, prefix)
    return _route(raw_path, prefix)


@functools.lru_cache(maxsize=65536)
def _route(raw_path: str, prefix: str) -> Route | None:
    return _parse(raw_path, prefix)


def _parse(raw_path: str, prefix: str) -> Route | None:
    segments = split_raw_path(raw_path, prefix)
    if segments == ["metrics"]:
        return _METRICS
    if segments == ["admin", "offline"]:
        return _ADMIN_OFFLINE
    if segments == ["admin", "sync"]:
        return _ADMIN_SYNC
    if segments in (["healthz"], ["readyz"]):
        return Housekeeping(segments[0])
    if _is_dashboard(segments):
        return _DASHBOARD
    return parse_route(segments) if segments else None


class AccessLogger(AbstractAccessLogger):
    """One line per request: method, path, status, bytes, cache status, duration, and
    ``cut-short`` (with why, when known) for a body that broke off. No tokens.

    It also counts every request for ``/metrics``, with or without log lines.
    """

    @property
    def enabled(self) -> bool:
        return True

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        cache = response.headers.get(X_CACHE_STATUS, "-")
        sent = 0 if request.method == "HEAD" else _body_bytes(request, response)
        kind = _kind(request.raw_path)
        mirror = request[CONTEXT].mirror
        repo = _repo_of(request) if kind == "resolve" and cache != "-" else None
        mirror.count_request(kind, response.status, cache, sent, repo)
        cut = _cut_short(request, response, sent)
        if kind != "other" and mirror.auditing and _audited(request, response, kind):
            _audit_answer(request, response, sent, cache, cut)
        if not self.logger.isEnabledFor(logging.INFO) or self.logger.disabled:
            return
        self.logger.info(
            "%s %s %s %d %s %.1fms%s",
            request.method,
            request.rel_url.raw_path[:300],
            response.status,
            sent,
            cache,
            time * 1000,
            "" if cut is None else f" cut-short{cut}",
        )


def _repo_of(request: web.BaseRequest) -> RepoId | None:
    """The repo of a file answer, for the traffic per repo (parsed once per path)."""
    try:
        route = _route_of(request.raw_path.split("?", 1)[0], request[CONTEXT].prefix)
    except HubMirrorError:
        return None
    return route.repo if isinstance(route, Resolve) else None


def _body_bytes(request: web.BaseRequest, response: web.StreamResponse) -> int:
    """Body bytes sent: aiohttp counts the status line and headers too, so take them off."""
    version = request.version
    head = len(f"HTTP/{version.major}.{version.minor} {response.status} {response.reason}\r\n")
    head += sum(len(k) + len(v) + 4 for k, v in response.headers.items()) + 2
    total = response.body_length or request.writer.output_size  # 0 when the body was cut
    return max(0, total - head)


def _audited(request: web.BaseRequest, response: web.StreamResponse, kind: str) -> bool:
    """Downloads (GETs of files) and refusals are audited; HEADs and API answers are not."""
    return response.status in _REFUSED or (kind == "resolve" and request.method == "GET")


_REFUSED = frozenset((401, 403))


def _audit_answer(
    request: web.BaseRequest,
    response: web.StreamResponse,
    sent: int,
    cache: str,
    cut: str | None,
) -> None:
    """Queue the audit record of a download or a refusal: dicts and a list append, no I/O."""
    headers = response.headers
    refused = response.status in _REFUSED
    _audit(
        request,
        {
            "event": "refused" if refused else "download",
            "commit": headers.get(X_REPO_COMMIT),
            "bytes": sent,
            "status": response.status,
            "cache": None if cache == "-" else cache,
            "verdict": "denied" if refused else None,
            "reason": headers.get(X_ERROR_CODE) or (None if cut is None else f"interrupted{cut}"),
        },
    )


def _cut_short(request: web.BaseRequest, response: web.StreamResponse, sent: int) -> str | None:
    """``None`` for a body sent whole; else ``": why"`` (the client left, or the failure that
    made the mirror drop it), or ``""`` for a body that just ended before its Content-Length
    (a fill that failed)."""
    why = request.get(CUT_SHORT)
    if why is not None:
        return f": {why}"
    if request.method != "GET":
        return None
    expected = response.content_length
    return "" if expected is not None and sent < expected else None


def _audit(request: web.BaseRequest, outcome: dict) -> None:
    """Add who asked and for what (repo, revision, path) to ``outcome``, and queue it."""
    try:
        route = _route_of(request.raw_path.split("?", 1)[0], request[CONTEXT].prefix)
    except HubMirrorError:
        return  # refused before it named a repo: not a repo request
    if not isinstance(route, Resolve | RepoApi):
        return
    caller = request.get(CALLER)  # missing when refused before the caller was identified
    outcome |= {
        "address": caller.address if caller else address_of(request),
        "identity": caller.identity if caller else None,
        "fingerprint": caller.fingerprint if caller else _fingerprint(request),
        "repo_type": route.repo.repo_type.value,
        "repo": route.repo.canonical,
        "revision": route.revision.value if route.revision else None,
        "path": (route.path.value or None) if route.path else None,
        "method": request.method,
        "action": "resolve" if isinstance(route, Resolve) else route.action,
    }
    part_of = parse_download_tag(request.headers.get(X_HUBMIRROR_DOWNLOAD))
    request[CONTEXT].mirror.audit_request(outcome, part_of)


def _fingerprint(request: web.BaseRequest) -> str:
    return token_fingerprint(request.headers.get("Authorization") or None)


def _kind(raw_path: str) -> str:
    if "/resolve/" in raw_path:
        return "resolve"
    if "/xet-cas/" in raw_path:
        return "xet"
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
    trusted_proxies: tuple[str, ...] = (),
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
    census: WorkerCensus | None = None,
    clients: ClientCounts | None = None,
) -> tuple[web.BaseRunner, int]:
    """Start listening; return the runner (to clean up) and the bound port.

    The limits are per client address (0 = no limit), counted in ``clients`` for all
    the workers of the node (or in this process's own without).
    """
    limits = client_limits(max_fills_per_client, rate_limit, rate_burst, counts=clients)
    context = ServerContext(
        mirror,
        (public_url or "").rstrip("/"),
        admin_token,
        limits,
        parse_networks(trusted_proxies),
        timeouts.body,
        census,
    )
    server = HubServer(
        Dispatcher(context),
        context=context,
        keepalive_timeout=timeouts.aiohttp_keepalive,
        access_log_class=AccessLogger,
        access_log=access_log if log_requests else _silent_log,
    )
    runner = web.ServerRunner(server, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024, reuse_port=reuse_port or None)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    mirror.listening_on(host, bound)
    return runner, bound
