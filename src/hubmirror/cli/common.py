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
from typing import NoReturn

import click

from hubmirror.settings import Settings, SettingsError, load_settings


def store_options(command: Callable) -> Callable:
    """The store flags every command shares: data dir, upstreams, offline, index, store, config."""
    options = [
        click.option("--data", help="Data directory [$HUBMIRROR_HOME or ~/.cache/hubmirror]."),
        click.option(
            "--upstream", multiple=True, help="Upstream Hub URL; repeat for failover order."
        ),
        click.option("--offline/--online", default=None, help="Never contact upstream [online]."),
        click.option("--index", help="Index database: postgresql://... [DATA/index.sqlite]."),
        click.option("--store", help="Blob store: s3://BUCKET[/PREFIX] [DATA/blobs]."),
        click.option(
            "--config", "config_file", type=click.Path(dir_okay=False), help="TOML settings file."
        ),
    ]
    return functools.reduce(lambda cmd, option: option(cmd), reversed(options), command)


def settings_from(flags: dict, config_file: str | None) -> Settings:
    """Settings from the command's flags (``None`` = not given), environment and file."""
    try:
        return load_settings(flags=flags, config_file=config_file)
    except SettingsError as exc:
        fail(str(exc))


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


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
