"""``REPO[@REV]`` arguments and ``--include``/``--exclude`` globs, as the commands take them.

``acme/bert``, ``acme/bert@v1.0``, ``dataset:acme/squad``, ``datasets/acme/squad@main``
and ``hf://datasets/acme/squad@refs/pr/1`` all name a repo and a revision. File
filtering follows huggingface_hub's ``allow_patterns``/``ignore_patterns``: fnmatch
over repo paths, and a pattern ending in ``/`` means everything below that folder.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hubmirror.errors import InvalidInput
from hubmirror.types import RepoId, RepoType, Revision

DEFAULT_REVISION = "main"
_PREFIXES = {
    **{f"{t.value}:": t for t in RepoType},
    **{f"{t.plural}/": t for t in RepoType if t is not RepoType.MODEL},
}


@dataclass(frozen=True, slots=True)
class RepoSpec:
    """One repo at one revision, as named on a command line or in a sync list."""

    repo: RepoId
    revision: Revision

    def __str__(self) -> str:
        kind = "" if self.repo.repo_type is RepoType.MODEL else f"{self.repo.repo_type.value}:"
        return f"{kind}{self.repo.name}@{self.revision.value}"


def parse_repo_spec(
    text: str, repo_type: RepoType | None = None, revision: str | None = None
) -> RepoSpec:
    """``[type:]namespace/name[@revision]``; ``repo_type``/``revision`` are the defaults."""
    rest = text.strip().removeprefix("hf://")
    kind = repo_type or RepoType.MODEL
    for prefix, prefixed_type in _PREFIXES.items():
        if rest.startswith(prefix):
            kind, rest = prefixed_type, rest[len(prefix) :]
            break
    name, at, rev = rest.partition("@")
    if at and not rev:
        raise InvalidInput(f"'{text}': nothing after '@' (write REPO@REVISION)")
    return RepoSpec(RepoId(kind, name), Revision(rev or revision or DEFAULT_REVISION))


@dataclass(frozen=True, slots=True)
class FileFilter:
    """Which repo paths an operation covers: all, or those the globs select."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def matches(self, path: str) -> bool:
        if self.include and not _any_match(path, self.include):
            return False
        return not _any_match(path, self.exclude)

    def select(self, paths: Iterable[str]) -> list[str]:
        return [p for p in paths if self.matches(p)]


def _any_match(path: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatch(path, _folder_pattern(p)) for p in patterns)


def _folder_pattern(pattern: str) -> str:
    return pattern + "*" if pattern.endswith("/") else pattern
