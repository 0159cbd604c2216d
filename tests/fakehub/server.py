"""The two aiohttp apps (hub and CDN): one catch-all route each, dispatched on the raw path.

aiohttp's own router decodes paths, which would merge `refs%2Fpr%2F1` into three segments;
routing ourselves on `request.raw_path` keeps the Hub's encoding rules.
A middleware logs every request, applies the request-level faults and turns HubError into
the Hub's error answer.
"""

import socket
import struct
from collections.abc import Awaitable, Callable

from aiohttp import web

from tests.fakehub import api, files, gitserve
from tests.fakehub.access import HubError
from tests.fakehub.appkeys import ENTRY, HOST, HUB
from tests.fakehub.requestlog import LogEntry
from tests.fakehub.routes import Route, parse_cdn, parse_hub
from tests.fakehub.xetcas import CAS_HANDLERS, parse_cas

Handler = Callable[[web.Request, Route], Awaitable[web.StreamResponse]]
READ = ("GET", "HEAD")
HUB_HANDLERS: dict[str, tuple[tuple[str, ...], Handler]] = {
    "resolve": (READ, files.resolve),
    "info": (READ, api.repo_info),
    "tree": (READ, api.tree),
    "paths-info": (("POST",), api.paths_info),
    "refs": (READ, api.refs),
    "commits": (READ, api.commits),
    "treesize": (READ, api.treesize),
    "xet-read-token": (READ, api.xet_read_token),
    "agent-harnesses": (READ, api.agent_harnesses),
    "telemetry": (("GET", "HEAD", "POST"), api.telemetry),
    "whoami": (("GET",), api.whoami),
    "git-info-refs": (READ, gitserve.info_refs),
    "git-upload-pack": (("POST",), gitserve.upload_pack),
    "git-receive-pack": (("GET", "POST"), gitserve.receive_pack),
    "lfs-batch": (("POST",), gitserve.lfs_batch),
}
CDN_HANDLERS: dict[str, tuple[tuple[str, ...], Handler]] = {"cdn-blob": (READ, files.cdn_blob)}


def make_app(hub, host: str) -> web.Application:
    """The app for one port; `host` ("hub", "cdn" or "cas") picks the routes and labels the log."""
    app = web.Application(middlewares=[exchange], client_max_size=16 * 1024 * 1024)
    app[HUB] = hub
    app[HOST] = host
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app


async def dispatch(request: web.Request) -> web.StreamResponse:
    if request.app[HOST] == "hub":
        route, table = parse_hub(request.raw_path), HUB_HANDLERS
    elif request.app[HOST] == "cas":
        route, table = parse_cas(request.raw_path), CAS_HANDLERS
    else:
        route, table = parse_cdn(request.raw_path), CDN_HANDLERS
    methods, handler = table.get(route.kind, ((), None))
    if handler is None or request.method not in methods:
        raise HubError(404, None, f"Not Found: {request.method} {request.path}")
    return await handler(request, route)


@web.middleware
async def exchange(request: web.Request, handler) -> web.StreamResponse:
    """Log the request, apply latency/hang/fail faults, map HubError to the Hub's answer."""
    hub = request.app[HUB]
    entry = LogEntry(
        host=request.app[HOST],
        method=request.method,
        target=request.raw_path,
        headers={k.lower(): v for k, v in request.headers.items()},
    )
    hub.log.append(entry)
    request[ENTRY] = entry
    if hub.faults.reset_connections:
        _reset(request)
        raise ConnectionResetError("fake hub: injected connection reset")
    try:
        await hub.faults.delay()
        _raise_injected_failure(hub.faults)
        response = await handler(request)
    except HubError as error:
        response = error_response(error)
    if not response.prepared:
        entry.status = response.status
        body = getattr(response, "body", None)
        entry.body_bytes = len(body) if body and request.method != "HEAD" else 0
    return response


def _reset(request: web.Request) -> None:
    """Close with RST (SO_LINGER 0), as a broken middlebox or crashing server does."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _raise_injected_failure(faults) -> None:
    status = faults.take_failure()
    if status is None:
        return
    headers = {}
    if faults.retry_after is not None:
        headers["Retry-After"] = str(faults.retry_after)
    raise HubError(status, None, f"Injected failure {status}", headers)


def error_response(error: HubError) -> web.Response:
    """Status, X-Error-Code (when the Hub has one), X-Error-Message and a JSON body."""
    headers = {"X-Error-Message": error.message, **error.headers}
    if error.code:
        headers["X-Error-Code"] = error.code
    return web.json_response({"error": error.message}, status=error.status, headers=headers)
