"""Admin routes, behind ``admin_token``: switch offline mode at run time.

``GET /admin/offline`` tells the current mode; ``POST /admin/offline`` with
``{"offline": true|false}`` changes it. Without a configured token the routes do
not exist, so a mirror never exposes an unauthenticated switch.
"""

from __future__ import annotations

import hmac
import json

from aiohttp import web

from hubmirror.errors import InvalidCredentials, InvalidInput, NoSuchRoute
from hubmirror.server.context import CONTEXT, mirror_of


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
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise InvalidCredentials("Invalid credentials in Authorization header")


async def _offline_flag(request: web.BaseRequest) -> bool:
    try:
        value = json.loads(await request.read()).get("offline")
    except (ValueError, AttributeError):
        value = None
    if not isinstance(value, bool):
        raise InvalidInput('POST a JSON body {"offline": true} or {"offline": false}')
    return value
