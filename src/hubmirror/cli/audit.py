"""``hubmirror audit``: who downloaded what, and which requests were refused.

Reads the audit records from the index of ``--data`` (the server writes them within
a second), so it works beside a running server and on a copied data directory.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import click

from hubmirror.cli.common import configure_logging, fail, settings_from, store_options

_AGO = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_COLUMNS = ("time", "event", "status", "cache", "bytes", "address", "who", "repo", "file", "note")


@click.command()
@click.option("--repo", metavar="REPO", help="Only this repo: [type:]namespace/name.")
@click.option(
    "--since",
    metavar="WHEN",
    help="Only records since then: 30m, 1h, 2d, 1w ago, or a time 2026-11-29T10:00 (UTC).",
)
@click.option(
    "--identity",
    "who",
    metavar="NAME",
    help="Only this caller: mirror identity, token fingerprint or client address.",
)
@click.option(
    "--limit", type=click.IntRange(1), default=100, show_default=True, help="The newest N."
)
@click.option("--json", "as_json", is_flag=True, help="JSON lines, as in the audit file.")
@store_options
def audit(repo, since, who, limit, as_json, config_file, **flags) -> None:
    """Show the audit log: file downloads and access decisions, oldest first.

    Each record names the client address, the mirror identity and the fingerprint of
    the token presented (never the token), the repo, revision and file, the status,
    cache status and bytes sent.
    """
    from hubmirror.mirror.access.audit import as_dict, json_line
    from hubmirror.runtime import open_store
    from hubmirror.storage.layout import LayoutMismatch

    settings = settings_from(flags, config_file)
    configure_logging(settings)
    repo_id = _repo(repo) if repo else None
    start = _since(since, time.time()) if since else None
    try:
        with open_store(settings, existing=True) as store:
            records = store.index.audit.find(repo_id, start, who, limit)
    except (LayoutMismatch, OSError) as exc:
        fail(str(exc))
    if as_json:
        for record in records:
            click.echo(json_line(record))
        return
    if not records:
        click.echo("no audit records match", err=True)
        return
    click.echo(_table([_row(as_dict(record)) for record in records]))


def _repo(text: str):
    from hubmirror.errors import InvalidInput
    from hubmirror.hub.specs import parse_repo_spec

    try:
        return parse_repo_spec(text).repo
    except InvalidInput as exc:
        fail(f"--repo: {exc}")


def parse_since(text: str, now: float) -> float:
    """Seconds since the epoch of ``30m``/``2d`` ago, or of an ISO time (UTC if no offset)."""
    ago = _AGO.match(text.strip())
    if ago:
        return now - float(ago.group(1)) * _UNIT_SECONDS[ago.group(2)]
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _since(text: str, now: float) -> float:
    try:
        return parse_since(text, now)
    except ValueError:
        fail(f"--since: '{text}' is neither an age (30m, 1h, 2d) nor a time (2026-11-29T10:00)")


def _row(record: dict) -> tuple[str, ...]:
    """One table row: the fields people scan for, shortened."""
    from hubmirror.progress import human_bytes

    kind = "" if record["repo_type"] == "model" else f"{record['repo_type']}:"
    revision = record["revision"] or ""
    file = f"{revision}/{record['path']}" if record["path"] else revision
    note = " ".join(v for v in (record["verdict"], record["reason"]) if v)
    return (
        record["time"][:19].replace("T", " "),
        record["event"],
        str(record["status"] or "-"),
        record["cache"] or "-",
        human_bytes(record["bytes"]),
        record["address"],
        record["identity"] or record["fingerprint"],
        kind + record["repo"],
        file or "-",
        note or "-",
    )


def _table(rows: list[tuple[str, ...]]) -> str:
    header = tuple(name.upper() for name in _COLUMNS)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(_COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    top = "  ".join(cell.ljust(w) for cell, w in zip(header, widths, strict=True))
    return "\n".join(line.rstrip() for line in [top, *lines])
