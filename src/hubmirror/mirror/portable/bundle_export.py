"""``hubmirror export``: the selected snapshots, their blobs and the index rows that answer them.

Export works from the store alone, never from upstream: a bundle carries what this
mirror verified and exactly the answers it gives. Everything is decided first
(which snapshots, rows and blobs; whether every blob is really on disk), and only
then written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from hubmirror.errors import HubMirrorError
from hubmirror.hub import payloads
from hubmirror.hub.routes import RepoApi, parse_route, split_raw_path
from hubmirror.hub.specs import FileFilter, RepoSpec
from hubmirror.index.queries import ApiAnswer, Index, RepoRecord
from hubmirror.mirror.portable.bundle_manifest import CarriedRepo, Manifest, encode_manifest
from hubmirror.mirror.portable.selection import (
    LocalSnapshot,
    SelectionError,
    held_revisions,
    local_snapshot,
)
from hubmirror.progress import Progress, human_bytes
from hubmirror.storage.blobs import BlobStore
from hubmirror.storage.bundlefiles import (
    OutgoingBlob,
    checksum_text,
    is_tar_target,
    write_dir,
    write_tar,
)
from hubmirror.types import FileEntry, RepoId


@dataclass(frozen=True, slots=True)
class ExportSummary:
    target: Path
    repos: int
    files: int
    blobs: int
    nbytes: int
    manifest_sha256: str
    snapshots: tuple[str, ...] = ()  # REPO@REV (commit ...) of each snapshot carried

    def __str__(self) -> str:
        return "\n".join(
            [
                f"exported {self.repos} repo(s), {self.files} file(s), {self.blobs} blob(s), "
                f"{human_bytes(self.nbytes)} to {self.target}:",
                *(f"  {line}" for line in self.snapshots),
                f"manifest sha256 {self.manifest_sha256}",
            ]
        )


def complete_snapshots(
    index: Index, wanted: Iterable[RepoSpec | RepoId], file_filter: FileFilter
) -> tuple[list[LocalSnapshot], list[str]]:
    """Each ``REPO@REV`` as stored, refusing (``SelectionError``) any that is incomplete;
    a bare ``RepoId`` (``REPO`` without ``@REV``) is every revision of it held complete
    (``held_revisions``). Also returns why revisions of a bare repo were left out."""
    chosen: dict[tuple[str, str], LocalSnapshot] = {}
    left_out: list[str] = []
    for item in wanted:
        if isinstance(item, RepoId):
            held, why = held_revisions(index, item, file_filter)
            left_out += why
        else:
            held = [local_snapshot(index, item, file_filter)]
            held[0].require_complete()
        for snapshot in held:
            chosen.setdefault((snapshot.spec.repo.key, snapshot.commit), snapshot)
    return list(chosen.values()), left_out


def export_bundle(
    index: Index,
    store: BlobStore,
    snapshots: list[LocalSnapshot],
    target: Path,
    progress: Progress,
) -> ExportSummary:
    """Write a bundle directory, or an uncompressed tar when ``target`` ends in ``.tar``."""
    manifest = plan_bundle(index, snapshots, time.time())
    outgoing = [_outgoing(store, snapshots, b.sha256, b.size) for b in manifest.blobs]
    body = encode_manifest(manifest)
    progress.add_total(manifest.total_bytes, len(outgoing))
    write = write_tar if is_tar_target(target) else write_dir
    write(target, body, outgoing, progress)
    return ExportSummary(
        target,
        len(manifest.repos),
        manifest.file_count,
        len(manifest.blobs),
        manifest.total_bytes,
        checksum_text(body).split()[0],
        tuple(f"{s.spec} (commit {s.commit[:12]})" for s in snapshots),
    )


def plan_bundle(index: Index, snapshots: list[LocalSnapshot], now: float) -> Manifest:
    """What the bundle carries: per repo, the rows that answer the selected commits."""
    by_repo: dict[RepoId, list[LocalSnapshot]] = {}
    for snapshot in snapshots:
        by_repo.setdefault(snapshot.spec.repo, []).append(snapshot)
    repos = tuple(
        CarriedRepo(repo, limit_record(index.record_of(repo), chosen))
        for repo, chosen in by_repo.items()
    )
    blobs = {f.blob.sha256: f.blob for s in snapshots for f in s.files if f.blob is not None}
    return Manifest(
        created_at=now,
        selection=tuple(str(s.spec) for s in snapshots),
        repos=repos,
        blobs=tuple(blobs[digest] for digest in sorted(blobs)),
    )


def limit_record(record: RepoRecord, snapshots: list[LocalSnapshot]) -> RepoRecord:
    """The part of a repo's rows that concerns the selected commits and files.

    Revisions are kept when they point at a selected commit, answers when they are
    about one of those revisions or commits. The complete listing (snapshot) goes
    whole, so tree and paths-info stay exact; entries only for the selected files,
    whose bytes the bundle holds.
    """
    commits = {s.commit for s in snapshots}
    revisions = {r: c for r, c in record.revisions.items() if c in commits}
    names = commits | set(revisions)
    listings = {s.commit: s.snapshot for s in snapshots if s.snapshot is not None}
    return RepoRecord(
        visibility=record.visibility,
        revisions=revisions,
        snapshots=list(listings.values()),  # synced ones, or made up of a client's answers
        entries=_selected_entries(record, snapshots),
        missing={c: paths for c, paths in record.missing.items() if c in commits},
        answers={
            key: answer
            for key, answer in record.answers.items()
            if _answer_concerns(key, answer, names, commits)
        },
    )


def _selected_entries(record: RepoRecord, snapshots: list[LocalSnapshot]) -> dict:
    """Entries of the selected files: the index's row when it has one (it may know the
    sha256 of a regular file), else the one from the listing."""
    entries: dict[str, dict[str, FileEntry]] = {}
    for snapshot in snapshots:
        stored = {e.path: e for e in record.entries.get(snapshot.commit, [])}
        chosen = entries.setdefault(snapshot.commit, {})
        for file in snapshot.files:
            chosen[file.entry.path] = stored.get(file.entry.path, file.entry)
    return {commit: sorted(chosen.values(), key=_path) for commit, chosen in entries.items()}


def _path(entry: FileEntry) -> str:
    return entry.path


def _answer_concerns(key: str, answer: ApiAnswer, names: set[str], commits: set[str]) -> bool:
    """Whether a stored answer is about a selected revision or commit.

    ``key`` is the upstream path and query of the question (plus ``|form`` for POSTs).
    Repo info without a revision describes the default branch: kept when it names a
    selected commit.
    """
    try:
        route = parse_route(split_raw_path(key.partition("|")[0]))
    except HubMirrorError:
        return False
    if not isinstance(route, RepoApi):
        return False
    if route.revision is not None:
        return route.revision.value in names
    if route.action == "info":
        return payloads.commit_of_info(_json(answer.body)) in commits
    return False


def _json(body: bytes):
    try:
        return json.loads(body)
    except ValueError:
        return None


def _outgoing(
    store: BlobStore, snapshots: list[LocalSnapshot], digest: str, size: int
) -> OutgoingBlob:
    """The blob's file in the store, checked to be there whole before anything is written."""
    if store.size_of(digest) != size:
        spec, path = _first_user(
            snapshots, lambda f: f.blob is not None and f.blob.sha256 == digest
        )
        raise SelectionError(
            f"{spec}: the stored bytes of {path} are missing or damaged; "
            f"run 'hubmirror sync {spec}' first"
        )
    return OutgoingBlob(digest, store.path_for(digest), size)


def _first_user(snapshots: list[LocalSnapshot], wanted: Callable) -> tuple[RepoSpec, str]:
    for snapshot in snapshots:
        for file in snapshot.files:
            if wanted(file):
                return snapshot.spec, file.entry.path
    raise LookupError("blob of no selected file")
