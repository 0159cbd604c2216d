"""The huggingface_hub cache layout, read and written.

``HF_HUB_CACHE`` (default ``~/.cache/huggingface/hub``) holds one folder per repo::

    models--acme--bert/
      blobs/<blob id>                  the bytes; named by sha256 (LFS) or git blob sha1
      snapshots/<commit>/<path>        relative symlinks into blobs/
      refs/<revision>                  the commit a branch or tag pointed at
      trees/<commit>.json              the complete file listing (huggingface_hub >= 2.x)
      .no_exist/<commit>/<path>        empty markers: upstream said this file does not exist

The mirror reads it (``import-hf-cache``) and writes it (``export --format hf-cache``,
``hubmirror download``), so a machine can run with ``HF_HUB_OFFLINE=1``. Writers
publish every file by rename, so a reader never sees a half-written blob.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from hubmirror.errors import InvalidInput
from hubmirror.types import FileEntry, RepoId, RepoPath, RepoType

TREE_FORMAT_VERSION = 1
_BLOB_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_FOLDER_KINDS = {"models": RepoType.MODEL, "datasets": RepoType.DATASET, "spaces": RepoType.SPACE}


def default_cache_dir() -> Path:
    """Where huggingface_hub keeps its cache, from the same variables it reads."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface"
    )
    return Path(home).expanduser() / "hub"


def repo_folder_name(repo: RepoId) -> str:
    """``models--acme--bert``: the folder huggingface_hub keeps one repo in."""
    return "--".join([repo.repo_type.plural, *repo.name.split("/")])


def parse_repo_folder_name(name: str) -> RepoId | None:
    """The repo a cache folder holds, or ``None`` for anything else (locks, xet, ...)."""
    kind, _, rest = name.partition("--")
    if kind not in _FOLDER_KINDS or not rest:
        return None
    try:
        return RepoId(_FOLDER_KINDS[kind], rest.replace("--", "/"))
    except InvalidInput:
        return None


def blob_id(entry: FileEntry) -> str:
    """The name huggingface_hub gives a file's blob: its ETag (sha256 or git sha1)."""
    return entry.etag


def is_file_path(path: str) -> bool:
    """A repo file path that stays below the folder it is written into."""
    try:
        RepoPath(path)
    except InvalidInput:
        return False
    return bool(path)


def is_blob_id(name: str) -> bool:
    """A blob name that says how to check its bytes: a sha256 (LFS) or a git blob sha1."""
    return bool(_BLOB_ID.fullmatch(name))


# reading ----------------------------------------------------------------------
@dataclass
class CachedSnapshot:
    commit: str
    files: dict[str, Path] = field(default_factory=dict)  # repo path -> blob file
    blob_ids: dict[str, str] = field(default_factory=dict)  # repo path -> blob name, if linked
    tree: dict[str, dict] | None = None  # trees/<commit>.json "files", when present
    missing: list[str] = field(default_factory=list)  # .no_exist markers
    broken: list[str] = field(default_factory=list)  # symlinks whose blob is gone


@dataclass
class CachedRepo:
    repo: RepoId
    folder: Path
    refs: dict[str, str] = field(default_factory=dict)
    ref_times: dict[str, float] = field(default_factory=dict)  # when each ref was written
    snapshots: dict[str, CachedSnapshot] = field(default_factory=dict)


def scan_cache(root: Path) -> list[CachedRepo]:
    """Every repo in a huggingface_hub cache, with what each snapshot holds."""
    repos = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        repo = parse_repo_folder_name(folder.name)
        if repo is not None and folder.is_dir():
            repos.append(scan_repo_folder(repo, folder))
    return repos


def scan_repo_folder(repo: RepoId, folder: Path) -> CachedRepo:
    refs, ref_times = _read_refs(folder / "refs")
    cached = CachedRepo(repo, folder, refs=refs, ref_times=ref_times)
    commits = set(_names(folder / "snapshots")) | set(_names(folder / ".no_exist"))
    commits |= {p.stem for p in _paths(folder / "trees") if p.suffix == ".json"}
    for commit in sorted(c for c in commits if _COMMIT.fullmatch(c)):
        cached.snapshots[commit] = _scan_snapshot(folder, commit)
    return cached


def _scan_snapshot(folder: Path, commit: str) -> CachedSnapshot:
    snapshot = CachedSnapshot(commit, tree=_read_tree(folder / "trees" / f"{commit}.json"))
    base = folder / "snapshots" / commit
    blobs = (folder / "blobs").resolve()
    for path in _walk_files(base):
        relative = path.relative_to(base).as_posix()
        target = path.resolve()
        if not target.is_file():
            snapshot.broken.append(relative)
            continue
        snapshot.files[relative] = target
        if target.parent == blobs and is_blob_id(target.name):
            snapshot.blob_ids[relative] = target.name
    missing_base = folder / ".no_exist" / commit
    snapshot.missing = sorted(
        p.relative_to(missing_base).as_posix() for p in _walk_files(missing_base)
    )
    return snapshot


def _read_refs(refs: Path) -> tuple[dict[str, str], dict[str, float]]:
    """Revision → commit, and when the client last wrote each (what it knew then)."""
    found, times = {}, {}
    for path in _walk_files(refs):
        commit = path.read_text().strip()
        if len(commit) == 40:
            name = path.relative_to(refs).as_posix()
            found[name], times[name] = commit, path.stat().st_mtime
    return found, times


def _read_tree(path: Path) -> dict[str, dict] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format_version") != TREE_FORMAT_VERSION:
        return None
    files = data.get("files")
    return files if isinstance(files, dict) else None


def _walk_files(base: Path) -> list[Path]:
    """Files and symlinks below ``base`` (symlinks not followed into folders)."""
    found = []
    for dirpath, _dirs, files in os.walk(base):
        found.extend(Path(dirpath) / name for name in files)
    return sorted(found)


def _names(folder: Path) -> list[str]:
    return [p.name for p in _paths(folder)]


def _paths(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.is_dir() else []


# writing ----------------------------------------------------------------------
class CacheWriter:
    """Writes one repo into a huggingface_hub cache; hard links blobs where it can."""

    def __init__(self, root: Path, repo: RepoId) -> None:
        self.folder = root / repo_folder_name(repo)

    def blob_path(self, blob: str) -> Path:
        return self.folder / "blobs" / blob

    def put_blob(self, blob: str, source: Path) -> bool:
        """Place ``source``'s bytes as ``blobs/<blob>``; True if they were hard-linked."""
        target = self.blob_path(blob)
        if target.is_file() and target.stat().st_size == source.stat().st_size:
            return False
        return place_file(source, target)

    def link(self, commit: str, path: str, blob: str) -> None:
        """``snapshots/<commit>/<path>`` → ``../../blobs/<blob>``, a relative symlink."""
        pointer = self.folder / "snapshots" / commit / path
        pointer.parent.mkdir(parents=True, exist_ok=True)
        relative = os.path.relpath(self.blob_path(blob), pointer.parent)
        temp = pointer.with_name(f".{pointer.name}.tmp-{os.getpid()}")
        temp.unlink(missing_ok=True)
        os.symlink(relative, temp)
        os.replace(temp, pointer)

    def ref(self, revision: str, commit: str) -> None:
        _write_text(self.folder / "refs" / revision, commit)

    def tree(self, commit: str, files: dict[str, dict]) -> None:
        """``trees/<commit>.json``: tells huggingface_hub the snapshot is complete."""
        body = {"format_version": TREE_FORMAT_VERSION, "files": dict(sorted(files.items()))}
        _write_text(self.folder / "trees" / f"{commit}.json", json.dumps(body, indent=1))

    def missing(self, commit: str, path: str) -> None:
        _write_text(self.folder / ".no_exist" / commit / path, "")


def tree_file_info(entry: FileEntry, oid: str | None = None) -> dict:
    """One ``trees/<commit>.json`` item; ``oid`` is the tree's git id of the file."""
    info: dict = {"size": entry.size, "blob_id": oid or entry.etag}
    if entry.lfs and entry.sha256:
        info["lfs_sha256"] = entry.sha256
        info["lfs_size"] = entry.size
    return info


def place_file(source: Path, target: Path) -> bool:
    """Hard-link ``source`` at ``target`` (same filesystem) or copy it; True if linked.

    Either way the file appears by rename, complete.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    temp.unlink(missing_ok=True)
    try:
        os.link(source, temp)
        linked = True
    except OSError:
        shutil.copyfile(source, temp)
        linked = False
    os.replace(temp, target)
    return linked


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temp.write_text(text)
    os.replace(temp, path)
