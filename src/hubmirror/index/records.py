"""The values index queries return: commits, blobs, stored answers, snapshots, repo records."""

from __future__ import annotations

from dataclasses import dataclass

from hubmirror.types import FileEntry


@dataclass(frozen=True, slots=True)
class KnownCommit:
    commit: str
    fetched_at: float


@dataclass(frozen=True, slots=True)
class StoredBlob:
    sha256: str
    git_sha1: str
    size: int


@dataclass(frozen=True, slots=True)
class ApiAnswer:
    status: int
    body: bytes
    link_next: str | None
    fetched_at: float


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A commit's complete listing: repo info and recursive tree, both as rewritten JSON."""

    commit: str
    info: bytes
    tree: bytes
    fetched_at: float


@dataclass(frozen=True, slots=True)
class RepoRecord:
    """Everything the index knows of one repo, for bundles: carried whole between mirrors."""

    visibility: tuple[str, float] | None
    revisions: dict[str, str]  # revision -> commit
    snapshots: list[Snapshot]
    entries: dict[str, list[FileEntry]]  # commit -> entries
    missing: dict[str, list[str]]  # commit -> paths upstream confirmed absent
    answers: dict[str, ApiAnswer]  # API answer key -> answer
