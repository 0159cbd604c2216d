"""``/api/{t}/{repo}/...``: repo info, tree, paths-info, refs, commits; whoami; housekeeping.

Bodies come rewritten from the mirror (no ``xetHash``); here they only get a
``Link`` whose next URL is absolute and points at this mirror, as clients follow
it verbatim (a relative URL fails in huggingface_hub). With xet_serve, tree and
paths-info listings get ``xetHash`` back for the files whose Xet hash this mirror computed itself.
"""

from __future__ import annotations

from aiohttp import web

from hubmirror.errors import InvalidInput, NoSuchRoute
from hubmirror.hub.routes import Housekeeping, RepoApi
from hubmirror.server.context import base_url, body_within_timeout, caller_of, mirror_of

_SERVED_ACTIONS = ("info", "revision", "tree", "paths-info", "refs", "commits", "treesize")
_LISTINGS = ("tree", "paths-info")  # where Xet clients look for ``xetHash``
_AGENT_HARNESSES = b'{"standardEnvVars":[],"harnesses":{}}'


async def handle_api(request: web.Request, route: RepoApi) -> web.Response:
    if route.action not in _SERVED_ACTIONS:
        raise NoSuchRoute(f"/api/.../{route.action} is not served by this mirror")
    if route.action == "paths-info" and request.method != "POST":
        raise NoSuchRoute("paths-info takes a POST")
    base = base_url(request)  # a bad Host is refused before any work
    form = None
    if request.method == "POST":
        form = await _form_fields(request) if route.action == "paths-info" else []
    query = list(request.query.items())
    caller = caller_of(request)
    mirror = mirror_of(request)
    mirror.admit(caller, route.repo)
    answer = await mirror.api(route, query, form, caller.upstream_auth)
    headers = {}
    if answer.link_next:
        headers["Link"] = f'<{base}{answer.link_next}>; rel="next"'
    body = answer.body
    if mirror.serves_xet and route.action in _LISTINGS and answer.status == 200:
        body = mirror.xet_listing(body)
    return web.Response(
        status=answer.status, body=body, headers=headers, content_type="application/json"
    )


async def _form_fields(request: web.Request) -> list[tuple[str, str]]:
    """A paths-info form as text fields; a body that is none is the caller's mistake."""
    try:
        fields = list((await body_within_timeout(request, request.post())).items())
    except (ValueError, web.HTTPException):  # undecodable, no boundary, too large
        raise InvalidInput("paths-info takes a form: paths=...&expand=...") from None
    for name, value in fields:
        if not isinstance(value, str) or not (name.isascii() and name.isprintable()):
            raise InvalidInput("paths-info takes text fields with plain names: paths, expand")
    return fields


async def handle_whoami(request: web.Request) -> web.Response:
    """``/api/whoami-v2``: a mirror token's identity, or upstream's answer for a Hub token."""
    body = await mirror_of(request).whoami(caller_of(request))
    return web.Response(body=body, content_type="application/json")


async def handle_housekeeping(request: web.Request, route: Housekeeping) -> web.Response:
    if route.name == "agent-harnesses":
        return web.Response(body=_AGENT_HARNESSES, content_type="application/json")
    return web.Response(status=200)
