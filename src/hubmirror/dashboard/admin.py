"""Admin pages: log in with the admin token, decide pending approvals, read the audit log."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from hubmirror.dashboard import auth
from hubmirror.dashboard.context import DashboardContext
from hubmirror.dashboard.html import esc, page, size, table, when
from hubmirror.errors import InvalidInput
from hubmirror.hub.specs import RepoSpec
from hubmirror.mirror.portable.sync import sync_snapshot
from hubmirror.mirror.service import AuditRecord
from hubmirror.types import RepoId, RepoType, Revision

log = logging.getLogger("hubmirror.dashboard")
AUDIT_SHOWN = 50
APPROVALS_PER_PAGE = 50
_syncs: set[asyncio.Task] = set()  # keeps approval syncs alive until they finish


def login_form(ctx: DashboardContext, message: str = "", status: int = 200) -> web.Response:
    note = f'<p class="error" id="login-error">{esc(message)}</p>' if message else ""
    body = f"""{note}<form method="post" action="{esc(ctx.link("/dashboard/login"))}">
<label>Admin token <input type="password" name="token" id="token" autocomplete="off"></label>
<button type="submit" id="login">Log in</button></form>"""
    return page(ctx, "Admin login", body, status)


async def login(request: web.BaseRequest, ctx: DashboardContext) -> web.Response:
    """A right token sets the session cookie and goes to the admin page; a wrong one, 401."""
    form = await request.post()
    if not auth.login_ok(str(form.get("token", "")), ctx.admin_token):
        return login_form(ctx, "Wrong admin token.", 401)
    session = auth.new_session(ctx.mirror.now())
    secure = ctx.base_url.startswith("https:")
    cookie = auth.session_cookie(ctx.admin_token, session, ctx.root, secure)
    location = ctx.link("/dashboard/admin")
    raise web.HTTPSeeOther(location, headers={"Set-Cookie": cookie})


def logout(ctx: DashboardContext, session: auth.Session | None) -> web.Response:
    """End the session for every worker and node, not only in this browser."""
    if session is not None:
        ctx.mirror.end_admin_session(session.id, session.expires_at)
    headers = {"Set-Cookie": auth.cleared_cookie(ctx.root)}
    raise web.HTTPSeeOther(ctx.link("/"), headers=headers)


def admin_page(
    ctx: DashboardContext, session: auth.Session | None, page_asked: str | None = None
) -> web.Response:
    """``session`` is None for a script sending the Bearer header (it needs no CSRF token)."""
    csrf = auth.csrf_token(ctx.admin_token, session) if session else ""
    asked = page_asked or ""
    number = int(asked) if asked.isdigit() and len(asked) <= 6 else 1
    body = _approvals(ctx, csrf, max(number, 1)) + _audit(ctx) + _logout_form(ctx, csrf)
    return page(ctx, "Admin", body)


def _button(ctx: DashboardContext, action: str, repo: RepoId, csrf: str) -> str:
    target = esc(ctx.link(f"/dashboard/admin/{action}"))
    return (
        f'<form class="inline" method="post" action="{target}">'
        f'<input type="hidden" name="csrf" value="{esc(csrf)}">'
        f'<input type="hidden" name="repo_type" value="{esc(repo.repo_type.value)}">'
        f'<input type="hidden" name="repo" value="{esc(repo.name)}">'
        f'<button type="submit" class="{action}">{action.capitalize()}</button></form>'
    )


def _approvals(ctx: DashboardContext, csrf: str, number: int) -> str:
    """One page of pending requests, newest first: strangers can ask for thousands."""
    offset = (number - 1) * APPROVALS_PER_PAGE
    approvals = ctx.mirror.pending_approvals(APPROVALS_PER_PAGE, offset)
    total = approvals.total
    rows = [
        [
            esc(a.repo.repo_type.value),
            f'<span class="repo">{esc(a.repo.name)}</span>',
            esc(a.requested_by),
            esc(when(a.requested_at)),
            str(a.requests),
            _button(ctx, "approve", a.repo, csrf) + " " + _button(ctx, "deny", a.repo, csrf),
        ]
        for a in approvals.pending
    ]
    headings = ["Type", "Repo", "First asked by", "First asked", "Requests", ""]
    listing = table(headings, rows, body_id="approvals") if rows else "<p>None pending.</p>"
    count = f'<p id="pending-count">{total} pending, newest first.</p>' if total else ""
    return (
        f'<section id="pending"><h2>Pending approvals</h2>{count}{listing}'
        f"{_pager(ctx, number, offset + len(rows) < total)}</section>"
    )


def _pager(ctx: DashboardContext, number: int, more: bool) -> str:
    target = ctx.link("/dashboard/admin")
    links = []
    if number > 1:
        links.append(f'<a id="newer" href="{esc(target)}?page={number - 1}">Newer</a>')
    if more:
        links.append(f'<a id="older" href="{esc(target)}?page={number + 1}">Older</a>')
    return f'<p class="pager">{" ".join(links)}</p>' if links else ""


def _audit(ctx: DashboardContext) -> str:
    records = ctx.mirror.audit_entries(AUDIT_SHOWN)
    rows = [_audit_row(r) for r in reversed(records)]
    headings = ["Time", "Event", "Who", "Repo", "Path", "Status", "Bytes", "Cache", "Reason"]
    return (
        '<section id="audit"><h2>Recent audit entries</h2>' + table(headings, rows) + "</section>"
    )


def _audit_row(r: AuditRecord) -> list[str]:
    who = r.identity or (r.fingerprint if r.fingerprint != "anonymous" else "")
    return [
        esc(when(r.time)),
        esc(r.event),
        esc(f"{who} {r.address}".strip()),
        esc(f"{r.repo_type}:{r.repo}"),
        esc(r.path),
        esc(r.status),
        f'<span title="{r.bytes} bytes">{esc(size(r.bytes))}</span>',
        esc(r.cache),
        esc(r.reason or r.verdict),
    ]


def _logout_form(ctx: DashboardContext, csrf: str) -> str:
    return (
        f'<form method="post" action="{esc(ctx.link("/dashboard/logout"))}">'
        f'<input type="hidden" name="csrf" value="{esc(csrf)}">'
        '<button type="submit" id="logout">Log out</button></form>'
    )


def decide(ctx: DashboardContext, repo: RepoId, state: str, who: str) -> None:
    """Record the decision; an approved repo is synced in the background, as the CLI does."""
    ctx.mirror.decide_approval(repo, state, who)
    if state == "approved":
        spec = RepoSpec(repo, Revision("main"))
        task = asyncio.ensure_future(sync_snapshot(ctx.mirror, spec))
        _syncs.add(task)
        task.add_done_callback(_sync_done)


def _sync_done(task: asyncio.Task) -> None:
    _syncs.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.warning("sync after approval failed: %s", task.exception())


def form_repo(form) -> RepoId:
    try:
        repo_type = RepoType(str(form.get("repo_type", "model")))
    except ValueError:
        raise InvalidInput("repo_type is model, dataset or space") from None
    return RepoId(repo_type, str(form.get("repo", "")))
