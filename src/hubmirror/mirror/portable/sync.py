"""``sync``: fill the store with whole snapshots ahead of time.

A sync asks upstream where the revision points now, records the commit's complete
listing (repo info and recursive tree: the mirror can then answer for it during
an outage), and fills every selected file that is not stored yet. Fills go through
the same ``Fills`` as client requests, so a sync and a running server on one data
directory still fetch each blob once; running it again fetches only what is missing.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from hubmirror.errors import HubMirrorError
from hubmirror.hub import payloads
from hubmirror.hub.routes import RepoApi
from hubmirror.hub.specs import FileFilter, RepoSpec
from hubmirror.mirror.fills.state import Fill, FillSource
from hubmirror.mirror.service import Mirror
from hubmirror.progress import NoProgress, Progress
from hubmirror.types import FileEntry, RepoPath, Revision

log = logging.getLogger(__name__)

_TREE_QUERY = [("recursive", "true"), ("expand", "false")]
MAX_TREE_PAGES = 10_000


class SyncState(enum.Enum):
    NEW = "new"  # never synced before
    UPDATED = "updated"  # the revision moved to another commit
    COMPLETED = "completed"  # same commit, files that were missing were fetched
    UNCHANGED = "unchanged"  # same commit, everything already stored
    FAILED = "failed"


@dataclass
class SyncResult:
    spec: RepoSpec
    state: SyncState = SyncState.FAILED
    commit: str | None = None
    previous: str | None = None
    files: int = 0
    fetched: int = 0
    fetched_bytes: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict:
        return {
            "repo": str(self.spec),
            "state": self.state.value,
            "commit": self.commit,
            "previous": self.previous,
            "files": self.files,
            "fetched": self.fetched,
            "fetched_bytes": self.fetched_bytes,
            "errors": self.errors,
        }

    @classmethod
    def from_json(cls, spec: RepoSpec, data: dict) -> SyncResult:
        fields = {k: data[k] for k in ("commit", "previous", "files", "fetched", "fetched_bytes")}
        return cls(spec, SyncState(data["state"]), errors=list(data["errors"]), **fields)


async def sync_snapshot(
    mirror: Mirror,
    spec: RepoSpec,
    file_filter: FileFilter | None = None,
    *,
    auth: str | None = None,
    jobs: int = 8,
    progress: Progress | None = None,
) -> SyncResult:
    """Sync one ``REPO@REV``; failures are collected in the result, not raised."""
    result = SyncResult(spec, previous=_synced_commit(mirror, spec))
    try:
        result.commit = await _record_listing(mirror, spec, auth)
        entries = _selected(mirror, spec, result.commit, file_filter or FileFilter())
        result.files = len(entries)
        await _fill_all(mirror, spec, result, entries, auth, jobs, progress or NoProgress())
    except HubMirrorError as exc:
        result.errors.append(f"{spec}: {exc}")
    result.state = _state(result)
    return result


def _synced_commit(mirror: Mirror, spec: RepoSpec) -> str | None:
    """The commit a previous sync recorded for this revision, if any."""
    commit = mirror.revisions.last_known_commit(spec.repo, spec.revision)
    return commit if commit and mirror.snapshots.has(spec.repo, commit) else None


async def _record_listing(mirror: Mirror, spec: RepoSpec, auth: str | None) -> str:
    """Ask where the revision points now and keep that commit's info and whole tree."""
    route = RepoApi(spec.repo, "revision", spec.revision)
    info = await mirror.api(route, [], None, auth, refresh=True)
    commit = payloads.commit_of_info(_json(info.body))
    if commit is None:
        raise HubMirrorError(f"upstream gave no commit for {spec}")
    mirror.revisions.remember(spec.repo, spec.revision, commit)
    if not mirror.snapshots.has(spec.repo, commit):
        items = await _whole_tree(mirror, spec, commit, auth)
        mirror.record_snapshot(spec.repo, commit, info.body, items)
    return commit


async def _whole_tree(mirror: Mirror, spec: RepoSpec, commit: str, auth: str | None) -> list:
    """Every item of the recursive tree at ``commit``, following ``Link`` pages."""
    route = RepoApi(spec.repo, "tree", Revision(commit), RepoPath(""))
    query, items = list(_TREE_QUERY), []
    for _ in range(MAX_TREE_PAGES):
        page = await mirror.api(route, query, None, auth)
        items.extend(_json(page.body) or [])
        if not page.link_next:
            return items
        query = parse_qsl(urlsplit(page.link_next).query)
    raise HubMirrorError(f"tree of {spec} has more than {MAX_TREE_PAGES} pages")


def _selected(mirror: Mirror, spec: RepoSpec, commit: str, file_filter: FileFilter):
    snapshot = mirror.index.get_snapshot(spec.repo, commit)
    entries = payloads.entries_from_listing(_json(snapshot.tree) if snapshot else [])
    return [e for e in entries if file_filter.matches(e.path)]


async def _fill_all(mirror, spec, result, entries, auth, jobs, progress) -> None:
    missing = [e for e in entries if not _stored(mirror, e)]
    progress.add_total(sum(e.size for e in missing), len(missing))
    if missing:
        progress.note(f"{spec}: fetching {len(missing)} of {len(entries)} file(s)")
    gate = asyncio.Semaphore(max(1, jobs))

    async def one(entry: FileEntry) -> None:
        async with gate:
            try:
                await _fill_one(mirror, FillSource(spec.repo, result.commit, entry, auth), progress)
            except Exception as exc:  # noqa: BLE001 - each file's failure is reported
                result.errors.append(f"{spec}: {entry.path}: {exc}")
                return
        result.fetched += 1
        result.fetched_bytes += entry.size

    await asyncio.gather(*(one(e) for e in missing))


def _stored(mirror: Mirror, entry: FileEntry) -> bool:
    blob = mirror.index.blob_for(entry)
    return blob is not None and mirror.store.has(blob.sha256)


async def _fill_one(mirror: Mirror, source: FillSource, progress: Progress) -> None:
    """Start (or join) the blob's fill and wait for its verified end, reporting bytes."""
    fill = mirror.fills.start(source)
    reported = 0
    while not fill.done:
        await fill.wait_progress()
        reported = _report(fill, reported, progress)
    if fill.error is not None:
        raise fill.error
    _report(fill, reported, progress)
    progress.file_done()


def _report(fill: Fill, reported: int, progress: Progress) -> int:
    written = fill.size if fill.blob else sum(s.position - s.start for s in fill.segments)
    if written > reported:
        progress.advance(written - reported)
    return max(written, reported)


def _state(result: SyncResult) -> SyncState:
    if result.errors:
        return SyncState.FAILED
    if result.previous is None:
        return SyncState.NEW
    if result.previous != result.commit:
        return SyncState.UPDATED
    return SyncState.COMPLETED if result.fetched else SyncState.UNCHANGED


def _json(body: bytes):
    try:
        return json.loads(body)
    except ValueError:
        return None
