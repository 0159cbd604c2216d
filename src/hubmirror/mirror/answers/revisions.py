"""Revision → commit: a commit sha never expires, branches and tags live for a TTL.

A revision spelled like a sha is a commit only once upstream has named it one (a
revision resolved to it, or a listing held at it): a branch may be named with 40 hex
characters, and taking it for a commit would pin its first answer forever.

Every answer that names a commit for a revision (a resolve HEAD's
``X-Repo-Commit``, a repo info's ``sha``) goes through ``remember``, so that
``/api/.../revision/main``, the files at ``main`` and the tree at that sha agree.
"""

from __future__ import annotations

from collections.abc import Callable

from hubmirror.index.queries import Index, KnownCommit
from hubmirror.types import RepoId, Revision


class Revisions:
    def __init__(self, index: Index, ttl: float, clock: Callable[[], float]) -> None:
        self.index = index
        self.ttl = ttl
        self.clock = clock
        self._memory: dict[tuple[str, str], KnownCommit] = {}
        self._commits: set[tuple[str, str]] = set()  # (repo key, sha) upstream named commits

    def is_commit(self, repo: RepoId, revision: Revision) -> bool:
        """Whether ``revision`` is a commit of ``repo`` as upstream has said, so that
        everything at it is immutable."""
        if not revision.looks_like_commit:
            return False
        key = (repo.key, revision.value)
        if key in self._commits:
            return True
        if self.index.names_commit(repo, revision.value):
            self._commits.add(key)
            return True
        return False

    def fresh_commit(self, repo: RepoId, revision: Revision) -> str | None:
        """The commit to use without asking upstream, or ``None`` when it must be asked."""
        if self.is_commit(repo, revision):
            return revision.value
        known = self._known(repo, revision.value)
        if known and self.clock() - known.fetched_at < self.ttl:
            return known.commit
        return None

    def last_known_commit(self, repo: RepoId, revision: Revision) -> str | None:
        """Whatever we last heard, however old: what an outage falls back to."""
        if self.is_commit(repo, revision):
            return revision.value
        known = self._known(repo, revision.value)
        return known.commit if known else None

    def remember(self, repo: RepoId, revision: Revision | str, commit: str) -> None:
        value = str(revision)
        self._commits.add((repo.key, commit))
        if value != commit:
            now = self.clock()
            self.index.put_commit(repo, value, commit, now)
            self._memory[(repo.key, value)] = KnownCommit(commit, now)

    def _known(self, repo: RepoId, revision: str) -> KnownCommit | None:
        """Memory while fresh (the warm path), else the index.

        Another process (``sync``, ``import``, a worker) may have written a newer
        answer, so an expired memory entry is looked up again before it is used.
        """
        key = (repo.key, revision)
        known = self._memory.get(key)
        if known is None or self.clock() - known.fetched_at >= self.ttl:
            stored = self.index.get_commit(repo, revision)
            if stored is not None and (known is None or stored.fetched_at > known.fetched_at):
                known = self._memory[key] = stored
        return known
