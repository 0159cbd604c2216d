"""What every handler reads from a request: the mirror, the caller's token, the base URL."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from hubmirror.mirror.service import Mirror

MIRROR = web.AppKey("mirror", Mirror)
PUBLIC_URL = web.AppKey("public_url", str)


def mirror_of(request: web.Request) -> Mirror:
    return request.app[MIRROR]


def auth_of(request: web.Request) -> str | None:
    """The caller's ``Authorization`` value, forwarded upstream as is and never logged."""
    value = request.headers.get("Authorization")
    return value if value else None


def base_url(request: web.Request) -> str:
    """Scheme, host and prefix clients use to reach us: setting, else X-Forwarded-*, else Host."""
    configured = request.app.get(PUBLIC_URL) or ""
    if configured:
        return configured.rstrip("/")
    proto = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
    host = request.headers.get("X-Forwarded-Host", request.host).split(",")[0].strip()
    return f"{proto}://{host}"


def path_prefix(app: web.Application) -> str:
    return urlsplit(app.get(PUBLIC_URL) or "").path.rstrip("/")
