"""``hubmirror export`` and ``hubmirror import``: carry snapshots between mirrors as files.

Both work on the data directory alone (``--data``, as ``serve`` uses it), never on
upstream, and may run beside a server on the same directory.
"""

from __future__ import annotations

from pathlib import Path

import click

from hubmirror.cli.common import (
    configure_logging,
    fail,
    hash_for_xet_shown,
    require_local_store,
    settings_from,
    store_options,
)

FORMATS = click.Choice(["bundle", "hf-cache", "dir"])
REPO_TYPES = click.Choice(["model", "dataset", "space"])


@click.command()
@click.argument("repos", nargs=-1, required=True, metavar="REPO[@REV]...")
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(path_type=Path),
    help="Bundle directory, or FILE.tar for one uncompressed tar file.",
)
@click.option("--type", "repo_type", type=REPO_TYPES, help="Repo type of REPOS [model].")
@click.option("--include", multiple=True, metavar="GLOB", help="Only matching files (repeat).")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip matching files (repeat).")
@click.option(
    "--format",
    "fmt",
    type=FORMATS,
    default="bundle",
    show_default=True,
    help="bundle: for 'hubmirror import'; hf-cache: a huggingface_hub cache; dir: plain files.",
)
@store_options
def export(repos, target, repo_type, include, exclude, fmt, config_file, **flags) -> None:
    """Write stored snapshots of REPO[@REV]... to a bundle, an HF cache or plain files.

    Each snapshot must be complete in the store (run 'hubmirror sync' first, or
    snapshot_download it through the mirror). REPO without @REV is every revision of it
    the store holds complete; the summary names each one taken, and those left out. A
    bundle carries the blobs and everything the mirror answers about them; 'hubmirror
    import' on another mirror makes it serve them exactly as this one does, even offline.
    """
    settings = settings_from(flags, config_file)
    configure_logging(settings)
    specs = _specs(repos, repo_type)
    try:
        summary, left_out = _export(settings, specs, _filter(include, exclude), target, fmt)
    except _user_errors() as exc:
        fail(_one_line(exc))
    click.echo(str(summary))
    for reason in left_out:
        click.echo(f"left out {reason}")


@click.command("import")
@click.argument("source", type=click.Path(path_type=Path), metavar="DIR|FILE.tar")
@store_options
def import_(source: Path, config_file: str | None, **flags) -> None:
    """Import a bundle written by 'hubmirror export': verify all of it, then serve it.

    Nothing becomes visible until every blob has been checked; a damaged bundle is
    refused whole. Importing the same bundle again changes nothing.
    """
    from hubmirror.mirror.portable.bundle_import import import_bundle
    from hubmirror.progress import TransferProgress
    from hubmirror.runtime import open_store

    settings = settings_from(flags, config_file)
    configure_logging(settings)
    require_local_store(settings, "hubmirror import")
    try:
        with open_store(settings) as store:
            progress = TransferProgress("import")
            try:
                summary = import_bundle(store.index, store.blobs, source, progress)
            finally:
                progress.close()
            hash_for_xet_shown(settings, store)
    except _user_errors() as exc:
        fail(_one_line(exc))
    click.echo(str(summary))


def _export(settings, specs, file_filter, target: Path, fmt: str):
    """Select first (refusing incomplete snapshots), then write with progress shown."""
    from hubmirror.mirror.portable.bundle_export import complete_snapshots, export_bundle
    from hubmirror.progress import TransferProgress
    from hubmirror.runtime import open_store

    require_local_store(settings, "hubmirror export")
    with open_store(settings, existing=True) as store:
        snapshots, left_out = complete_snapshots(store.index, specs, file_filter)
        progress = TransferProgress("export")
        try:
            if fmt == "bundle":
                summary = export_bundle(store.index, store.blobs, snapshots, target, progress)
            else:
                from hubmirror.mirror.portable.hfcache_export import export_files

                summary = export_files(store.index, store.blobs, snapshots, target, fmt, progress)
        finally:
            progress.close()
    return summary, left_out


def _specs(repos, repo_type):
    """``REPO@REV`` as a ``RepoSpec``; ``REPO`` alone as its ``RepoId``: every revision held."""
    from hubmirror.errors import InvalidInput
    from hubmirror.hub.specs import parse_repo_spec
    from hubmirror.types import RepoType

    kind = RepoType(repo_type) if repo_type else None
    try:
        specs = [parse_repo_spec(r, kind) for r in repos]
    except InvalidInput as exc:
        fail(str(exc))
    return [spec if "@" in text else spec.repo for text, spec in zip(repos, specs, strict=True)]


def _filter(include, exclude):
    from hubmirror.hub.specs import FileFilter

    return FileFilter(tuple(include), tuple(exclude))


def _user_errors() -> tuple[type[Exception], ...]:
    """What a user can fix (bad bundle, incomplete snapshot, full disk): one line, exit 1.

    Anything else is a bug and keeps its traceback.
    """
    from hubmirror.errors import HubMirrorError
    from hubmirror.mirror.portable.selection import SelectionError
    from hubmirror.storage.bundlefiles import BundleError
    from hubmirror.storage.layout import LayoutMismatch

    return (SelectionError, BundleError, HubMirrorError, LayoutMismatch, OSError)


def _one_line(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return str(exc)
