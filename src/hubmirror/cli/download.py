"""``hubmirror download``: a snapshot from mirrors into the huggingface_hub cache or a folder."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from hubmirror.cli.common import fail
from hubmirror.errors import HubMirrorError


@click.command()
@click.argument("repo")
@click.option("--revision", help="Branch, tag or commit [main, or REPO@REVISION].")
@click.option(
    "--type",
    "repo_type",
    type=click.Choice(["model", "dataset", "space"]),
    help="Repo type [model, or a dataset:/datasets/ prefix on REPO].",
)
@click.option("--include", multiple=True, help="Only paths matching this glob; repeatable.")
@click.option("--exclude", multiple=True, help="Skip paths matching this glob; repeatable.")
@click.option("--local-dir", type=click.Path(file_okay=False), help="Plain files here, no cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Cache [$HF_HUB_CACHE].")
@click.option(
    "--mirror", multiple=True, help="Mirror URL; repeat for fallback order [$HF_ENDPOINT]."
)
@click.option("--fallback-to-hub", is_flag=True, help="Try https://huggingface.co last.")
@click.option("--token", help="Hugging Face token, sent to the mirrors only [$HF_TOKEN].")
@click.option(
    "--jobs", type=click.IntRange(1, 64), default=8, show_default=True, help="Connections."
)
def download(repo: str, **options) -> None:
    """Download REPO from the first mirror that answers; print where the files are.

    Files are verified against their sha256 (LFS) or git hash before they are kept, and an
    interrupted download resumes where it stopped.
    """
    from hubmirror.client.downloader import download as run_download
    from hubmirror.progress import TransferProgress

    request = _request_from(repo, options)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    progress = TransferProgress(f"{request.spec}")
    error = None
    try:
        result = run_download(request, progress)
    except HubMirrorError as exc:
        error = exc.message
    except OSError as exc:
        error = f"cannot write the files: {exc}"
    except KeyboardInterrupt:
        error = "interrupted; the same command resumes where this one stopped"
    finally:
        progress.close()
    if error is not None:
        fail(error)
    click.echo(str(result.path))
    click.echo(_summary(request, result), err=True)


def _request_from(repo: str, options: dict):
    """The DownloadRequest the flags describe; bad flags end the command with one line."""
    from hubmirror.client.downloader import DownloadRequest
    from hubmirror.client.urls import HUB_ENDPOINT, normalize_endpoint
    from hubmirror.hub.specs import FileFilter, parse_repo_spec
    from hubmirror.types import RepoType

    mirrors = list(options["mirror"]) or [os.environ.get("HF_ENDPOINT", "")]
    mirrors = [m for m in mirrors if m.strip()]
    if not mirrors and not options["fallback_to_hub"]:
        fail("no mirror to download from: pass --mirror URL or set HF_ENDPOINT")
    if options["fallback_to_hub"]:
        mirrors.append(HUB_ENDPOINT)
    kind = RepoType(options["repo_type"]) if options["repo_type"] else None
    try:
        return DownloadRequest(
            spec=parse_repo_spec(repo, kind, options["revision"]),
            endpoints=tuple(normalize_endpoint(m) for m in mirrors),
            files=FileFilter(tuple(options["include"]), tuple(options["exclude"])),
            cache_dir=_path(options["cache_dir"]),
            local_dir=_path(options["local_dir"]),
            token=options["token"] or os.environ.get("HF_TOKEN") or None,
            jobs=options["jobs"],
        )
    except (HubMirrorError, ValueError) as exc:
        fail(str(exc))


def _path(value: str | None) -> Path | None:
    return Path(value).expanduser() if value else None


def _summary(request, result) -> str:
    """``acme/bert@main at 1a2b3c4d5e6f: 9 files, 9 downloaded (420.3 MiB from URL), ...``"""
    from hubmirror.progress import human_bytes

    sources = {url: n for url, n in result.served.items() if n}
    if len(sources) == 1:
        origin = f" from {next(iter(sources))}"
    else:
        origin = "".join(f", {human_bytes(n)} from {url}" for url, n in sources.items())
    return (
        f"{request.spec} at {result.commit[:12]}: {result.files} files, "
        f"{result.fetched} downloaded ({human_bytes(result.fetched_bytes)}{origin}), "
        f"{result.files - result.fetched} already present"
    )
