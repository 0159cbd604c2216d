"""``hubmirror approve | deny | approvals``: the operators' side of approval mode."""

from __future__ import annotations

import datetime
import getpass
import json
import time

import click

from hubmirror.cli.common import configure_logging, fail, settings_from, store_options
from hubmirror.cli.sync import line
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

    A repo upstream says does not exist is refused (nothing is recorded). A prefetch
    that fails leaves the approval in place: a warning names what failed (exit 0).
    A running server on the same data directory sees the decision within seconds.
    """
    settings = settings_from(flags, config_file)
    configure_logging(settings)
    specs = _specs(repos, repo_type)
    for warning in _meaningless(settings, specs):
        click.echo(f"hubmirror: warning: {warning}", err=True)
    _refuse_missing(settings, specs, token, warn_unchecked=not sync)
    _decide(settings, specs, "approved")
    if sync:
        _prefetch(settings, specs, token)


def _meaningless(settings, specs) -> list[str]:
    """Approvals the server's rules make moot: open mode serves every repo anyway, and a
    deny pattern refuses a repo whatever an operator approved."""
    from hubmirror.mirror.access.admission import OPEN, Verdict
    from hubmirror.runtime import access_rules

    if settings.access_mode == OPEN:
        return [
            "access_mode is open: the server serves every repo, approved or not; approvals "
            "matter once access_mode is allowlist or approval"
        ]
    try:
        rules = access_rules(settings)
    except InvalidInput as exc:
        fail(f"bad setting: {exc}")
    return [
        f"{_name(spec.repo)} matches a deny pattern ({', '.join(settings.deny)}): "
        "the server keeps refusing it"
        for spec in specs
        if rules.verdict(spec.repo, "approved") is Verdict.DENIED
    ]


def _refuse_missing(settings, specs, token, *, warn_unchecked: bool) -> None:
    """Ask upstream for each repo first: one it says does not exist is a typo to fix,
    not an approval to record (then none of them is recorded). One that could not be
    checked (upstream unreachable, gated) is approved; the prefetch says what failed."""
    from hubmirror.runtime import run_event_loop

    if settings.offline:
        click.echo("hubmirror: warning: offline: not checked with upstream", err=True)
        return
    missing: list[str] = []
    unchecked: list[str] = []
    run_event_loop(_ask_upstream(settings, specs, token, missing, unchecked))
    for problem in unchecked if warn_unchecked else ():
        click.echo(f"hubmirror: warning: {problem}", err=True)
    if missing:
        for problem in missing:
            click.echo(f"hubmirror: {problem}", err=True)
        fail("nothing approved")


async def _ask_upstream(settings, specs, token, missing: list, unchecked: list) -> None:
    from hubmirror.errors import HubMirrorError, RepoNotFound
    from hubmirror.hub.headers import bearer
    from hubmirror.hub.routes import RepoApi
    from hubmirror.runtime import open_mirror

    async with open_mirror(settings) as mirror:
        for spec in specs:
            route = RepoApi(spec.repo, "revision", spec.revision)
            try:
                await mirror.api(route, [], None, bearer(token), refresh=True)
            except RepoNotFound:
                missing.append(
                    f"{_name(spec.repo)}: upstream says this repo does not exist "
                    "(check its name; a private repo needs --token)"
                )
            except HubMirrorError as exc:
                unchecked.append(f"{spec}: not checked with upstream: {exc}")


def _prefetch(settings, specs, token) -> None:
    """Sync the approved snapshots; a failure is a warning, the approval stands."""
    from hubmirror.cli.sync import run_sync
    from hubmirror.hub.specs import FileFilter
    from hubmirror.hub.synclist import SyncItem
    from hubmirror.runtime import run_event_loop

    results: list = []
    items = [SyncItem(spec, FileFilter()) for spec in specs]
    run_event_loop(run_sync(settings, items, 8, token, results))
    for result in results:
        if result.ok:
            click.echo(line(result))
            continue
        for error in result.errors:
            click.echo(
                f"hubmirror: warning: {_name(result.spec.repo)} is approved (its first "
                f"download fetches it), but its prefetch failed: {error}",
                err=True,
            )


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
    from hubmirror.storage.layout import LayoutMismatch

    settings = settings_from(flags, config_file)
    try:
        with open_store(settings, existing=True) as store:
            found = store.index.access.approvals(None if everything else "pending")
    except LayoutMismatch as exc:
        fail(str(exc))
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
