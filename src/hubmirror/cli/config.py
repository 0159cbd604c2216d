"""``hubmirror config check FILE``: every problem of a settings file, before a restart finds it.

``serve`` stops at the first bad value, and some mistakes (a bad allow pattern, an
upstream without a host, an unwritable data directory) only show when it starts.
This command reports them all, each naming its key, and prints the effective
settings (file, then ``HUBMIRROR_*`` variables) with tokens masked.
"""

from __future__ import annotations

import os
import sys
from dataclasses import fields
from pathlib import Path
from urllib.parse import urlsplit

import click

from hubmirror.errors import InvalidInput
from hubmirror.hub.redirects import without_userinfo
from hubmirror.hub.repoglobs import parse_repo_glob
from hubmirror.settings import Settings, SettingsError, file_values, load_settings


@click.group()
def config() -> None:
    """Check settings files."""


@config.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
def check(file: str) -> None:
    """Validate FILE (TOML); print OK and the effective settings, or every problem (exit 1)."""
    try:
        values, problems = file_values(file)
        # With bad values, the good ones are still checked together (environment aside).
        settings = Settings().replace(**values) if problems else load_settings(config_file=file)
    except SettingsError as exc:
        problems, settings = [str(exc)], None
    if settings is not None:
        problems += cross_field_problems(settings)
    if problems:
        for problem in problems:
            click.echo(f"problem: {problem}", err=True)
        click.echo(f"{file}: {len(problems)} problem(s)", err=True)
        sys.exit(1)
    click.echo("OK")
    for note in notes(settings):
        click.echo(f"note: {note}")
    for name, shown in effective(settings):
        click.echo(f"{name} = {shown}")


def cross_field_problems(settings: Settings) -> list[str]:
    """What the values mean together, or only at start: patterns, URLs, directory, workers."""
    problems = [*_glob_problems("allow", settings.allow), *_glob_problems("deny", settings.deny)]
    for url in settings.upstream:
        problems += _url_problems("upstream", url)
    if settings.public_url:
        problems += _url_problems("public_url", settings.public_url)
    problems += _data_problems(settings.data)
    if settings.workers > 1 and settings.port == 0:
        problems.append("setting 'workers': several workers need a fixed 'port', not 0")
    if not settings.upstream:
        problems.append("setting 'upstream': at least one upstream URL is required")
    return problems


def _glob_problems(name: str, patterns: tuple[str, ...]) -> list[str]:
    problems = []
    for pattern in patterns:
        try:
            parse_repo_glob(pattern)
        except InvalidInput as exc:
            problems.append(f"setting '{name}': {exc.message}")
    return problems


def _url_problems(name: str, url: str) -> list[str]:
    parts = urlsplit(url)
    shown = without_userinfo(url)
    if parts.scheme not in ("http", "https"):
        return [f"setting '{name}': {shown!r} must start with http:// or https://"]
    if not parts.hostname:
        return [f"setting '{name}': {shown!r} has no host"]
    if parts.query or parts.fragment:
        return [f"setting '{name}': {shown!r} must not have a query or fragment"]
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return [f"setting '{name}': {shown!r} has a bad port"]
    return []


def _data_problems(data: str) -> list[str]:
    """The data directory exists and is writable, or its nearest existing parent is."""
    path = Path(data).expanduser()
    if path.exists() and not path.is_dir():
        return [f"setting 'data': {path} exists and is not a directory"]
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        verb = "is not writable" if existing == path else f"cannot be created ({existing})"
        return [f"setting 'data': {path} {verb}"]
    return []


def notes(settings: Settings) -> list[str]:
    """Things that are allowed but often unintended."""
    found = []
    if not settings.admin_token:
        found.append("admin_token is not set: /admin routes and dashboard actions are disabled")
    if settings.access_mode != "open" and not settings.allow:
        found.append(f"access_mode is {settings.access_mode} and allow is empty: no repo is served")
    if settings.offline:
        found.append("offline is true: upstream is never contacted")
    return found


def effective(settings: Settings) -> list[tuple[str, str]]:
    """``(name, value)`` for every setting, secrets masked (every one the settings table
    marks secret), passwords in upstream and index URLs left out."""
    rows = []
    for field in fields(settings):
        value = getattr(settings, field.name)
        if not field.repr and value:  # a secret setting: kept out of the repr, and out of here
            shown = '"***"'
        elif field.name == "upstream":
            shown = _toml_value(tuple(without_userinfo(u) for u in value))
        elif field.name == "index" and value:
            shown = _toml_value(without_userinfo(value))
        else:
            shown = _toml_value(value)
        rows.append((field.name, shown))
    return rows


def _toml_value(value) -> str:
    if value is None:
        return "# unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)
