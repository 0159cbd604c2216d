"""What every command shares: the store options, settings, logging and one-line failures.

Every command that works on a store (``serve``, ``sync``, ``export``, ``import``, ...)
takes the same ``--data``, ``--upstream``, ``--config`` and ``HUBMIRROR_*`` settings,
so they all find the same data directory.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from hubmirror.settings import SETTINGS, Settings, SettingsError, load_settings, parse_size

STORE_SETTINGS = ("data", "upstream", "offline", "index", "store")
"""The settings every command that works on a store takes as flags."""

_OFF_FLAGS = {"offline": "--online"}
"""Boolean settings whose off flag is not ``--no-NAME``."""

_ROWS = {setting.name: setting for setting in SETTINGS}


def setting_options(*names: str) -> Callable[[Callable], Callable]:
    """The click options of these settings, in this order (see ``setting_option``)."""
    options = [setting_option(name) for name in names]
    return lambda command: _apply(options, command)


def setting_option(name: str) -> Callable[[Callable], Callable]:
    """A click option for one setting: its flag, type, help and shown default from its row.

    The option's own default is ``None`` (not given), so the environment variable, the
    config file and then the row's default decide, in that order.
    """
    setting = _ROWS[name]
    kind = type(setting.resolve_default())
    shown = setting.shown_default()
    decls = [setting.flag, name]
    extra: dict[str, Any] = {}
    if setting.choices:
        extra["type"] = click.Choice(setting.choices)
    elif kind is bool:
        off = _OFF_FLAGS.get(name, "--no-" + setting.flag[2:])
        decls[0] = f"{setting.flag}/{off}"
        shown = (setting.flag if setting.resolve_default() else off)[2:]
        extra["default"] = None
    elif kind is tuple:
        extra["multiple"] = True
    elif setting.cast is parse_size:
        extra["metavar"] = "SIZE"
    elif kind in (int, float):
        extra["type"] = kind
    return click.option(*decls, help=f"{setting.help}  [default: {shown}]", **extra)


def store_options(command: Callable) -> Callable:
    """The store flags every command shares: data dir, upstreams, offline, index, store, config."""
    options = [
        *map(setting_option, STORE_SETTINGS),
        click.option(
            "--config", "config_file", type=click.Path(dir_okay=False), help="TOML settings file."
        ),
    ]
    return _apply(options, command)


def _apply(options: list[Callable[[Callable], Callable]], command: Callable) -> Callable:
    return functools.reduce(lambda cmd, option: option(cmd), reversed(options), command)


def settings_from(
    flags: dict, config_file: str | None, *, announce: bool = True, shared: bool = True
) -> Settings:
    """Settings from the command's flags (``None`` = not given), environment and file,
    then what ``serve`` recorded in the data directory (``cli/served.py``), then defaults.

    ``announce``: say on stderr which data directory the command works on (and whether
    a server's settings came with it), so a wrong ``--data`` is seen at once. ``serve``
    itself takes ``shared=False``: its own settings are the ones it records.
    """
    from hubmirror.cli.served import recorded_settings

    try:
        settings = load_settings(flags=flags, config_file=config_file)
        found = recorded_settings(settings.data) if shared else None
        if found is not None:
            settings = load_settings(flags=flags, config_file=config_file, recorded=found[0])
    except SettingsError as exc:
        fail(str(exc))
    if announce:
        note = f" (with the settings serve recorded in {found[1].name})" if found else ""
        click.echo(f"data: {Path(settings.data).expanduser()}{note}", err=True)
    return settings


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def hash_for_xet_shown(settings: Settings, store) -> None:
    """The Xet hashes of what an import or a sync stored, with a progress of their own:
    hashing reads the bytes again, and counted into the transfer's progress it showed every
    byte twice ("9.2 KiB of 9.2 KiB, 9/9 files" for 6.1 KiB in 8 files)."""
    from hubmirror.progress import TransferProgress
    from hubmirror.runtime import hash_for_xet

    progress = TransferProgress("xet hashes")
    try:
        hash_for_xet(settings, store, progress)
    finally:
        progress.close()


def require_local_store(settings: Settings, command: str) -> None:
    """Commands that read or write blob files work on a local store only (for now)."""
    if settings.store:
        fail(
            f"'{command}' works on blobs on local disk, and this mirror keeps them in "
            f"{settings.store}: run it against a mirror with a local store that uses this one "
            "as its upstream (fill it with 'hubmirror sync --upstream http://THIS-MIRROR')"
        )


def fail(message: str) -> NoReturn:
    click.echo(f"hubmirror: {message}", err=True)
    sys.exit(1)
