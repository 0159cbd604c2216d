"""Answers from complete snapshots, for when no upstream can be asked.

A synced or imported commit has its repo info and its whole recursive tree in
the index. Exact API answers the mirror stored are replayed first; the snapshot
answers the rest — another folder, a non-recursive listing, paths-info, repo info
at a branch that points to it — and tells that a path does not exist, which lets
a client (transformers probing optional files) go on during an outage.
"""

from __future__ import annotations

import json
import time

from hubmirror.errors import EntryNotFound
from hubmirror.hub import listings, payloads
from hubmirror.hub.routes import RepoApi
from hubmirror.index.queries import ApiAnswer, Index, Snapshot
from hubmirror.mirror.lru import LRU
from hubmirror.types import FileEntry, RepoId

PARSED_LISTINGS = 64  # commits whose parsed tree stays in memory


class Snapshots:
    def __init__(self, index: Index) -> None:
        self.index = index
        self._parsed: LRU[tuple[str, str], list[dict]] = LRU(PARSED_LISTINGS)

    def record(self, repo: RepoId, commit: str, info: bytes, items: list[dict]) -> list[FileEntry]:
        """Store a commit's complete listing; returns its file entries."""
        tree = json.dumps(items, separators=(",", ":")).encode()
        self.index.put_snapshot(repo, Snapshot(commit, info, tree, time.time()))
        self._parsed.put((repo.key, commit), items)
        return payloads.entries_from_listing(items)

    def has(self, repo: RepoId, commit: str) -> bool:
        return self._items(repo, commit) is not None

    def absent(self, repo: RepoId, commit: str, path: str) -> bool:
        """True when the complete listing of ``commit`` has no file ``path``."""
        items = self._items(repo, commit)
        return items is not None and not listings.has_file(items, path)

    def answer(
        self, route: RepoApi, commit: str, query: dict[str, str], form: dict[str, list[str]]
    ) -> ApiAnswer | None:
        """The answer ``route`` would get at ``commit``, or ``None`` if it cannot be computed."""
        items = self._items(route.repo, commit)
        if items is None or listings.wants_expanded(query | {k: v[-1] for k, v in form.items()}):
            return None
        if route.action in ("info", "revision"):
            return None if query else self._info(route.repo, commit)
        if route.action == "tree":
            folder = route.path.value if route.path else ""
            found = listings.tree_items(items, folder, listings.is_recursive(query))
            if found is None:
                raise EntryNotFound(f"{folder} does not exist at {commit}", commit=commit)
            return _json_answer(found)
        if route.action == "paths-info":
            return _json_answer(listings.paths_info_items(items, form.get("paths", [])))
        return None

    def _info(self, repo: RepoId, commit: str) -> ApiAnswer | None:
        snapshot = self.index.get_snapshot(repo, commit)
        return None if snapshot is None else ApiAnswer(200, snapshot.info, None, time.time())

    def _items(self, repo: RepoId, commit: str) -> list[dict] | None:
        """The parsed listing; misses are not remembered, as ``sync`` in another
        process may record the snapshot at any time."""
        key = (repo.key, commit)
        items = self._parsed.get(key)
        if items is None:
            snapshot = self.index.get_snapshot(repo, commit)
            if snapshot is None:
                return None
            items = json.loads(snapshot.tree)
            self._parsed.put(key, items)
        return items


def _json_answer(items: list[dict]) -> ApiAnswer:
    return ApiAnswer(200, json.dumps(items, separators=(",", ":")).encode(), None, time.time())
