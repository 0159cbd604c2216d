"""``hubmirror download``: one snapshot from the first mirror that can serve it.

The same requests as ``snapshot_download``: the revision's commit, the recursive tree at
that commit (``Link`` pages followed), then the files, in parallel, from
``/resolve/{commit}/{path}``. Pinning the commit first means every mirror asked afterwards
serves the very same bytes, so files can come from different mirrors when one fails.
Nothing is published before its hash matches the listing.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from hubmirror.client.chain import Endpoints
from hubmirror.client.errors import DownloadFailed
from hubmirror.client.http import HubHttp, open_session
from hubmirror.client.listing import RemoteFile, files_of_page, is_everything, select
from hubmirror.client.local_dir import LocalDirTarget
from hubmirror.client.partial import PartialFile
from hubmirror.client.targets import CacheTarget, Target
from hubmirror.client.transfer import FileSource, fetch_file
from hubmirror.client.urls import revision_url, tree_url
from hubmirror.client.verify import check_file
from hubmirror.errors import HubMirrorError, IntegrityError, UpstreamUnavailable
from hubmirror.hub.payloads import commit_of_info
from hubmirror.hub.specs import FileFilter, RepoSpec
from hubmirror.progress import NoProgress, Progress
from hubmirror.storage.hfcache import default_cache_dir
from hubmirror.types import RepoId

DEFAULT_JOBS = 8


@dataclass(frozen=True)
class DownloadRequest:
    spec: RepoSpec
    endpoints: tuple[str, ...]
    files: FileFilter = FileFilter()
    cache_dir: Path | None = None  # default: huggingface_hub's (HF_HUB_CACHE, HF_HOME)
    local_dir: Path | None = None  # plain files instead of the cache
    token: str | None = None
    jobs: int = DEFAULT_JOBS


@dataclass
class DownloadResult:
    path: Path  # the snapshot folder, or the local dir
    commit: str
    files: int  # files selected
    fetched: int  # of which downloaded now (the rest were already there)
    served: dict[str, int] = field(default_factory=dict)  # body bytes per endpoint

    @property
    def fetched_bytes(self) -> int:
        return sum(self.served.values())


def download(request: DownloadRequest, progress: Progress | None = None) -> DownloadResult:
    """Run a download to the end; raises ``HubMirrorError`` subclasses on failure."""
    return asyncio.run(download_async(request, progress or NoProgress()))


async def download_async(request: DownloadRequest, progress: Progress) -> DownloadResult:
    endpoints = Endpoints(list(request.endpoints), note=progress.note)
    async with open_session(request.token) as http:
        repo = request.spec.repo
        commit = await _resolve_commit(http, endpoints, request.spec)
        listing = await endpoints.call(
            f"listing {repo.name}", lambda url: _list_files(http, url, repo, commit)
        )
        wanted = select(listing, request.files)
        target = _target_for(request, commit)
        fetched = await _fetch_all(
            FileRun(http, endpoints, request, commit, target, progress), wanted
        )
        path = target.finish(wanted, whole=is_everything(request.files))
    return DownloadResult(path, commit, len(wanted), fetched, dict(endpoints.served))


async def _resolve_commit(http: HubHttp, endpoints: Endpoints, spec: RepoSpec) -> str:
    """The commit the revision points at, as the mirror says: even a 40-hex revision is
    asked, since a branch may be spelled like a sha."""

    async def ask(endpoint: str) -> str:
        info, _ = await http.get_json(
            endpoint, revision_url(endpoint, spec.repo, spec.revision.value)
        )
        commit = commit_of_info(info)
        if commit is None:
            raise UpstreamUnavailable(f"{endpoint} gave no commit sha for {spec}")
        return commit

    return await endpoints.call(f"revision {spec}", ask)


async def _list_files(http: HubHttp, endpoint: str, repo: RepoId, commit: str) -> list[RemoteFile]:
    """Every file of the commit, following ``Link: rel="next"`` pages."""
    files: list[RemoteFile] = []
    url: str | None = tree_url(endpoint, repo, commit)
    while url:
        page, url = await http.get_json(endpoint, url)
        try:
            files.extend(files_of_page(page))
        except ValueError as exc:
            raise UpstreamUnavailable(f"{endpoint} sent a bad listing: {exc}") from None
    return files


def _target_for(request: DownloadRequest, commit: str) -> Target:
    if request.local_dir is not None:
        return LocalDirTarget(request.local_dir, commit)
    root = request.cache_dir or default_cache_dir()
    return CacheTarget(root, request.spec.repo, request.spec.revision.value, commit)


@dataclass
class FileRun:
    """What every file of one download shares."""

    http: HubHttp
    endpoints: Endpoints
    request: DownloadRequest
    commit: str
    target: Target
    progress: Progress


async def _fetch_all(run: FileRun, wanted: list[RemoteFile]) -> int:
    """Download every group not already in place; the number of files downloaded."""
    groups: dict[str, list[RemoteFile]] = defaultdict(list)
    for remote in wanted:
        groups[run.target.key(remote)].append(remote)
    todo = [group for group in groups.values() if not run.target.reuse(group)]
    run.progress.add_total(sum(g[0].entry.size for g in todo), sum(len(g) for g in todo))
    source = FileSource(
        run.http,
        run.endpoints,
        run.request.spec.repo,
        run.commit,
        asyncio.Semaphore(run.request.jobs),
        run.progress.advance,
    )
    files_at_once = asyncio.Semaphore(run.request.jobs)
    outcomes = await asyncio.gather(
        *(_fetch_group(run, source, group, files_at_once) for group in todo),
        return_exceptions=True,
    )
    errors = {g[0].path: e for g, e in zip(todo, outcomes, strict=True) if e is not None}
    unexpected = [e for e in errors.values() if not isinstance(e, HubMirrorError)]
    if unexpected:
        raise unexpected[0]
    if errors:
        raise DownloadFailed(errors)
    return sum(len(g) for g in todo)


async def _fetch_group(
    run: FileRun, source: FileSource, group: list[RemoteFile], files_at_once: asyncio.Semaphore
) -> None:
    """One blob: resume or start, fetch, verify, publish under every path that has it."""
    remote = group[0]
    async with files_at_once:
        partial = PartialFile(run.target.partial_path(remote), remote.entry.size, remote.entry.etag)
        partial.open(run.request.jobs)
        try:
            run.progress.advance(partial.present)
            served_by = await fetch_file(source, remote.path, partial)
            await asyncio.to_thread(check_file, partial.path, remote, served_by)
        except IntegrityError as exc:
            partial.discard()
            run.progress.note(str(exc))
            raise
        finally:
            partial.close()
        partial.done()
        run.target.publish(group, partial.path)
    for _ in group:
        run.progress.file_done()
