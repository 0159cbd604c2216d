"""The ``hubmirror`` command: parse, call, print. User errors are one line and exit 1."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import click

from hubmirror import __version__
from hubmirror.settings import Settings, SettingsError, load_settings
from hubmirror.storage.layout import LayoutMismatch


@click.group()
@click.version_option(__version__, prog_name="hubmirror")
def main() -> None:
    """A Hugging Face Hub mirror: set HF_ENDPOINT to it and download as usual."""


@main.command()
@click.option("--host", help="Address to listen on [127.0.0.1].")
@click.option("--port", type=int, help="Port to listen on [8080].")
@click.option("--workers", type=int, help="Server processes sharing the port [1].")
@click.option("--data", help="Data directory [$HUBMIRROR_HOME or ~/.cache/hubmirror].")
@click.option("--upstream", multiple=True, help="Upstream Hub URL; repeat for failover order.")
@click.option("--metadata-ttl", type=float, help="Seconds branch/API answers are reused [600].")
@click.option("--public-url", help="URL clients use to reach this mirror (for Link URLs).")
@click.option("--offline/--online", default=None, help="Never contact upstream [online].")
@click.option(
    "--config", "config_file", type=click.Path(dir_okay=False), help="TOML settings file."
)
def serve(config_file: str | None, **flags) -> None:
    """Run the mirror's HTTP server."""
    from hubmirror.runtime import run_event_loop, tune_allocator

    settings = _settings(flags, config_file)
    _configure_logging(settings)
    try:
        if settings.workers > 1:
            _serve_workers(settings)
            return
        tune_allocator()
        run_event_loop(_serve(settings))
    except LayoutMismatch as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}")


def _serve_workers(settings: Settings) -> None:
    """Prepare the data directory once, then run one server process per worker."""
    from hubmirror.workers import prepare_store, spawn_workers

    if settings.port == 0:
        _fail("--workers needs a fixed --port")
    prepare_store(settings)
    sys.exit(spawn_workers(settings, _worker_main))


def _worker_main(settings: Settings) -> None:
    from hubmirror.runtime import run_event_loop, tune_allocator

    _configure_logging(settings)
    tune_allocator()
    run_event_loop(_serve(settings, reuse_port=True))


async def _serve(settings: Settings, reuse_port: bool = False) -> None:
    from hubmirror.runtime import open_mirror, use_io_threads
    from hubmirror.server.app import start_server

    use_io_threads()
    async with open_mirror(settings) as mirror:
        runner, port = await start_server(
            mirror,
            settings.host,
            settings.port,
            public_url=settings.public_url,
            log_requests=settings.access_log,
            reuse_port=reuse_port,
            admin_token=settings.admin_token,
        )
        url = settings.public_url or f"http://{settings.host}:{port}"
        logging.getLogger("hubmirror").info(
            "serving on http://%s:%d (data %s, upstream %s) — export HF_ENDPOINT=%s",
            settings.host,
            port,
            settings.data,
            ", ".join(settings.upstream),
            url,
        )
        try:
            await _wait_for_signal()
        finally:
            await runner.cleanup()


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _settings(flags: dict, config_file: str | None) -> Settings:
    try:
        return load_settings(flags=flags, config_file=config_file)
    except SettingsError as exc:
        _fail(str(exc))
        raise AssertionError from exc  # unreachable


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _fail(message: str) -> None:
    click.echo(f"hubmirror: {message}", err=True)
    sys.exit(1)
