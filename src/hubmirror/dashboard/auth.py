"""Who may use the admin pages: the admin token, as a Bearer header or a session cookie.

The cookie holds an HMAC of the token, never the token itself, so a leaked cookie jar
does not leak the token the CLI and scripts use. Every POST from a browser also carries a
CSRF token (another HMAC of the admin token) in its form; SameSite=Strict already keeps
other sites' forms from sending the cookie, the CSRF token covers older browsers.
"""

from __future__ import annotations

import hashlib
import hmac

from aiohttp import web

COOKIE = "hubmirror_admin"


def _mac(token: str, purpose: bytes) -> str:
    return hmac.new(token.encode(), b"hubmirror-dashboard:" + purpose, hashlib.sha256).hexdigest()


def session_value(token: str) -> str:
    return _mac(token, b"session")


def csrf_token(token: str) -> str:
    return _mac(token, b"csrf")


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def bearer_ok(request: web.BaseRequest, token: str) -> bool:
    given = request.headers.get("Authorization", "")
    return given.isascii() and _same(given, f"Bearer {token}")


def cookie_ok(request: web.BaseRequest, token: str) -> bool:
    given = request.cookies.get(COOKIE, "")
    return given.isascii() and _same(given, session_value(token))


def may_read(request: web.BaseRequest, token: str) -> bool:
    return bearer_ok(request, token) or cookie_ok(request, token)


def may_post(request: web.BaseRequest, token: str, form_csrf: str) -> bool:
    """A script with the Bearer header, or the logged-in browser with the form's CSRF token."""
    if bearer_ok(request, token):
        return True
    return cookie_ok(request, token) and form_csrf.isascii() and _same(form_csrf, csrf_token(token))


def login_ok(given: str, token: str) -> bool:
    return given.isascii() and _same(given, token)


def session_cookie(token: str, root: str, secure: bool) -> str:
    """The Set-Cookie value: HttpOnly (no script reads it), SameSite=Strict, scoped to us."""
    flags = "; Secure" if secure else ""
    return f"{COOKIE}={session_value(token)}; Path={root or '/'}; HttpOnly; SameSite=Strict{flags}"


def cleared_cookie(root: str) -> str:
    return f"{COOKIE}=; Path={root or '/'}; Max-Age=0; HttpOnly; SameSite=Strict"
