"""Value objects of the Hub's vocabulary, validated where they are made.

Every string that reaches the mirror from a URL passes through one of these
constructors before it touches the index, the store or an upstream URL, so that
odd repo ids, ``..`` or a NUL byte are refused in one place with a clear message.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from hubmirror.errors import InvalidInput

_REPO_PART = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?$|^[A-Za-z0-9]$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_MAX_PATH = 4096
_MAX_REVISION = 256


class RepoType(enum.Enum):
    """The repo kinds a mirror serves, with their two URL spellings."""

    MODEL = "model"
    DATASET = "dataset"
    SPACE = "space"

    @property
    def url_prefix(self) -> str:
        """Prefix of file URLs: ``""`` for models, ``datasets/`` for datasets."""
        return "" if self is RepoType.MODEL else f"{self.value}s/"

    @property
    def plural(self) -> str:
        """Segment under ``/api/``: ``models``, ``datasets``, ``spaces``."""
        return f"{self.value}s"

    @classmethod
    def from_plural(cls, plural: str) -> RepoType:
        for repo_type in cls:
            if repo_type.plural == plural:
                return repo_type
        raise InvalidInput(f"Unknown repo type '{plural}'")


@dataclass(frozen=True, slots=True, eq=False)
class RepoId:
    """``namespace/name`` (or a legacy single ``name``) of one repo of one type.

    The Hub matches repo ids without case (``ACME/Bert`` is ``acme/bert``), so the mirror
    does too: ids that differ only in case are equal, and ``canonical`` is the identity
    every access decision, cache key and record uses. ``name`` keeps the caller's
    spelling, for upstream URLs and messages.
    """

    repo_type: RepoType
    name: str

    def __post_init__(self) -> None:
        parts = self.name.split("/")
        if len(parts) > 2 or not all(_REPO_PART.match(p) for p in parts):
            raise InvalidInput(f"Invalid repo id '{_shorten(self.name)}'")
        if any(".." in p or p.endswith(".git") for p in parts):
            raise InvalidInput(f"Invalid repo id '{_shorten(self.name)}'")

    @property
    def canonical(self) -> str:
        """The name as the repo's identity: lower case (repo ids are ASCII)."""
        return self.name.lower()

    @property
    def key(self) -> str:
        """A stable string for maps and log lines: ``model:acme/bert``, in any spelling."""
        return f"{self.repo_type.value}:{self.canonical}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RepoId):
            return NotImplemented
        return self.repo_type is other.repo_type and self.canonical == other.canonical

    def __hash__(self) -> int:
        return hash((self.repo_type, self.canonical))

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Revision:
    """What a caller asked for: a branch, tag, ``refs/pr/N``, ``refs/convert/x`` or a sha."""

    value: str

    def __post_init__(self) -> None:
        v = self.value
        bad = (
            not v
            or len(v) > _MAX_REVISION
            or v.startswith("/")
            or v.endswith("/")
            or "//" in v
            or ".." in v
            or any(part in ("..", ".") for part in v.split("/"))
            or any(ord(c) < 0x20 or c in "\\~^:?*[" for c in v)
        )
        if bad:
            raise InvalidInput(f"Invalid revision '{_shorten(v)}'")

    @property
    def looks_like_commit(self) -> bool:
        """Spelled like a full sha. Only a candidate: a branch may be named with 40 hex
        characters, so a revision is a commit only once upstream has said so."""
        return bool(_COMMIT.match(self.value))

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class RepoPath:
    """A file or folder path inside a repo, as the tree lists it (no leading slash)."""

    value: str

    def __post_init__(self) -> None:
        v = self.value
        parts = v.split("/")
        bad = (
            len(v) > _MAX_PATH
            or v.startswith("/")
            or any(p in ("", ".", "..") for p in parts)
            or any(ord(c) < 0x20 for c in v)
        )
        if bad and v != "":
            raise InvalidInput(f"Invalid path '{_shorten(v)}'")

    def __str__(self) -> str:
        return self.value


def check_commit(value: str) -> str:
    """Return ``value`` if it is a 40-hex commit sha; upstream answers must be."""
    if not isinstance(value, str) or not _COMMIT.match(value):
        raise ValueError(f"not a commit sha: {value!r}")
    return value


def is_digest(value: str) -> bool:
    return bool(_DIGEST.match(value))


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file of one commit: what ``X-Repo-Commit``/``ETag``/size headers describe.

    ``etag`` is the Hub's blob id: the git blob sha1 of a regular file, the sha256
    of an LFS file. ``sha256`` is known up front for LFS files and after the first
    verified fill for regular ones.
    """

    path: str
    size: int
    etag: str
    lfs: bool
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file asked for: which repo, at which revision, which path."""

    repo: RepoId
    revision: Revision
    path: RepoPath


def _shorten(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[:limit] + "…"
