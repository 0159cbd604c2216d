"""``handle_dashboard``: the dashboard's own small router (the server routes ``/`` and
``/dashboard/...`` here, with the raw path segments below its prefix)."""

from __future__ import annotations

import json
from urllib.parse import unquote

from aiohttp import web

from hubmirror.dashboard import admin, auth
from hubmirror.dashboard.context import DashboardContext
from hubmirror.dashboard.home import home_body, home_title
from hubmirror.dashboard.html import asset, page
from hubmirror.dashboard.repos import repo_body, repos_body
from hubmirror.dashboard.status import status
from hubmirror.mirror.service import ADMIN, NOBODY, Viewer
from hubmirror.types import RepoId, RepoType

_STATIC = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}
_NO_STORE = {"Cache-Control": "no-store"}


async def handle_dashboard(
    request: web.BaseRequest, segments: list[str], ctx: DashboardContext
) -> web.StreamResponse:
    try:
        return await _route(request, [unquote(s) for s in segments[1:]], ctx)
    except web.HTTPException as exc:  # the redirect after a login or a decision
        return web.Response(status=exc.status, headers=exc.headers)


async def _route(
    request: web.BaseRequest, rest: list[str], ctx: DashboardContext
) -> web.StreamResponse:
    if not rest:
        viewer = _viewer(request, ctx)
        numbers, history = status(ctx.mirror, viewer), ctx.mirror.traffic_history(viewer)
        body = home_body(ctx, numbers, history)
        return page(ctx, home_title(ctx), body, headers=_NO_STORE)
    if rest == ["api", "status"]:
        body = json.dumps(status(ctx.mirror, _viewer(request, ctx))).encode()
        return web.Response(body=body, content_type="application/json", headers=_NO_STORE)
    if rest[0] == "static" and len(rest) == 2 and rest[1] in _STATIC:
        return web.Response(text=asset(f"static/{rest[1]}"), content_type=_STATIC[rest[1]])
    if rest[0] == "repos":
        return _repos(ctx, _viewer(request, ctx), rest[1:])
    if rest[0] in ("login", "logout", "admin"):
        return await _admin(request, rest, ctx)
    return page(ctx, "Not found", "<p>No such page.</p>", 404)


def _viewer(request: web.BaseRequest, ctx: DashboardContext) -> Viewer:
    """The admin sees every repo; anyone else what the API would serve them (disclosure.py)."""
    if auth.may_read(request, ctx):
        return ADMIN
    authorization = request.headers.get("Authorization") or None
    if authorization is not None and not (authorization.isascii() and authorization.isprintable()):
        return NOBODY  # the API refuses such a header too
    return ctx.mirror.viewer(request.remote or "-", authorization)


def _repos(ctx: DashboardContext, viewer: Viewer, rest: list[str]) -> web.Response:
    """Pages that name repos differ per visitor: no cache may keep them."""
    if not rest:
        return page(ctx, "Cached repos", repos_body(ctx, viewer), headers=_NO_STORE)
    try:
        repo = RepoId(RepoType(rest[0]), "/".join(rest[1:]))
    except ValueError:  # not a repo type
        return page(ctx, "Not found", "<p>No such repo type.</p>", 404)
    if not ctx.mirror.may_see(viewer, repo):  # hidden, or not cached: the same answer
        return page(ctx, "Not found", "<p>No such repo cached here.</p>", 404, _NO_STORE)
    body = repo_body(ctx, repo)
    return page(ctx, f"{repo.repo_type.value} {repo.name}", body, headers=_NO_STORE)


async def _admin(
    request: web.BaseRequest, rest: list[str], ctx: DashboardContext
) -> web.StreamResponse:
    """Without an admin token configured the admin pages do not exist (as ``/admin/...``)."""
    token = ctx.admin_token
    if not token:
        return page(ctx, "Admin", "<p>Admin pages are disabled: set admin_token.</p>", 404)
    if rest == ["login"]:
        return (
            await admin.login(request, ctx) if request.method == "POST" else admin.login_form(ctx)
        )
    if request.method == "POST":
        return await _action(request, rest, ctx)
    if rest != ["admin"]:
        return page(ctx, "Not found", "<p>No such page.</p>", 404)
    session = auth.session_of(request, ctx)
    if session is None and not auth.bearer_ok(request, token):
        return admin.login_form(ctx, "Log in with the admin token to see this page.", 401)
    response = admin.admin_page(ctx, session, request.query.get("page"))
    response.headers.update(_NO_STORE)  # a session's CSRF token and the audit: kept nowhere
    return response


_DECISIONS = {"approve": "approved", "deny": "denied"}


async def _action(
    request: web.BaseRequest, rest: list[str], ctx: DashboardContext
) -> web.StreamResponse:
    form = await request.post()
    if not auth.may_post(request, ctx, str(form.get("csrf", ""))):
        return page(ctx, "Refused", "<p>Not logged in, or the form expired.</p>", 403)
    if rest == ["logout"]:
        return admin.logout(ctx, auth.session_of(request, ctx))
    if len(rest) == 2 and rest[0] == "admin" and rest[1] in _DECISIONS:
        admin.decide(ctx, admin.form_repo(form), _DECISIONS[rest[1]], "dashboard")
        raise web.HTTPSeeOther(ctx.link("/dashboard/admin"))
    return page(ctx, "Not found", "<p>No such action.</p>", 404)
