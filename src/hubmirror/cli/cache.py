"""``hubmirror cache``: what the store holds (ls, du), and trimming it (rm, prune, verify).

Each command works on the data directory directly, so it runs beside a serving
mirror: eviction removes a blob's index row before its file, a blob being filled
(by any process) is left alone, and a server sending a blob keeps its bytes when
the file is unlinked (POSIX), its next request for it refetches.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import time
from collections.abc import Iterator
from datetime import datetime

import click

from hubmirror.cli.common import (
    configure_logging,
    fail,
    require_local_store,
    settings_from,
    store_options,
)

_SHARED_NOTE = "a blob listed by several repos counts for each of them, once in the total"


@click.group()
def cache() -> None:
    """Inspect and trim the store: ls, du, rm, prune, verify."""


@cache.command("ls")
@click.option(
    "--sort",
    type=click.Choice(["size", "last-used", "name"]),
    default="name",
    show_default=True,
    help="Order of the repos (size and last-used: largest / most recent first).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object: repos and totals.")
@store_options
def ls(sort, as_json, config_file, **flags) -> None:
    """Cached repos: revisions and commits, files stored/listed, bytes, last access."""
    usage = _usage(flags, config_file)
    repos = sorted(usage.repos, key=_SORTS[sort])
    if as_json:
        click.echo(json.dumps(_usage_json(usage, repos), indent=2))
        return
    rows = [_ls_row(repo) for repo in repos]
    click.echo(_table(("repo", "revisions", "stored/listed", "size", "last used"), rows))
    click.echo(
        f"{len(repos)} repo(s); {usage.blobs} blob(s), {_bytes(usage.size)} in the store"
        f" ({_SHARED_NOTE})"
    )


@cache.command("du")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.option("--top", type=click.IntRange(1), default=10, show_default=True, help="Largest N.")
@store_options
def du(as_json, top, config_file, **flags) -> None:
    """Totals: blobs and bytes, per repo type, the largest repos, and the disk's free space."""
    settings = settings_from(flags, config_file)
    usage = _usage(flags, config_file)
    disk = shutil.disk_usage(settings.data)
    largest = sorted(usage.repos, key=lambda r: -r.size)[:top]
    if as_json:
        summary = {
            "blobs": usage.blobs,
            "bytes": usage.size,
            "by_type": {k: {"blobs": n, "bytes": b} for k, (n, b) in usage.by_type.items()},
            "unlisted": {"blobs": usage.unlisted_blobs, "bytes": usage.unlisted_size},
            "largest": [{"repo": _name(r.repo), "bytes": r.size} for r in largest],
            "disk": {"total": disk.total, "free": disk.free},
        }
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"store     {usage.blobs} blob(s), {_bytes(usage.size)} ({usage.size} bytes)")
    for kind, (count, size) in usage.by_type.items():
        click.echo(f"{kind:<9} {count} blob(s), {_bytes(size)}")
    if usage.unlisted_blobs:
        click.echo(f"unlisted  {usage.unlisted_blobs} blob(s), {_bytes(usage.unlisted_size)}")
    click.echo(f"disk      {_bytes(disk.free)} free of {_bytes(disk.total)}")
    click.echo("largest repos:")
    for repo in largest:
        click.echo(f"  {_bytes(repo.size):>10}  {_name(repo.repo)}")


@cache.command("rm")
@click.argument("spec", metavar="REPO[@REV]")
@click.option("--dry-run", is_flag=True, help="Show the plan; remove nothing.")
@store_options
def rm(spec, dry_run, config_file, **flags) -> None:
    """Forget a repo (or one revision's commit) and the blobs nothing else lists.

    REV removes its commit: every revision naming that commit, its files and snapshot.
    """
    from hubmirror.mirror.cache.eviction import execute, plan_unreferenced

    settings = settings_from(flags, config_file)
    configure_logging(settings)
    with _store(settings) as store:
        repo, commit = _target(store.index, spec)
        index = store.index

        def removed(ref) -> bool:
            return ref.repo == repo and (commit is None or ref.commit == commit)

        plan = plan_unreferenced(index.blob_usage(), index.blob_refs(), removed)
        what = _name(repo) + (f"@{commit}" if commit else "")
        _show_plan(plan, f"remove {what}", dry_run)
        if dry_run:
            return

        def rows() -> None:
            index.delete_commit(repo, commit) if commit else index.delete_repo(repo)

        _report(execute(plan, index, store.blobs, also=rows))


@cache.command()
@click.option("--older-than", metavar="AGE", help="Blobs not read for AGE: 12h, 30d, 2w.")
@click.option("--max-size", metavar="SIZE", help="Then least recently used until under SIZE.")
@click.option("--dry-run", is_flag=True, help="Show the plan; remove nothing.")
@store_options
def prune(older_than, max_size, dry_run, config_file, **flags) -> None:
    """Evict blobs: those not read for --older-than, then least recently used ones until
    the store fits in --max-size. Their files stay listed; a request refetches them."""
    from hubmirror.mirror.cache.eviction import execute, plan_prune

    if older_than is None and max_size is None:
        fail("prune: give --older-than AGE and/or --max-size SIZE")
    now = time.time()
    age = _age(older_than, now) if older_than else None
    limit = _size(max_size) if max_size else None
    settings = settings_from(flags, config_file)
    configure_logging(settings)
    with _store(settings) as store:
        plan = plan_prune(store.index.blob_usage(), now, older_than=age, max_size=limit)
        _show_plan(plan, "prune", dry_run)
        if not dry_run:
            _report(execute(plan, store.index, store.blobs))


@cache.command()
@click.option("--repo", metavar="REPO", help="Only the blobs this repo lists.")
@store_options
def verify(repo, config_file, **flags) -> None:
    """Rehash every stored blob; move corrupt ones to DATA/quarantine (refetched on the
    next request). Exits 1 when any was corrupt."""
    from hubmirror.mirror.cache.usage import blobs_of, check_blob, quarantine
    from hubmirror.progress import TransferProgress

    settings = settings_from(flags, config_file)
    configure_logging(settings)
    repo_id = _repo(repo) if repo else None
    bad = 0
    with _store(settings) as store:
        blobs = blobs_of(store.index, repo_id)
        progress = TransferProgress("verify")
        progress.add_total(sum(b.size for b in blobs), files=len(blobs))
        for blob in blobs:
            problem = check_blob(store.blobs.path_for(blob.sha256), blob, progress.advance)
            progress.file_done()
            if problem:
                bad += 1
                moved = quarantine(store.index, store.blobs, blob, store.layout.root / "quarantine")
                progress.note(f"corrupt {blob.sha256}: {problem}; moved to {moved or '-'}")
        progress.close()
    click.echo(
        f"verified {len(blobs)} blob(s), {_bytes(sum(b.size for b in blobs))}: {bad} corrupt"
    )
    if bad:
        click.echo("corrupt blobs were moved to DATA/quarantine; the next request refetches them")
        sys.exit(1)


# helpers ----------------------------------------------------------------------
@contextlib.contextmanager
def _store(settings) -> Iterator:
    """The opened store; an unusable data directory is a one-line failure."""
    from hubmirror.runtime import open_store
    from hubmirror.storage.layout import LayoutMismatch

    require_local_store(settings, "hubmirror cache")
    try:
        with open_store(settings, existing=True) as store:
            yield store
    except (LayoutMismatch, OSError) as exc:
        fail(str(exc))


def _usage(flags, config_file):
    from hubmirror.mirror.cache.usage import store_usage

    settings = settings_from(flags, config_file)
    configure_logging(settings)
    with _store(settings) as store:
        return store_usage(store.index)


def _target(index, spec: str):
    """The repo, and the commit REV names (``None`` for the whole repo)."""
    from hubmirror.errors import InvalidInput
    from hubmirror.hub.specs import parse_repo_spec

    try:
        parsed = parse_repo_spec(spec)
    except InvalidInput as exc:
        fail(str(exc))
    repo = parsed.repo
    if repo not in index.known_repos():
        fail(f"{_name(repo)} is not cached")
    if "@" not in spec:
        return repo, None
    rev = parsed.revision.value
    named = {r: c for known, r, c in index.all_revisions() if known == repo}
    commit = named.get(rev) or (rev if index.entries_at(repo, rev) else None)
    if commit is None:
        fail(f"{_name(repo)}@{rev} is not cached")
    return repo, commit


def _show_plan(plan, action: str, dry_run: bool) -> None:
    verb = "would free" if dry_run else "freeing"
    click.echo(f"{action}: {len(plan)} blob(s), {verb} {_bytes(plan.size)} ({plan.size} bytes)")
    for blob in plan.blobs:
        click.echo(f"  {blob.sha256}  {_bytes(blob.size):>10}  {blob.reason}")


def _report(removal) -> None:
    click.echo(f"removed {len(removal.removed)} blob(s), {_bytes(removal.size)}")
    for blob in removal.skipped:
        click.echo(f"  kept {blob.sha256}: being filled")


def _age(text: str, now: float) -> float:
    from hubmirror.cli.audit import parse_since

    try:
        return now - parse_since(text, now)
    except ValueError:
        fail(f"--older-than: '{text}' is not an age such as 12h, 30d or 2w")


def _size(text: str) -> int:
    from hubmirror.settings import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        fail(f"--max-size: {exc}")


def _repo(text: str):
    from hubmirror.errors import InvalidInput
    from hubmirror.hub.specs import parse_repo_spec

    try:
        return parse_repo_spec(text).repo
    except InvalidInput as exc:
        fail(f"--repo: {exc}")


def _name(repo) -> str:
    return repo.name if repo.repo_type.value == "model" else f"{repo.repo_type.value}:{repo.name}"


def _bytes(count: int) -> str:
    from hubmirror.progress import human_bytes

    return human_bytes(count)


def _when(stamp: float | None) -> str:
    return datetime.fromtimestamp(stamp).isoformat(sep=" ", timespec="seconds") if stamp else "-"


_SORTS = {
    "name": lambda r: (r.repo.repo_type.value, r.repo.name),
    "size": lambda r: -r.size,
    "last-used": lambda r: -(r.last_access or 0),
}


def _ls_row(repo) -> tuple[str, ...]:
    revisions = ", ".join(f"{rev}→{commit[:8]}" for rev, commit in sorted(repo.revisions.items()))
    return (
        _name(repo.repo),
        revisions or "-",
        f"{len(repo.blobs)}/{repo.files}",
        _bytes(repo.size),
        _when(repo.last_access),
    )


def _usage_json(usage, repos) -> dict:
    return {
        "repos": [
            {
                "repo_type": r.repo.repo_type.value,
                "repo_id": r.repo.name,
                "revisions": r.revisions,
                "files_stored": len(r.blobs),
                "files_listed": r.files,
                "bytes": r.size,
                "last_access": r.last_access,
            }
            for r in repos
        ],
        "blobs": usage.blobs,
        "bytes": usage.size,
        "note": _SHARED_NOTE,
    }


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    top = tuple(name.upper() for name in header)
    widths = [max(len(row[i]) for row in [top, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in [top, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)
