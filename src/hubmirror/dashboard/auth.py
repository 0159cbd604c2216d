"""Who may use the admin pages: the admin token, as a Bearer header or a session cookie.

A login starts a session of ``LIFETIME`` seconds: the cookie carries a random session
id and its expiry, signed with an HMAC keyed by the admin token, never the token itself,
so a leaked cookie jar does not leak the token the CLI and scripts use, and a new admin
token ends every session. A logout records the session as ended in the index, which
every worker and node reads: a cookie copied before the logout opens nothing after it.
Every POST from a browser also carries a CSRF token (an HMAC of the session id) in its
form; SameSite=Strict already keeps other sites' forms from sending the cookie, the
CSRF token covers older browsers.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from aiohttp import web

from hubmirror.dashboard.context import DashboardContext

COOKIE = "hubmirror_admin"
LIFETIME = 12 * 3600  # seconds a login lasts; then the admin logs in again


@dataclass(frozen=True)
class Session:
    id: str  # random, URL-safe (no "."), unique per login
    expires_at: int  # Unix time


def new_session(now: float) -> Session:
    return Session(secrets.token_urlsafe(18), int(now) + LIFETIME)


def _mac(token: str, purpose: str) -> str:
    message = f"hubmirror-dashboard:{purpose}".encode()
    return hmac.new(token.encode(), message, hashlib.sha256).hexdigest()


def session_value(token: str, session: Session) -> str:
    """The cookie's value: ``ID.EXPIRES.MAC``."""
    signed = f"{session.id}.{session.expires_at}"
    return f"{signed}.{_mac(token, 'session:' + signed)}"


def csrf_token(token: str, session: Session) -> str:
    return _mac(token, f"csrf:{session.id}")


def _same(given: str, expected: str) -> bool:
    return given.isascii() and hmac.compare_digest(given.encode(), expected.encode())


def bearer_ok(request: web.BaseRequest, token: str) -> bool:
    return _same(request.headers.get("Authorization", ""), f"Bearer {token}")


def signed_session(value: str, token: str, now: float) -> Session | None:
    """The session a cookie value names, if the admin token signed it and it has not expired."""
    parts = value.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    session = Session(parts[0], int(parts[1]))
    if not _same(value, session_value(token, session)) or now >= session.expires_at:
        return None
    return session


def session_of(request: web.BaseRequest, ctx: DashboardContext) -> Session | None:
    """The request's live admin session: signed, not expired, not ended by a logout."""
    token = ctx.admin_token
    if not token:
        return None
    session = signed_session(request.cookies.get(COOKIE, ""), token, ctx.mirror.now())
    if session is None or ctx.mirror.admin_session_ended(session.id):
        return None
    return session


def may_read(request: web.BaseRequest, ctx: DashboardContext) -> bool:
    token = ctx.admin_token
    return bool(token) and (bearer_ok(request, token) or session_of(request, ctx) is not None)


def may_post(request: web.BaseRequest, ctx: DashboardContext, form_csrf: str) -> bool:
    """A script with the Bearer header, or the logged-in browser with the form's CSRF token."""
    token = ctx.admin_token
    if not token:
        return False
    if bearer_ok(request, token):
        return True
    session = session_of(request, ctx)
    return session is not None and _same(form_csrf, csrf_token(token, session))


def login_ok(given: str, token: str) -> bool:
    return _same(given, token)


def session_cookie(token: str, session: Session, root: str, secure: bool) -> str:
    """The Set-Cookie value: HttpOnly (no script reads it), SameSite=Strict, scoped to us,
    gone from the browser when the session expires."""
    flags = "; Secure" if secure else ""
    return (
        f"{COOKIE}={session_value(token, session)}; Path={root or '/'}; Max-Age={LIFETIME};"
        f" HttpOnly; SameSite=Strict{flags}"
    )


def cleared_cookie(root: str) -> str:
    return f"{COOKIE}=; Path={root or '/'}; Max-Age=0; HttpOnly; SameSite=Strict"
