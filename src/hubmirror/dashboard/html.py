"""Small HTML helpers: every value that reaches a page goes through ``esc``.

Repo names, paths and audit fields come from requests; nothing is put into a page
unescaped, and the page template is filled with ``string.Template`` (no expressions).
"""

from __future__ import annotations

import functools
import html
from importlib import resources
from string import Template

from aiohttp import web

from hubmirror.dashboard.context import DashboardContext
from hubmirror.mirror.service import iso_time
from hubmirror.progress import human_bytes

HTML = "text/html"


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


@functools.cache
def asset(name: str) -> str:
    """A template or static file shipped as package data (read once, on first use)."""
    return resources.files("hubmirror.dashboard").joinpath(name).read_text("utf-8")


def page(
    ctx: DashboardContext, title: str, body: str, status: int = 200, headers=None
) -> web.Response:
    """``body`` is HTML built from escaped values; ``title`` is escaped here."""
    admin = f' <a href="{esc(ctx.root)}/dashboard/admin">Admin</a>' if ctx.admin_token else ""
    text = Template(asset("templates/page.html")).substitute(
        title=esc(title), body=body, root=esc(ctx.root), admin_link=admin
    )
    return web.Response(
        text=text, status=status, content_type=HTML, charset="utf-8", headers=headers
    )


def table(headings: list[str], rows: list[list[str]], body_id: str = "") -> str:
    """Headings are literals; rows are cells of HTML already escaped by the caller."""
    head = "".join(f"<th>{h}</th>" for h in headings)
    lines = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    ident = f' id="{body_id}"' if body_id else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody{ident}>{lines}</tbody></table>"


def size(n: int) -> str:
    """A size as people read it (``1.2 GiB``); the page's numbers are never raw bytes."""
    return human_bytes(n)


def when(seconds: float | None) -> str:
    return iso_time(seconds) if seconds else "never"
