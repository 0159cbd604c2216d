"""Revision → commit: a commit sha never expires, branches and tags live for a TTL.

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

    def fresh_commit(self, repo: RepoId, revision: Revision) -> str | None:
        """The commit to use without asking upstream, or ``None`` when it must be asked."""
        if revision.is_commit:
            return revision.value
        known = self._known(repo, revision.value)
        if known and self.clock() - known.fetched_at < self.ttl:
            return known.commit
        return None

    def last_known_commit(self, repo: RepoId, revision: Revision) -> str | None:
        """Whatever we last heard, however old: what an outage falls back to."""
        if revision.is_commit:
            return revision.value
        known = self._known(repo, revision.value)
        return known.commit if known else None

    def remember(self, repo: RepoId, revision: Revision | str, commit: str) -> None:
        value = str(revision)
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
