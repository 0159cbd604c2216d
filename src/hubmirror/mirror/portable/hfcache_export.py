"""Export stored snapshots as a huggingface_hub cache or as plain files.

``hf-cache`` writes what ``snapshot_download`` would have left in ``HF_HUB_CACHE``
(blobs named by ETag, relative symlinks, ``refs/``, ``trees/<commit>.json``,
``.no_exist`` markers), so a machine can run with ``HF_HUB_OFFLINE=1`` and no
mirror. ``dir`` writes ``target/<path>`` for ``from_pretrained(path)`` and
``load_dataset(path)``.

The listing file is written whenever the mirror holds the commit's complete
listing, also when a filter or missing bytes leave files out: huggingface_hub
does the same after ``snapshot_download(allow_patterns=...)``, and then refuses an
unfiltered offline ``snapshot_download`` with ``IncompleteSnapshotError`` instead
of silently returning a partial folder. Without a complete listing no such file is
written, and the summary says that completeness cannot be checked.

Files are hard links to the store's blobs when the target is on its filesystem,
else copies. A hard link *is* the stored blob, so it is made read-only: writing
into it (``save_pretrained`` into an exported folder) would change the mirror's
verified bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from hubmirror.hub.specs import RepoSpec
from hubmirror.index.queries import Index
from hubmirror.mirror.portable.selection import (
    LocalFile,
    LocalSnapshot,
    SelectionError,
    local_snapshot,
)
from hubmirror.progress import NoProgress, Progress, human_bytes
from hubmirror.storage.blobs import BlobStore
from hubmirror.storage.hfcache import (
    CacheWriter,
    is_blob_id,
    is_file_path,
    place_file,
    tree_file_info,
)
from hubmirror.types import RepoType, Revision

LAYOUTS = ("hf-cache", "dir")
READ_ONLY = 0o444


@dataclass
class SnapshotExport:
    """What one ``REPO@REV`` became in the target."""

    spec: str
    commit: str
    where: Path
    files: int = 0
    bytes: int = 0
    linked: int = 0
    copied: int = 0
    present: int = 0  # already in the target with the right size
    not_stored: list[str] = field(default_factory=list)  # listed, but no bytes in the store
    unsafe: list[str] = field(default_factory=list)  # paths that would leave the target
    written: list[str] = field(default_factory=list)  # refs, listing, markers
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        head = (
            f"{self.spec} (commit {self.commit[:12]}) -> {self.where}: {self.files} file(s), "
            f"{human_bytes(self.bytes)} ({self.linked} hard-linked, {self.copied} copied, "
            f"{self.present} already there)"
        )
        lines = [head + (f"; {', '.join(self.written)}" if self.written else "")]
        if self.not_stored:
            sample = ", ".join(self.not_stored[:5]) + (", ..." if len(self.not_stored) > 5 else "")
            count = len(self.not_stored)
            lines.append(f"  {count} file(s) not in the store, not exported: {sample}")
        lines += [f"  skipped unsafe path: {path}" for path in self.unsafe]
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)


@dataclass
class ExportSummary:
    layout: str
    target: Path
    snapshots: list[SnapshotExport]
    blobs: int = 0  # distinct blobs the snapshots use: hf-cache keeps one file of each
    nbytes: int = 0  # their bytes, each counted once

    @property
    def complete(self) -> bool:
        """Every selected file was exported."""
        return not any(s.not_stored or s.unsafe for s in self.snapshots)

    def __str__(self) -> str:
        files = sum(s.files for s in self.snapshots)
        head = f"{self.layout} export to {self.target}: {len(self.snapshots)} snapshot(s), "
        if self.layout == "hf-cache":  # snapshots of one repo share its blobs/ folder
            head += f"{files} file(s), {self.blobs} blob(s), {human_bytes(self.nbytes)}"
        else:
            head += f"{files} file(s), {human_bytes(sum(s.bytes for s in self.snapshots))}"
        return "\n".join([head, *map(str, self.snapshots)])


def export_files(
    index: Index,
    store: BlobStore,
    snapshots: list[LocalSnapshot],
    target: Path,
    layout: str,
    progress: Progress | None = None,
) -> ExportSummary:
    """Write ``snapshots`` under ``target`` in ``layout`` (``hf-cache`` or ``dir``)."""
    if layout not in LAYOUTS:
        raise SelectionError(f"unknown export format {layout!r} (one of: {', '.join(LAYOUTS)})")
    progress = progress or NoProgress()
    stored = [f for s in snapshots for f in s.files if f.blob is not None]
    blobs = _distinct_blobs(snapshots)
    if layout == "dir":
        progress.add_total(sum(f.entry.size for f in stored), len(stored))
        roots = dir_roots(snapshots, target)
        done = [_export_dir(store, s, r, progress) for s, r in zip(snapshots, roots, strict=True)]
    else:
        progress.add_total(sum(blobs.values()), len(blobs))
        placed: set[tuple[str, str]] = set()
        done = [_export_hf_cache(index, store, s, target, progress, placed) for s in snapshots]
    return ExportSummary(layout, target, done, len(blobs), sum(blobs.values()))


def _distinct_blobs(snapshots: list[LocalSnapshot]) -> dict[tuple[str, str], int]:
    """(repo, blob name) -> size of every stored file: one cache file per blob and repo."""
    return {
        (s.spec.repo.key, f.entry.etag): f.entry.size
        for s in snapshots
        for f in s.files
        if f.blob is not None
    }


def dir_roots(snapshots: list[LocalSnapshot], target: Path) -> list[Path]:
    """One snapshot goes straight into ``target``; several into ``target/<repo_id>``."""
    if len(snapshots) == 1:
        return [target]
    names = [s.spec.repo.name for s in snapshots]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        taken = ", ".join(str(s.spec) for s in snapshots if s.spec.repo.name in clashes)
        raise SelectionError(
            f"{', '.join(clashes)}: more than one snapshot would go to the same folder "
            f"({taken}); export them one at a time, each as REPO@REV"
        )
    return [target / name for name in names]


# plain files ------------------------------------------------------------------
def _export_dir(
    store: BlobStore, snapshot: LocalSnapshot, root: Path, progress: Progress
) -> SnapshotExport:
    result = SnapshotExport(str(snapshot.spec), snapshot.commit, root)
    for file in _placeable(snapshot, result):
        _place(store, file, root / file.entry.path, result, named=False)
        progress.advance(file.entry.size)
        progress.file_done()
    if snapshot.spec.repo.repo_type is RepoType.DATASET:
        result.notes.append(f"load it with datasets.load_dataset({str(root)!r})")
    return result


def _placeable(
    snapshot: LocalSnapshot, result: SnapshotExport, named: bool = False
) -> list[LocalFile]:
    """The files with stored bytes and a path (and, ``named``, a blob name) that stays
    inside the target."""
    files = []
    for file in snapshot.files:
        if not is_file_path(file.entry.path) or (named and not is_blob_id(file.entry.etag)):
            result.unsafe.append(file.entry.path)
        elif file.blob is None:
            result.not_stored.append(file.entry.path)
        else:
            files.append(file)
    return files


def _place(
    store: BlobStore, file: LocalFile, destination: Path, result: SnapshotExport, *, named: bool
) -> None:
    """Link (read-only: it is the stored blob) or copy one blob to ``destination``."""
    assert file.blob is not None
    source = store.path_for(file.blob.sha256)
    result.files += 1
    result.bytes += file.entry.size
    if _already_there(source, destination, file.entry.size, named):
        result.present += 1
    elif place_file(source, destination):
        os.chmod(destination, READ_ONLY)
        result.linked += 1
    else:
        result.copied += 1


def _already_there(source: Path, destination: Path, size: int, named: bool) -> bool:
    """An earlier export's hard link, or (``named``: a cache blob is named by its
    content) a blob huggingface_hub downloaded whole and checked then."""
    try:
        if destination.stat().st_size != size:
            return False
        return named or os.path.samefile(source, destination)
    except OSError:
        return False


# huggingface_hub cache --------------------------------------------------------
def _export_hf_cache(
    index: Index,
    store: BlobStore,
    snapshot: LocalSnapshot,
    target: Path,
    progress: Progress,
    placed: set[tuple[str, str]],
) -> SnapshotExport:
    """One snapshot into the cache; ``placed``: the blobs this export already put there
    (another revision of the repo shares them), counted in the progress once."""
    repo, commit = snapshot.spec.repo, snapshot.commit
    writer = CacheWriter(target, repo)
    result = SnapshotExport(str(snapshot.spec), commit, writer.folder)
    for file in _placeable(snapshot, result, named=True):
        _place(store, file, writer.blob_path(file.entry.etag), result, named=True)
        writer.link(commit, file.entry.path, file.entry.etag)
        if (repo.key, file.entry.etag) not in placed:
            placed.add((repo.key, file.entry.etag))
            progress.advance(file.entry.size)
            progress.file_done()
    revision = snapshot.spec.revision
    if revision.value != commit:  # a branch or tag (40 hex characters too) gets its ref
        writer.ref(revision.value, commit)
        result.written.append(f"refs/{revision.value}")
    _write_listing(index, snapshot, writer, result)
    _write_missing(index, snapshot, writer, result)
    return result


def _write_listing(
    index: Index, snapshot: LocalSnapshot, writer: CacheWriter, result: SnapshotExport
) -> None:
    """``trees/<commit>.json`` from the complete listing, or a note why there is none."""
    if snapshot.snapshot is None:
        result.notes.append(
            "the mirror has no complete file list of this commit: trees/<commit>.json not "
            "written, so huggingface_hub cannot tell whether the snapshot is complete "
            f"(run 'hubmirror sync {snapshot.spec}' first)"
        )
        return
    whole = local_snapshot(index, _at_commit(snapshot))
    listing = {f.entry.path: tree_file_info(f.entry, f.oid) for f in whole.files}
    writer.tree(snapshot.commit, listing)
    result.written.append("trees/<commit>.json")
    left_out = len(whole.files) - result.files
    if left_out:
        result.notes.append(
            f"{left_out} file(s) of the listing are not exported: offline, snapshot_download "
            "needs allow_patterns that leave them out (else IncompleteSnapshotError)"
        )


def _at_commit(snapshot: LocalSnapshot) -> RepoSpec:
    return RepoSpec(snapshot.spec.repo, Revision(snapshot.commit))


def _write_missing(
    index: Index, snapshot: LocalSnapshot, writer: CacheWriter, result: SnapshotExport
) -> None:
    """``.no_exist`` markers: clients probing optional files stay offline-happy."""
    paths = index.missing_at(snapshot.spec.repo, snapshot.commit)
    safe = [p for p in paths if is_file_path(p)]
    for path in safe:
        writer.missing(snapshot.commit, path)
    if safe:
        result.written.append(f"{len(safe)} .no_exist marker(s)")
