"""``hubmirror import-hf-cache [PATH]``: a huggingface_hub cache into the mirror's store."""

from __future__ import annotations

import sys
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


@click.command("import-hf-cache")
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--repo",
    "repos",
    multiple=True,
    metavar="REPO",
    help="Import only this repo ([type:]namespace/name); repeat for more.",
)
@click.option(
    "--public",
    is_flag=True,
    help="Declare the repos public, so an offline mirror serves them to everyone "
    "(the cache cannot tell; only for caches of public repos).",
)
@store_options
def import_hf_cache(
    path: Path | None, repos: tuple[str, ...], public: bool, config_file, **flags
) -> None:
    """Copy what a huggingface_hub cache holds into the mirror, verifying every file.

    PATH defaults to the cache huggingface_hub uses ($HF_HUB_CACHE, $HF_HOME/hub or
    ~/.cache/huggingface/hub). Files whose bytes do not match their hash are reported
    and skipped; the exit status is 1 when there were any.
    """
    from hubmirror.mirror.portable.hfcache_import import import_cache
    from hubmirror.progress import TransferProgress
    from hubmirror.runtime import open_store
    from hubmirror.storage.hfcache import default_cache_dir
    from hubmirror.storage.layout import LayoutMismatch

    settings = settings_from(flags, config_file)
    configure_logging(settings)
    root = path or default_cache_dir()
    if not root.is_dir():
        fail(f"{root}: no such directory (expected a huggingface_hub cache)")
    only = _repos(repos) if repos else None
    require_local_store(settings, "hubmirror import-hf-cache")
    try:
        with open_store(settings) as store:
            progress = TransferProgress(f"import {root}")
            try:
                report = import_cache(store.index, store.blobs, root, only, progress, public=public)
            finally:
                progress.close()
            hash_for_xet_shown(settings, store)
    except LayoutMismatch as exc:
        fail(str(exc))
    click.echo(str(report))
    if not report.repos and (root / "hub").is_dir():
        click.echo(f"(did you mean {root / 'hub'}?)")
    if report.corrupt:
        sys.exit(1)


def _repos(texts: tuple[str, ...]) -> set:
    from hubmirror.errors import InvalidInput
    from hubmirror.hub.specs import parse_repo_spec

    found = set()
    for text in texts:
        if "@" in text:
            fail(f"--repo {text}: name a repo without @revision (every cached commit is imported)")
        try:
            found.add(parse_repo_spec(text).repo)
        except InvalidInput as exc:
            fail(f"--repo {text}: {exc}")
    return found
