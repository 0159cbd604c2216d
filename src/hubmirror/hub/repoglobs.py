"""Repo globs: ``TYPE:GLOB`` patterns naming sets of repos, for tokens and allow/deny lists.

``model:acme/*`` is every model of ``acme``, ``dataset:*`` every dataset, and a bare
``acme/tiny-*`` any repo type. The glob is fnmatch over ``namespace/name`` (``*``
also crosses the ``/``), compared without case: the Hub treats ``ACME/Bert`` and
``acme/bert`` as one repo, so a deny pattern must not be dodged by changing case.

Patterns are parsed when they are configured (``parse_repo_glob`` refuses bad ones
with a message saying what is wrong); ``matches`` is then cheap enough per request.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from hubmirror.errors import InvalidInput
from hubmirror.types import RepoId, RepoType

_GLOB_CHARS = re.compile(r"[A-Za-z0-9._\-/*?\[\]!]+")
_TYPES = {t.value: t for t in RepoType}
_SYNTAX = "write TYPE:GLOB such as model:acme/* or dataset:*, or a bare GLOB for any type"


@dataclass(frozen=True, slots=True)
class RepoGlob:
    """One parsed pattern: a repo type (``None`` = any) and a compiled, case-blind glob."""

    text: str
    repo_type: RepoType | None
    regex: re.Pattern[str]

    def matches(self, repo: RepoId) -> bool:
        if self.repo_type is not None and repo.repo_type is not self.repo_type:
            return False
        return self.regex.match(repo.name.lower()) is not None

    def __str__(self) -> str:
        return self.text


@functools.lru_cache(maxsize=4096)
def parse_repo_glob(text: str) -> RepoGlob:
    """``[TYPE:]GLOB`` → ``RepoGlob``; ``InvalidInput`` says what is wrong and how to write it."""
    pattern = text.strip()
    kind, colon, glob = pattern.rpartition(":")
    repo_type = None
    if colon:
        repo_type = _TYPES.get(kind.lower())
        if repo_type is None:
            choices = ", ".join(f"{t}:" for t in _TYPES)
            raise InvalidInput(f"repo glob '{text}': unknown repo type '{kind}' (use {choices})")
    if not glob:
        raise InvalidInput(f"repo glob '{text}' is empty: {_SYNTAX}")
    if not _GLOB_CHARS.fullmatch(glob):
        raise InvalidInput(
            f"repo glob '{text}': only letters, digits, '.', '_', '-', '/' and the wildcards"
            f" * ? [...] may appear; {_SYNTAX}"
        )
    if glob.count("/") > 1:
        raise InvalidInput(f"repo glob '{text}': a repo id has at most one '/' (namespace/name)")
    regex = re.compile(fnmatch.translate(glob.lower()))
    return RepoGlob(pattern, repo_type, regex)


def parse_repo_globs(patterns: Iterable[str]) -> tuple[RepoGlob, ...]:
    """Every pattern parsed, or ``InvalidInput`` for the first bad one."""
    return tuple(parse_repo_glob(p) for p in patterns)


def matches(repo: RepoId, patterns: Iterable[str | RepoGlob]) -> bool:
    """Whether any pattern names ``repo``; an empty list names nothing."""
    for pattern in patterns:
        glob = pattern if isinstance(pattern, RepoGlob) else parse_repo_glob(pattern)
        if glob.matches(repo):
            return True
    return False
