"""Each fake repo as a real bare git repository on disk, for `git http-backend` to serve.

The repos stay plain data (repos.py); a bare repo is written from them on demand, with the
object files written directly (zlib of "kind len\\0body" at objects/xx/rest) so nothing but the
`git` binary is needed. Objects only ever get added; the refs are rewritten whenever the
repo's refs differ from those last written (a moved branch, a reset), so a `git pull` after
`move_branch` sees the new commit. LFS files appear as their pointer blobs, as on the Hub.
"""

import os
import threading
import zlib
from pathlib import Path

from tests.fakehub.gitobjects import commit_body, git_object_oid, lfs_pointer, tree_body
from tests.fakehub.repos import Commit, Repo

TYPE_DIRS = {"model": "models", "dataset": "datasets", "space": "spaces"}
CONFIG = "[core]\n\trepositoryformatversion = 0\n\tbare = true\n"


def repo_refs(repo: Repo) -> dict[str, str]:
    """Every ref the Hub's git endpoint advertises for the repo, full name -> commit id."""
    refs = {f"refs/heads/{name}": sha for name, sha in repo.branches.items()}
    refs.update({f"refs/tags/{name}": sha for name, sha in repo.git_tags.items()})
    refs.update({f"refs/pr/{number}": sha for number, sha in repo.pull_requests.items()})
    refs.update({f"refs/convert/{name}": sha for name, sha in repo.converts.items()})
    return refs


class GitRepos:
    """Bare repos under `root` (the GIT_PROJECT_ROOT): `{models|datasets|spaces}/{id}.git`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._written: dict[Path, set[str]] = {}  # objects already on disk, per repo
        self._refs: dict[Path, dict[str, str]] = {}  # refs last written, per repo

    @staticmethod
    def relative_path(repo: Repo) -> str:
        """The repo's path below the project root, as PATH_INFO names it."""
        return f"{TYPE_DIRS[repo.repo_type]}/{repo.repo_id}.git"

    def materialize(self, repo: Repo) -> Path:
        """The bare repo of `repo` with its current refs (written or brought up to date)."""
        path = self.root / self.relative_path(repo)
        with self._lock:
            refs = repo_refs(repo)
            if self._refs.get(path) != refs:
                written = self._written.setdefault(path, set())
                if not written:
                    _init_bare(path)
                for sha in sorted(set(refs.values())):
                    for commit in repo.history(sha):
                        _write_commit(path, commit, written)
                _write_refs(path, refs, self._refs.get(path, {}))
                self._refs[path] = refs
        return path


def _init_bare(path: Path) -> None:
    for folder in ("objects/info", "objects/pack", "refs/heads", "refs/tags"):
        (path / folder).mkdir(parents=True, exist_ok=True)
    (path / "config").write_text(CONFIG)
    (path / "HEAD").write_text("ref: refs/heads/main\n")


def _write_commit(path: Path, commit: Commit, written: set[str]) -> None:
    """The commit, its trees and its blobs (LFS files as pointers), skipping known objects."""
    if commit.sha in written:
        return
    folders: dict[str, dict[str, tuple[bool, str]]] = {folder: {} for folder in commit.dir_oids}
    for file_path, blob in commit.files.items():
        parent, _, name = file_path.rpartition("/")
        folders[parent][name] = (False, blob.oid)
        if blob.oid not in written:
            data = lfs_pointer(blob.sha256, blob.size) if blob.lfs else blob.read()
            _write_object(path, "blob", data, written)
    for folder, oid in commit.dir_oids.items():
        if folder:
            parent, _, name = folder.rpartition("/")
            folders[parent][name] = (True, oid)
    for folder, children in folders.items():
        if commit.dir_oids[folder] not in written:
            entries = [(name, is_dir, oid) for name, (is_dir, oid) in children.items()]
            _write_object(path, "tree", tree_body(entries), written)
    body = commit_body(commit.dir_oids[""], commit.parent, commit.message, commit.date)
    oid = _write_object(path, "commit", body, written)
    if oid != commit.sha:
        raise AssertionError(f"commit {commit.sha} wrote as git object {oid}")


def _write_object(path: Path, kind: str, body: bytes, written: set[str]) -> str:
    oid = git_object_oid(kind, body)
    if oid not in written:
        target = path / "objects" / oid[:2] / oid[2:]
        target.parent.mkdir(exist_ok=True)
        raw = b"%s %d\0" % (kind.encode(), len(body)) + body
        _atomic_write(target, zlib.compress(raw))
        written.add(oid)
    return oid


def _write_refs(path: Path, refs: dict[str, str], previous: dict[str, str]) -> None:
    for name in previous.keys() - refs.keys():
        (path / name).unlink(missing_ok=True)
    for name, sha in refs.items():
        if previous.get(name) != sha:
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(path / name, f"{sha}\n".encode())


def _atomic_write(target: Path, data: bytes) -> None:
    """Write beside and rename, so a concurrent upload-pack never reads half a file."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
    temporary.write_bytes(data)
    temporary.replace(target)
