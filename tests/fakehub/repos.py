"""Repos as data: commits holding path -> Blob maps, and the refs that point at them.

Commits are immutable; a repo changes only by adding a commit and moving a ref, so the
server thread can keep reading while a test moves a branch.
"""

import copy
import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from tests.fakehub.blobs import Blob
from tests.fakehub.gitobjects import commit_sha, tree_oid

REPO_TYPES = ("model", "dataset", "space")
LFS_SUFFIXES = (".safetensors", ".bin", ".parquet", ".arrow", ".pt", ".onnx", ".h5", ".zip")
GITATTRIBUTES = "".join(f"*{s} filter=lfs diff=lfs merge=lfs -text\n" for s in LFS_SUFFIXES)
FIRST_COMMIT_DATE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
SHA_RE = re.compile(r"^[0-9a-f]{40}$")


def make_blob(path: str, data: bytes) -> Blob:
    """Store a file the way our .gitattributes says: LFS for weights and data, git otherwise."""
    return Blob.lfs_bytes(data) if path.endswith(LFS_SUFFIXES) else Blob.regular(data)


@dataclass(frozen=True)
class Entry:
    """One tree-listing row: a file (with its blob) or a directory (blob is None)."""

    path: str
    oid: str
    blob: Blob | None = None

    @property
    def is_dir(self) -> bool:
        return self.blob is None


@dataclass(frozen=True)
class Commit:
    sha: str
    parent: str | None
    title: str
    message: str
    date: str
    files: Mapping[str, Blob]

    @cached_property
    def dir_oids(self) -> dict[str, str]:
        """Tree oid of every directory, "" being the root."""
        return _directory_oids(self.files)

    @cached_property
    def entries(self) -> list[Entry]:
        """Every file and directory below the root, sorted by path."""
        rows = [Entry(p, blob.oid, blob) for p, blob in self.files.items()]
        rows += [Entry(d, oid) for d, oid in self.dir_oids.items() if d]
        return sorted(rows, key=lambda entry: entry.path)

    def entry(self, path: str) -> Entry | None:
        if path in self.files:
            return Entry(path, self.files[path].oid, self.files[path])
        if path and path in self.dir_oids:
            return Entry(path, self.dir_oids[path])
        return None

    def listing(self, folder: str, recursive: bool) -> list[Entry] | None:
        """Entries below `folder` ("" = root), or None when it is not a directory."""
        if folder not in self.dir_oids:
            return None
        prefix = folder + "/" if folder else ""
        below = [e for e in self.entries if e.path.startswith(prefix)]
        if recursive:
            return below
        return [e for e in below if "/" not in e.path[len(prefix) :]]

    def oid_of(self, path: str) -> str | None:
        found = self.entry(path)
        return found.oid if found else None


def _directory_oids(files: Mapping[str, Blob]) -> dict[str, str]:
    """Git tree oids bottom-up: each directory hashes its children's names and oids."""
    children: dict[str, dict[str, tuple[bool, str]]] = {"": {}}
    for path in files:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            children.setdefault("/".join(parts[:depth]), {})
    for path, blob in files.items():
        parent, _, name = path.rpartition("/")
        children[parent][name] = (False, blob.oid)
    oids: dict[str, str] = {}
    for folder in sorted(children, key=lambda d: d.count("/") if d else -1, reverse=True):
        oids[folder] = tree_oid([(n, is_dir, oid) for n, (is_dir, oid) in children[folder].items()])
        if folder:
            parent, _, name = folder.rpartition("/")
            children[parent][name] = (True, oids[folder])
    return oids


@dataclass
class Repo:
    """A repo on the fake Hub: metadata for repo info, commits, and refs of every kind."""

    repo_type: str
    repo_id: str
    private: bool = False
    gated: bool | str = False
    access_withdrawn: bool = False  # gated: the owner's access was withdrawn too
    card_data: dict | None = None
    library_name: str | None = None
    pipeline_tag: str | None = None
    tags: list[str] = field(default_factory=list)
    extra_info: dict = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    git_tags: dict[str, str] = field(default_factory=dict)
    converts: dict[str, str] = field(default_factory=dict)
    pull_requests: dict[int, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.repo_type, self.repo_id)

    @property
    def object_id(self) -> str:
        """The 24-hex `_id` of repo info, stable per repo."""
        return hashlib.sha1(f"{self.repo_type}/{self.repo_id}".encode()).hexdigest()[:24]

    def add_commit(
        self, parent: str | None, changes: Mapping[str, Blob | None], title: str
    ) -> Commit:
        """Record a commit on top of `parent` with files added, replaced or (None) removed."""
        base = self.commits[parent] if parent else None
        files = dict(base.files) if base else {}
        for path, blob in changes.items():
            if blob is None:
                files.pop(path, None)
            else:
                files[path] = blob
        files = dict(sorted(files.items()))
        date = _next_date(base.date if base else None)
        root = _directory_oids(files)[""]
        message = f"{title}\n"
        sha = commit_sha(root, parent, message, date)
        commit = Commit(sha, parent, title, message, date, files)
        self.commits[sha] = commit
        return commit

    def resolve(self, revision: str) -> Commit | None:
        """The commit a branch, tag, refs/... name or full sha points at."""
        sha = self._ref_target(revision)
        return self.commits.get(sha) if sha else None

    def _ref_target(self, revision: str) -> str | None:
        if SHA_RE.match(revision) and revision in self.commits:
            return revision
        for prefix, table in (("refs/heads/", self.branches), ("refs/tags/", self.git_tags)):
            name = revision.removeprefix(prefix)
            if name in table:
                return table[name]
        if revision.startswith("refs/convert/"):
            return self.converts.get(revision.removeprefix("refs/convert/"))
        number = revision.removeprefix("refs/pr/")
        if revision.startswith("refs/pr/") and number.isdigit():
            return self.pull_requests.get(int(number))
        return None

    def history(self, sha: str) -> list[Commit]:
        """The commit and its ancestors, newest first."""
        chain = []
        while sha:
            chain.append(self.commits[sha])
            sha = self.commits[sha].parent
        return chain

    def last_change(self, sha: str, path: str) -> Commit:
        """The newest commit in the history of `sha` that changed `path`."""
        chain = self.history(sha)
        for commit, parent in zip(chain, chain[1:] + [None], strict=True):
            if parent is None or parent.oid_of(path) != commit.oid_of(path):
                return commit
        return chain[-1]

    def copy(self) -> "Repo":
        """A copy whose refs can move without touching this one (commits are shared)."""
        clone = copy.copy(self)
        for name in ("commits", "branches", "git_tags", "converts", "pull_requests"):
            setattr(clone, name, dict(getattr(self, name)))
        return clone


def _next_date(previous: str | None) -> str:
    """Commit dates advance one hour per commit so the data set stays deterministic."""
    when = FIRST_COMMIT_DATE
    if previous:
        when = dt.datetime.fromisoformat(previous.replace("Z", "+00:00")) + dt.timedelta(hours=1)
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
