"""``hubmirror serve``: run the mirror's HTTP server."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

import click

from hubmirror.census import WorkerCensus
from hubmirror.cli.common import (
    configure_logging,
    fail,
    setting_options,
    settings_from,
    store_options,
)
from hubmirror.cli.config import cross_field_problems
from hubmirror.cli.served import setting_origins, try_record_settings
from hubmirror.clientcounts import ClientCounts
from hubmirror.errors import IndexUnavailable, InvalidInput, StoreUnavailable
from hubmirror.settings import Settings
from hubmirror.storage.layout import LayoutMismatch


@click.command()
@setting_options("host", "port", "workers", "metadata_ttl", "public_url", "access_mode")
@store_options
def serve(config_file: str | None, **flags) -> None:
    """Run the mirror's HTTP server."""
    from hubmirror.runtime import run_event_loop, tune_allocator

    settings = settings_from(flags, config_file, announce=False, shared=False)
    configure_logging(settings)
    problems = cross_field_problems(settings)  # what `config check` finds, before listening
    if problems:
        fail("cannot start:\n  " + "\n  ".join(problems))
    origins = setting_origins(flags, config_file, os.environ)
    _prepare_data(settings)
    try:
        if settings.workers > 1:
            _serve_workers(settings, origins)
            return
        tune_allocator()
        run_event_loop(_serve(settings, origins=origins))
    except LayoutMismatch as exc:
        fail(str(exc))
    except InvalidInput as exc:  # a bad allow/deny pattern, named in the message
        fail(f"bad setting: {exc}")
    except (StoreUnavailable, IndexUnavailable) as exc:  # at start: say which and why
        fail("cannot start: " + " ".join(str(exc).split()))
    except OSError as exc:
        if exc.filename:  # a file of the data directory, not the socket
            fail(f"cannot start: {exc.filename}: {exc.strerror or exc}")
        fail(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}")


def _prepare_data(settings: Settings) -> None:
    """Create or check the data directory before listening: its problems named as such."""
    from hubmirror.storage.layout import prepare_data_dir

    try:
        prepare_data_dir(settings.data)
    except LayoutMismatch as exc:
        fail(str(exc))
    except OSError as exc:
        where = exc.filename or settings.data
        fail(f"cannot start: data directory {settings.data}: {where}: {exc.strerror or exc}")


def _serve_workers(settings: Settings, origins: dict) -> None:
    """Prepare the data directory once, record the settings, then run one server process
    per worker."""
    from hubmirror.workers import prepare_store, spawn_workers

    if settings.port == 0:
        fail("--workers needs a fixed --port")
    prepare_store(settings)
    try_record_settings(settings, origins)
    sys.exit(spawn_workers(settings, _worker_main))


def _worker_main(settings: Settings, census: WorkerCensus, clients: ClientCounts | None) -> None:
    from hubmirror.runtime import run_event_loop, tune_allocator

    configure_logging(settings)
    tune_allocator()
    run_event_loop(_serve(settings, reuse_port=True, census=census, clients=clients))


async def _serve(
    settings: Settings,
    reuse_port: bool = False,
    census: WorkerCensus | None = None,
    clients: ClientCounts | None = None,
    origins: dict | None = None,
) -> None:
    """Serve until SIGTERM/SIGINT; ``origins`` given: record the settings once listening
    (commands run beside this server use them, ``cli/served.py``)."""
    from hubmirror.hub.redirects import without_userinfo
    from hubmirror.runtime import open_mirror, use_io_threads
    from hubmirror.server.app import start_server
    from hubmirror.server.protocol import Timeouts

    use_io_threads()
    async with open_mirror(settings) as mirror:
        await mirror.probe_upstreams()  # a few seconds at most; before the first request
        runner, port = await start_server(
            mirror,
            settings.host,
            settings.port,
            public_url=settings.public_url,
            log_requests=settings.access_log,
            reuse_port=reuse_port,
            admin_token=settings.admin_token,
            max_fills_per_client=settings.max_fills_per_client,
            rate_limit=settings.rate_limit,
            rate_burst=settings.rate_burst,
            timeouts=Timeouts(settings.keepalive_timeout, settings.body_timeout),
            trusted_proxies=settings.trusted_proxies,
            census=census,
            clients=clients,
        )
        if origins is not None:
            try_record_settings(settings, origins)
        url = settings.public_url or f"http://{settings.host}:{port}"
        logging.getLogger("hubmirror").info(
            "serving on http://%s:%d (data %s, upstream %s) — export HF_ENDPOINT=%s",
            settings.host,
            port,
            settings.data,
            ", ".join(without_userinfo(u) for u in settings.upstream),
            url,
        )
        if settings.index or settings.store:
            logging.getLogger("hubmirror").info("%s", _sharing(settings, mirror))
        _log_upstreams(mirror)
        try:
            await _wait_for_signal()
        finally:
            await _drain(runner, mirror, settings.drain_seconds)


def _log_upstreams(mirror) -> None:
    """One line per upstream: reachable (and how fast), or not and why. Never fatal: a
    mirror that cannot reach upstream serves what it holds."""
    log = logging.getLogger("hubmirror")
    for health in mirror.upstream_health():
        if health.state == "unreachable":
            log.warning(
                "upstream %s: unreachable (%s); serving what is cached, asking again on demand",
                health.name,
                health.why,
            )
        else:
            log.info("upstream %s: %s", health.name, health.words)


def _sharing(settings: Settings, mirror) -> str:
    """What this node shares with others, for the start-up log (no passwords)."""
    from hubmirror.hub.redirects import without_userinfo
    from hubmirror.progress import human_bytes

    status = mirror.status()
    parts = [
        f"index {without_userinfo(settings.index) if settings.index else 'DATA/index.sqlite'}",
        f"store {settings.store or 'DATA/blobs'}",
    ]
    if status.tier is not None:
        parts.append(f"local tier {human_bytes(status.tier.limit)}")
    if status.node is not None:
        parts.append(f"node {status.node.name} at {status.node.address}")
    return ", ".join(parts)


async def _drain(runner, mirror, seconds: float) -> None:
    """Stop listening, then give running answers and fills ``seconds`` to finish.

    What is left is cut: aiohttp cancels the handlers, and leaving ``open_mirror``
    cancels the fills, which keep their bytes to resume (fills.py). A rolling restart
    thus loses no finished download and refetches no byte already stored.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    log = logging.getLogger("hubmirror")
    for site in list(runner.sites):
        await site.stop()  # new connections are refused from here on
    server = runner.server
    busy = len(server.connections) if server else 0
    log.info("draining: %d connection(s), %d fill(s), up to %gs", busy, _fills(mirror), seconds)
    if server is not None:
        await asyncio.sleep(0)  # let requests that just arrived reach their handlers
        server.pre_shutdown()  # idle keep-alive connections close now, busy ones after answering
        await server.shutdown(max(deadline - loop.time(), 0.001))  # 0 would mean "no limit"
    await mirror.drain_fills(deadline - loop.time())
    left = _fills(mirror)
    if left:
        log.warning("drain time over: %d fill(s) cut, their bytes kept for resume", left)
    await runner.cleanup()


def _fills(mirror) -> int:
    return len(mirror.status().transfers)


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
