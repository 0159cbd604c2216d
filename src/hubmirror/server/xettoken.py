"""``GET /api/{t}/{repo}/xet-read-token/{rev}``: the mirror's own Xet token and CAS URL.

huggingface_hub reads the token from the headers, hf_xet refreshes it from the JSON
body when the token runs out, so both carry it. The token is the mirror's, signed with its
Xet secret and good for one repo: it is handed out after the same access decision as
a download of that repo's files, and never is, nor reveals, the caller's Hub token.
"""

from __future__ import annotations

import json

from aiohttp import web

from hubmirror.errors import NoSuchRoute
from hubmirror.hub.headers import (
    X_XET_ACCESS_TOKEN,
    X_XET_CAS_URL,
    X_XET_TOKEN_EXPIRATION,
    XET_CAS_PREFIX,
    XET_READ_TOKEN,
)
from hubmirror.hub.routes import RepoApi, Route
from hubmirror.mirror.xettokens import issue_token
from hubmirror.server.api import handle_api
from hubmirror.server.context import base_url, caller_of, mirror_of


def is_xet_token_route(route: Route) -> bool:
    return isinstance(route, RepoApi) and route.action == XET_READ_TOKEN


async def handle_xet_token(request: web.Request, route: RepoApi) -> web.Response:
    mirror = mirror_of(request)
    if not mirror.xet.enabled:  # xet_serve off: answered as any API route it does not serve
        return await handle_api(request, route)
    if request.method == "POST":
        raise NoSuchRoute(f"/api/.../{XET_READ_TOKEN}/{{revision}} takes a GET")
    if route.path is not None and route.path.value:  # e.g. refs/pr/1 unquoted
        raise NoSuchRoute(f"/api/.../{XET_READ_TOKEN}/{{revision}}: quote a '/' in it as %2F")
    base = base_url(request)  # a bad Host is refused before any work
    caller = caller_of(request)
    mirror.admit(caller, route.repo)
    commit = await mirror.xet_read_access(route.repo, route.revision, caller.upstream_auth)
    token, expires = issue_token(
        mirror.index.xet.secret(), route.repo, mirror.clock(), holder=caller
    )
    mirror.audit.decision(caller, route.repo, commit, None, "allowed", "Xet read token")
    cas_url = base + XET_CAS_PREFIX
    headers = {
        X_XET_CAS_URL: cas_url,
        X_XET_ACCESS_TOKEN: token,
        X_XET_TOKEN_EXPIRATION: str(expires),
        "Cache-Control": "no-store",
    }
    body = json.dumps({"accessToken": token, "exp": expires, "casUrl": cas_url})
    return web.Response(body=body.encode(), headers=headers, content_type="application/json")
