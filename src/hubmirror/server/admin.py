"""Admin routes, behind ``admin_token``: offline mode at run time, and sync.

``GET /admin/offline`` tells the current mode; ``POST /admin/offline`` with
``{"offline": true|false}`` changes it. ``POST /admin/sync`` runs a sync in the
server (what ``hubmirror sync --server URL`` calls). Without a configured token the routes do
not exist, so a mirror never exposes an unauthenticated switch.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import shlex

from aiohttp import web

from hubmirror.errors import InvalidCredentials, InvalidInput, NoSuchRoute
from hubmirror.hub.headers import bearer
from hubmirror.hub.synclist import SyncItem, parse_sync_list
from hubmirror.mirror.portable.sync import sync_snapshot
from hubmirror.progress import CountingProgress
from hubmirror.server.context import CONTEXT, authorization_of, body_within_timeout, mirror_of
from hubmirror.server.responses import BODY_STARTED


async def handle_offline(request: web.BaseRequest) -> web.Response:
    _check_admin(request)
    mirror = mirror_of(request)
    if request.method == "POST":
        mirror.set_offline(await _offline_flag(request))
    body = json.dumps({"offline": mirror.offline}).encode()
    return web.Response(body=body, content_type="application/json")


def _check_admin(request: web.BaseRequest) -> None:
    token = request[CONTEXT].admin_token
    if not token:
        raise NoSuchRoute("admin routes are disabled: set admin_token to enable them")
    given = authorization_of(request) or ""
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise InvalidCredentials("Invalid credentials in Authorization header")


async def _offline_flag(request: web.BaseRequest) -> bool:
    try:
        value = json.loads(await body_within_timeout(request, request.read())).get("offline")
    except (ValueError, AttributeError):
        value = None
    if not isinstance(value, bool):
        raise InvalidInput('POST a JSON body {"offline": true} or {"offline": false}')
    return value


PROGRESS_EVERY = 1.0  # seconds between progress lines of a streamed sync


async def handle_sync(request: web.BaseRequest) -> web.StreamResponse:
    """``POST /admin/sync``: run ``hubmirror sync`` inside this server, streaming progress.

    The answer is JSON lines: ``{"progress": {...}}`` every second, then ``{"result": {...}}``.
    The sync shares the server's fills, so clients downloading meanwhile join them.
    """
    _check_admin(request)
    if request.method != "POST":
        raise InvalidInput('POST a JSON body {"repo": "REPO[@REV]", ...}')
    item, token = await _sync_request(request)
    counter = CountingProgress()
    task = asyncio.ensure_future(
        sync_snapshot(mirror_of(request), item.spec, item.files, auth=token, progress=counter)
    )
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    try:
        await response.prepare(request)
        request[BODY_STARTED] = response  # a client leaving now is a cut-short answer
        while not task.done():
            await asyncio.wait([task], timeout=PROGRESS_EVERY)
            await response.write(_line({"progress": counter.to_json()}))
        await response.write(_line({"result": task.result().to_json()}))
        await response.write_eof()
    finally:
        task.cancel()  # the caller went away: stop waiting (running fills go on)
    return response


async def _sync_request(request: web.BaseRequest) -> tuple[SyncItem, str | None]:
    try:
        body = json.loads(await body_within_timeout(request, request.read()))
        items = parse_sync_list(shlex.join([body["repo"], *_filters(body)]), source="request")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidInput(
            'POST a JSON body {"repo": "REPO[@REV]", "include": [...], "exclude": [...]}'
        ) from None
    token = body.get("token")
    return items[0], bearer(token) if isinstance(token, str) else None


def _filters(body: dict) -> list[str]:
    args = [f"--type={body['type']}"] if body.get("type") else []
    args += [f"--include={glob}" for glob in body.get("include", [])]
    return args + [f"--exclude={glob}" for glob in body.get("exclude", [])]


def _line(value: dict) -> bytes:
    return json.dumps(value).encode() + b"\n"
