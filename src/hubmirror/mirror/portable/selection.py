"""What the store holds of ``REPO@REV``: the commit, its files and their blobs.

Export (bundles, hf-cache, plain files) works from the store alone, never from
upstream: it carries what the mirror verified. A revision is resolved with what
the index last heard; a complete file listing is the one a sync or an import
recorded, else the one the answers a ``snapshot_download`` got make up
(``answered_listing``); ``require_complete`` says so when there is neither.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from hubmirror.hub import payloads
from hubmirror.hub.specs import DEFAULT_REVISION, FileFilter, RepoSpec
from hubmirror.index.queries import Index, Snapshot, StoredBlob
from hubmirror.mirror.portable.answered_listing import answered_listing
from hubmirror.types import FileEntry, RepoId, Revision


class SelectionError(Exception):
    """A ``REPO@REV`` the store cannot provide; the message says what to do."""


@dataclass(frozen=True, slots=True)
class LocalFile:
    entry: FileEntry
    blob: StoredBlob | None  # None: listed, but its bytes are not in the store
    oid: str  # the tree's git id of the file (an LFS file's pointer), for hf-cache trees


@dataclass(frozen=True, slots=True)
class LocalSnapshot:
    spec: RepoSpec
    commit: str
    snapshot: Snapshot | None  # the complete listing: synced, imported or answered
    files: tuple[LocalFile, ...]  # those the filter selected

    @property
    def missing(self) -> list[LocalFile]:
        return [f for f in self.files if f.blob is None]

    def require_complete(self) -> None:
        """Raise unless the listing is complete and every selected file is stored."""
        if self.snapshot is None:
            raise SelectionError(
                f"{self.spec}: the mirror has no complete file list of commit {self.commit}; "
                f"run 'hubmirror sync {self.spec}' first"
            )
        if self.missing:
            sample = ", ".join(f.entry.path for f in self.missing[:3])
            raise SelectionError(
                f"{self.spec}: {len(self.missing)} file(s) not in the store ({sample}); "
                f"run 'hubmirror sync {self.spec}' first"
            )


def local_snapshot(
    index: Index, spec: RepoSpec, file_filter: FileFilter | None = None
) -> LocalSnapshot:
    """The commit ``spec`` names in the index, and its selected files with their blobs."""
    commit = _commit_of(index, spec)
    snapshot = index.get_snapshot(spec.repo, commit) or answered_listing(index, spec.repo, commit)
    if snapshot is not None:
        items = json.loads(snapshot.tree)
        entries = payloads.entries_from_listing(items)
        oids = {i["path"]: i.get("oid") for i in items if isinstance(i, dict) and "path" in i}
    else:
        entries, oids = index.entries_at(spec.repo, commit), {}
    selected = file_filter or FileFilter()
    files = tuple(
        LocalFile(e, index.blob_for(e), oids.get(e.path) or e.etag)
        for e in sorted(entries, key=lambda e: e.path)
        if selected.matches(e.path)
    )
    return LocalSnapshot(spec, commit, snapshot, files)


def held_revisions(
    index: Index, repo: RepoId, file_filter: FileFilter | None = None
) -> tuple[list[LocalSnapshot], list[str]]:
    """Every revision of ``repo`` the store holds complete, and why each other one is not.

    What ``export REPO`` without ``@REV`` takes: the mirror may hold ``main`` and a tag,
    or only the commit a client pinned, and a bundle should carry all it can serve. A
    commit is taken once, under its first name: ``main``, then branches and tags, then
    bare commits. ``SelectionError`` when none is complete.
    """
    known = index.revisions_of(repo)
    names = sorted(known, key=lambda n: (n != DEFAULT_REVISION, Revision(n).looks_like_commit, n))
    complete, left_out, seen = [], [], set()
    for name in names:
        if known[name] in seen:
            continue
        seen.add(known[name])
        snapshot = local_snapshot(index, RepoSpec(repo, Revision(name)), file_filter)
        try:
            snapshot.require_complete()
        except SelectionError as exc:
            left_out.append(str(exc))
            continue
        complete.append(snapshot)
    if left_out and not complete:
        raise SelectionError(left_out[0])
    if not known:  # raises: never fetched, sync REPO@main first
        local_snapshot(index, RepoSpec(repo, Revision(DEFAULT_REVISION)), file_filter)
    return complete, left_out


def _commit_of(index: Index, spec: RepoSpec) -> str:
    if spec.revision.looks_like_commit and index.names_commit(spec.repo, spec.revision.value):
        return spec.revision.value
    known = index.get_commit(spec.repo, spec.revision.value)
    if known is None:
        raise SelectionError(
            f"{spec}: this mirror never fetched revision {spec.revision}; "
            f"run 'hubmirror sync {spec}' first"
        )
    return known.commit
