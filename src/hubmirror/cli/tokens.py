"""``hubmirror token create|list|revoke``: mirror access tokens, for users without a Hub account.

They work on the data directory alone (``--data``, as ``serve`` uses it) and may run
beside a running server: it sees a new or revoked token within seconds.
"""

from __future__ import annotations

import json
import re
import socket
import time
from datetime import UTC, datetime

import click

from hubmirror.cli.common import configure_logging, fail, settings_from, store_options

_DURATION = re.compile(r"(\d+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@click.group("token")
def token() -> None:
    """Mirror access tokens: users send them as their HF_TOKEN instead of a Hub token."""


def _checked_globs(ctx, param, globs: tuple[str, ...]) -> tuple[str, ...]:
    """Refuse a bad glob before anything is opened: a usage error (exit 2) naming it."""
    from hubmirror.errors import InvalidInput
    from hubmirror.hub.repoglobs import parse_repo_globs

    try:
        parse_repo_globs(globs)
    except InvalidInput as exc:
        raise click.BadParameter(exc.message) from None
    return globs


def _checked_duration(ctx, param, text: str | None) -> float | None:
    """``90d``, ``12h``, ``30m``, ``2w`` or ``3600s`` → seconds; anything else is a usage error."""
    if text is None:
        return None
    found = _DURATION.fullmatch(text.strip().lower())
    if not found or int(found.group(1)) == 0:
        raise click.BadParameter(
            f"'{text}' is no lifetime: write a number and a unit (s, m, h, d or w), e.g. 90d"
        )
    return int(found.group(1)) * _UNIT_SECONDS[found.group(2)]


@token.command("create")
@click.argument("name")
@click.option(
    "--repos",
    multiple=True,
    metavar="GLOB",
    callback=_checked_globs,
    help="Repos the token may read, TYPE:GLOB or GLOB (model:acme/*, dataset:*); repeat [any].",
)
@click.option(
    "--expires",
    "lifetime",
    metavar="DURATION",
    callback=_checked_duration,
    help="Lifetime such as 90d, 12h or 2w [never].",
)
@store_options
def create(name: str, repos: tuple[str, ...], lifetime: float | None, config_file, **flags) -> None:
    """Create the token NAME and print it: it is shown this once, only its hash is kept."""
    from hubmirror.errors import InvalidInput
    from hubmirror.mirror.access.identities import create_token
    from hubmirror.runtime import open_store

    settings = settings_from(flags, config_file)
    configure_logging(settings)
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
        f"Created mirror token '{name}' ({scope}; expires {until}). It is shown only this"
        f" once (above); its user runs:\n{_login_advice(settings)}",
        err=True,
    )


def _login_advice(settings) -> str:
    """The two commands that log a user in with the token (``hf auth login`` asks this
    mirror's ``/api/whoami-v2``), or the variable that does without logging in."""
    if settings.public_url:
        endpoint = settings.public_url.rstrip("/")
    else:  # a guess from the listening address: say so
        where = f"http://{_reachable_host(settings.host)}:{settings.port}"
        endpoint = f"{where}   # or the URL its users reach this mirror at"
    return (
        f"  export HF_ENDPOINT={endpoint}\n"
        "  hf auth login --token hm_...   # or: export HF_TOKEN=hm_..."
    )


def _reachable_host(host: str) -> str:
    """The listening address as clients would name it: this machine's name for a wildcard."""
    if host in ("0.0.0.0", "::", ""):
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


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
