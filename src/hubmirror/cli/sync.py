"""``hubmirror sync``: fill the store with whole snapshots ahead of time."""

from __future__ import annotations

from pathlib import Path

import click

from hubmirror.cli.common import (
    configure_logging,
    fail,
    hash_for_xet_shown,
    settings_from,
    store_options,
)
from hubmirror.errors import InvalidInput
from hubmirror.settings import Settings

REPO_TYPES = click.Choice(["model", "dataset", "space"])


@click.command()
@click.argument("repos", nargs=-1)
@click.option("--type", "repo_type", type=REPO_TYPES, help="Repo type of REPOS [model].")
@click.option("--include", multiple=True, help="Only files matching this glob (repeat).")
@click.option("--exclude", multiple=True, help="Skip files matching this glob (repeat).")
@click.option(
    "--from-file",
    type=click.Path(exists=True, dir_okay=False),
    help="A list of REPO[@REV] lines (with their own --type/--include/--exclude).",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Files fetched at once.",
)
@click.option("--token", envvar="HF_TOKEN", help="Upstream token for gated/private repos.")
@click.option("--server", help="Sync through the running mirror at this URL instead.")
@store_options
def sync(repos, repo_type, include, exclude, from_file, jobs, token, server, config_file, **flags):
    """Fetch REPO[@REV]... into the mirror's store: new, updated or unchanged.

    Safe next to a running server on the same --data: each file is still fetched once.
    With --server, the server does the work (it needs its admin_token, taken from
    HUBMIRROR_ADMIN_TOKEN or the config file). Exits 1 when anything failed.
    """
    from hubmirror.runtime import run_event_loop

    settings = settings_from(flags, config_file, announce=not server)
    configure_logging(settings)
    items = _items(repos, repo_type, include, exclude, from_file)
    results = []
    if server:
        _run_remote(server, settings.admin_token, items, token, results)
    else:
        run_event_loop(run_sync(settings, items, jobs, token, results))
    report(results)


def report(results: list) -> None:
    """A line per repo on stdout, errors on stderr; exit 1 when anything failed."""
    for result in results:
        click.echo(line(result))
    failed = [r for r in results if not r.ok]
    for result in failed:
        for error in result.errors:
            click.echo(f"hubmirror: {error}", err=True)
    if failed:
        raise SystemExit(1)


def _items(repos, repo_type, include, exclude, from_file):
    from hubmirror.hub.specs import FileFilter, parse_repo_spec
    from hubmirror.hub.synclist import SyncItem, parse_sync_list
    from hubmirror.types import RepoType

    kind = RepoType(repo_type) if repo_type else None
    try:
        files = FileFilter(tuple(include), tuple(exclude))
        items = [SyncItem(parse_repo_spec(r, kind), files) for r in repos]
        if from_file:
            items += parse_sync_list(Path(from_file).read_text(), source=from_file)
    except InvalidInput as exc:
        fail(str(exc))
    if not items:
        fail("name at least one REPO[@REV], or a list with --from-file")
    return items


async def run_sync(settings: Settings, items, jobs: int, token: str | None, results: list) -> None:
    """Sync ``items`` on the data directory of ``settings``, appending their results."""
    from hubmirror.hub.headers import bearer
    from hubmirror.mirror.portable.sync import sync_snapshot
    from hubmirror.progress import TransferProgress
    from hubmirror.runtime import open_mirror, open_store, use_io_threads

    use_io_threads()
    progress = TransferProgress("sync")
    try:
        async with open_mirror(settings) as mirror:
            for item in items:
                result = await sync_snapshot(
                    mirror, item.spec, item.files, auth=bearer(token), jobs=jobs, progress=progress
                )
                results.append(result)
    finally:
        progress.close()
    with open_store(settings) as store:  # the mirror's background hashes stopped with it
        hash_for_xet_shown(settings, store)


def _run_remote(server: str, admin_token, items, token, results: list) -> None:
    from hubmirror.cli.remote import remote_sync
    from hubmirror.progress import TransferProgress

    if not admin_token:
        fail("--server needs the server's admin token: set HUBMIRROR_ADMIN_TOKEN")
    progress = TransferProgress("sync")
    try:
        for item in items:
            results.append(remote_sync(server, admin_token, item, token, progress))
    except OSError as exc:
        fail(f"cannot reach {server}: {exc}; is 'hubmirror serve' running there?")
    finally:
        progress.close()


def line(result) -> str:
    """One repo's outcome: state, REPO@REV, commit, files, fetched."""
    commit = (result.commit or "-")[:12]
    moved = f" (was {result.previous[:12]})" if result.state.value == "updated" else ""
    return (
        f"{result.state.value:<9} {result.spec} {commit}{moved}: {result.files} file(s), "
        f"{result.fetched} fetched ({_size(result.fetched_bytes)})"
    )


def _size(count: int) -> str:
    from hubmirror.progress import human_bytes

    return human_bytes(count)
