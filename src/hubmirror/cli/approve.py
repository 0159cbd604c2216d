"""``hubmirror approve | deny | approvals``: the operators' side of approval mode."""

from __future__ import annotations

import datetime
import getpass
import json
import time

import click

from hubmirror.cli.common import configure_logging, fail, settings_from, store_options
from hubmirror.errors import InvalidInput

REPO_TYPES = click.Choice(["model", "dataset", "space"])


@click.command()
@click.argument("repos", nargs=-1, required=True, metavar="REPO[@REV]...")
@click.option("--type", "repo_type", type=REPO_TYPES, help="Repo type of REPOS [model].")
@click.option(
    "--sync/--no-sync", default=True, show_default=True, help="Fetch the approved snapshots now."
)
@click.option("--token", envvar="HF_TOKEN", help="Upstream token for the sync of gated repos.")
@store_options
def approve(repos, repo_type, sync, token, config_file, **flags) -> None:
    """Serve REPO from now on (in allowlist and approval mode), and sync it.

    A running server on the same data directory sees the decision within seconds.
    """
    settings = settings_from(flags, config_file)
    configure_logging(settings)
    specs = _specs(repos, repo_type)
    _decide(settings, specs, "approved")
    if sync:
        from hubmirror.cli.sync import report, run_sync
        from hubmirror.hub.specs import FileFilter
        from hubmirror.hub.synclist import SyncItem
        from hubmirror.runtime import run_event_loop

        results: list = []
        items = [SyncItem(spec, FileFilter()) for spec in specs]
        run_event_loop(run_sync(settings, items, 8, token, results))
        report(results)


@click.command()
@click.argument("repos", nargs=-1, required=True, metavar="REPO...")
@click.option("--type", "repo_type", type=REPO_TYPES, help="Repo type of REPOS [model].")
@store_options
def deny(repos, repo_type, config_file, **flags) -> None:
    """Never serve REPO, in every access mode (stored blobs are kept)."""
    settings = settings_from(flags, config_file)
    configure_logging(settings)
    _decide(settings, _specs(repos, repo_type), "denied")


@click.command()
@click.option("--all", "everything", is_flag=True, help="Also approved and denied repos.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
@store_options
def approvals(everything, as_json, config_file, **flags) -> None:
    """Repos waiting for approval: who asked first, when, and how often."""
    from hubmirror.runtime import open_store

    settings = settings_from(flags, config_file)
    with open_store(settings) as store:
        found = store.index.access.approvals(None if everything else "pending")
    for approval in found:
        click.echo(json.dumps(_as_dict(approval)) if as_json else _row(approval))
    if not found and not as_json:
        click.echo("no repos waiting for approval" if not everything else "no decisions yet")


def _decide(settings, specs, state: str) -> None:
    from hubmirror.runtime import open_store

    who = f"cli:{getpass.getuser()}"
    with open_store(settings) as store:
        for spec in specs:
            store.index.access.decide(spec.repo, state, who, time.time())
            click.echo(f"{state:<9} {_name(spec.repo)}")


def _specs(repos, repo_type):
    from hubmirror.hub.specs import parse_repo_spec
    from hubmirror.types import RepoType

    try:
        return [parse_repo_spec(r, RepoType(repo_type) if repo_type else None) for r in repos]
    except InvalidInput as exc:
        fail(str(exc))


def _name(repo) -> str:
    return repo.name if repo.repo_type.value == "model" else f"{repo.repo_type.value}:{repo.name}"


def _as_dict(approval) -> dict:
    return {
        "repo": _name(approval.repo),
        "state": approval.state,
        "requested_at": approval.requested_at,
        "requested_by": approval.requested_by,
        "requests": approval.requests,
        "decided_at": approval.decided_at,
        "decided_by": approval.decided_by,
    }


def _row(approval) -> str:
    when = approval.requested_at or approval.decided_at
    stamp = datetime.datetime.fromtimestamp(when).isoformat(timespec="seconds") if when else "-"
    who = approval.requested_by or approval.decided_by or "-"
    return f"{approval.state:<9} {_name(approval.repo):<40} {stamp}  {who}  ({approval.requests}x)"
