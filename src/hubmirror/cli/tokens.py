"""``hubmirror token create|list|revoke``: mirror access tokens, for users without a Hub account.

They work on the data directory alone (``--data``, as ``serve`` uses it) and may run
beside a running server: it sees a new or revoked token within seconds.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime

import click

from hubmirror.cli.common import configure_logging, fail, settings_from, store_options

_DURATION = re.compile(r"(\d+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@click.group("token")
def token() -> None:
    """Mirror access tokens: users send them as their HF_TOKEN instead of a Hub token."""


@token.command("create")
@click.argument("name")
@click.option(
    "--repos",
    multiple=True,
    metavar="GLOB",
    help="Repos the token may read, TYPE:GLOB or GLOB (model:acme/*, dataset:*); repeat [any].",
)
@click.option("--expires", metavar="DURATION", help="Lifetime such as 90d, 12h or 2w [never].")
@store_options
def create(name: str, repos: tuple[str, ...], expires: str | None, config_file, **flags) -> None:
    """Create the token NAME and print it: it is shown this once, only its hash is kept."""
    from hubmirror.errors import InvalidInput
    from hubmirror.mirror.access.identities import create_token
    from hubmirror.runtime import open_store

    settings = settings_from(flags, config_file)
    configure_logging(settings)
    lifetime = _duration(expires) if expires else None
    now = time.time()
    try:
        with open_store(settings) as store:
            secret = create_token(store.index, name, repos, lifetime, now)
    except InvalidInput as exc:
        fail(exc.message)
    click.echo(secret)
    scope = ", ".join(repos) if repos else "any repo"
    until = _when(now + lifetime) if lifetime else "never"
    click.echo(
        f"Created mirror token '{name}' ({scope}; expires {until}). It is shown only this once:"
        " its user sets HF_TOKEN to it, or runs 'huggingface-cli login' with it.",
        err=True,
    )


@token.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
@store_options
def list_(as_json: bool, config_file, **flags) -> None:
    """Every token: name, state, repos, created, expires, last used (never the token)."""
    from hubmirror.mirror.access.identities import token_state
    from hubmirror.runtime import open_store
    from hubmirror.storage.layout import LayoutMismatch

    settings = settings_from(flags, config_file)
    configure_logging(settings)
    try:
        with open_store(settings, existing=True) as store:
            records = store.index.mirror_tokens()
    except LayoutMismatch as exc:
        fail(str(exc))
    now = time.time()
    rows = [
        {
            "name": r.name,
            "state": token_state(r, now),
            "repos": list(r.repos),
            "created": _when(r.created_at),
            "expires": _when(r.expires_at),
            "revoked": _when(r.revoked_at),
            "last_used": _when(r.last_used),
        }
        for r in records
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        _print_table(rows)


@token.command("revoke")
@click.argument("name")
@store_options
def revoke(name: str, config_file, **flags) -> None:
    """Revoke the token NAME: a running mirror refuses it within seconds."""
    from hubmirror.errors import InvalidInput
    from hubmirror.mirror.access.identities import RECHECK, revoke_token
    from hubmirror.runtime import open_store
    from hubmirror.storage.layout import LayoutMismatch

    settings = settings_from(flags, config_file)
    configure_logging(settings)
    try:
        with open_store(settings, existing=True) as store:
            revoke_token(store.index, name, time.time())
    except InvalidInput as exc:
        fail(exc.message)
    except LayoutMismatch as exc:
        fail(str(exc))
    click.echo(f"Revoked mirror token '{name}'; running mirrors refuse it within {RECHECK:g} s.")


def _duration(text: str) -> float:
    """``90d``, ``12h``, ``30m``, ``2w`` or ``3600s`` → seconds; anything else is a user error."""
    found = _DURATION.fullmatch(text.strip().lower())
    if not found or int(found.group(1)) == 0:
        fail(f"--expires {text}: write a number and a unit (s, m, h, d or w), e.g. 90d")
    return int(found.group(1)) * _UNIT_SECONDS[found.group(2)]


def _when(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _print_table(rows: list[dict]) -> None:
    if not rows:
        click.echo("No mirror tokens (create one with 'hubmirror token create NAME').")
        return
    columns = ("name", "state", "repos", "created", "expires", "last_used")
    cells = [
        [(", ".join(row[c]) or "any") if c == "repos" else (row[c] or "-") for c in columns]
        for row in rows
    ]
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(columns)]
    for line in [[c.upper().replace("_", " ") for c in columns], *cells]:
        click.echo("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
