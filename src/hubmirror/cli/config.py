"""``hubmirror config check FILE``: every problem of a settings file, before a restart finds it.

``serve`` stops at the first bad value, and some mistakes (a bad allow pattern, an
upstream without a host, an unwritable data directory) only show when it starts.
This command reports them all, each naming its key, and prints the effective
settings (file, then ``HUBMIRROR_*`` variables) as TOML, secrets left out.
"""

from __future__ import annotations

import os
import sys
from dataclasses import fields
from pathlib import Path
from urllib.parse import urlsplit

import click

from hubmirror.cli.served import toml_value, without_passwords
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
    """Validate FILE (TOML); print the effective settings as TOML, or every problem (exit 1)."""
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
    click.echo(f"# OK: {file}")
    for note in notes(settings):
        click.echo(f"# note: {note}")
    for line in effective(settings):
        click.echo(line)


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
    """The data directory is a writable directory, or can be created in its parent; each
    problem said as such, with its path: a file, a read-only file system, no permission,
    a missing parent (an unmounted disk, a typo: not created silently, except for the
    default directory, whose parents a fresh account may lack)."""
    path = Path(data).expanduser()
    try:
        if path.exists() and not path.is_dir():
            return [f"setting 'data': {path} exists and is not a directory"]
        if path.is_dir():
            why = _not_writable(path)
            return [f"setting 'data': {path} {why}"] if why else []
        parent = path.parent
        if not parent.exists() and path != Path("~/.cache/hubmirror").expanduser():
            return [
                f"setting 'data': {path} cannot be created: its parent {parent} does not exist"
                " (create it, or check that its disk is mounted)"
            ]
        while not parent.exists():
            parent = parent.parent
        if not parent.is_dir():
            return [f"setting 'data': {path} cannot be created: {parent} is not a directory"]
        why = _not_writable(parent)
        return [f"setting 'data': {path} cannot be created in {parent}: it {why}"] if why else []
    except PermissionError as exc:
        return [f"setting 'data': {path} cannot be reached: permission denied ({exc.filename})"]


def _not_writable(folder: Path) -> str | None:
    """Why this process cannot create files in ``folder``, in words; ``None`` if it can."""
    if os.access(folder, os.W_OK | os.X_OK):
        return None
    if os.statvfs(folder).f_flag & os.ST_RDONLY:
        return "is on a read-only file system"
    info = folder.stat()
    mode = oct(info.st_mode & 0o777)[2:]
    return (
        f"is not writable by user {_user(os.geteuid())} "
        f"(permission denied; owner {_user(info.st_uid)}, mode {mode})"
    )


def _user(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


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


def effective(settings: Settings) -> list[str]:
    """Every setting as a line of TOML (a file of them is a valid config): secrets (every
    one the settings table marks secret) and unset ones as comments, passwords in
    upstream and index URLs left out."""
    lines = []
    for field in fields(settings):
        value = getattr(settings, field.name)
        if not field.repr and value:  # a secret setting: kept out of the repr, and out of here
            lines.append(f'# {field.name} = "***"  (set; not shown)')
        elif value is None:
            lines.append(f"# {field.name}: unset")
        elif field.name in ("upstream", "index"):
            lines.append(f"{field.name} = {toml_value(without_passwords(value))}")
        else:
            lines.append(f"{field.name} = {toml_value(value)}")
    return lines
