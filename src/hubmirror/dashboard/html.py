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
    text = Template(asset("templates/page.html")).substitute(
        title=esc(title), body=body, root=esc(ctx.root)
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
    """Exact bytes, and a readable size beside them (the JS formats the same way)."""
    value, unit = float(n), 0
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    while value >= 1024 and unit < len(units) - 1:
        value, unit = value / 1024, unit + 1
    return f"{n} B" + (f" ({value:.1f} {units[unit]})" if unit else "")


def when(seconds: float | None) -> str:
    return iso_time(seconds) if seconds else "never"
