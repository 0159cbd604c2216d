"""A commit's complete listing from the answers clients were given, without a sync.

``snapshot_download`` through the mirror asks for the revision's repo info and its
recursive tree at the commit (every page), then downloads each file. The mirror
keeps those answers: together they are exactly what a sync records as the commit's
complete listing (the same upstream questions, stored the same way), so export can
use them when no sync ran. Only a tree whose last stored page says there is no next
one counts: a listing cut short is no listing.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

from hubmirror.hub import payloads
from hubmirror.hub.apiquery import normal_query
from hubmirror.hub.routes import RepoApi
from hubmirror.index.queries import ApiAnswer, Index, Snapshot
from hubmirror.mirror.answers.api import answer_key
from hubmirror.types import RepoId, RepoPath, Revision

_WHOLE_TREE = [("recursive", "true"), ("expand", "false")]
MAX_PAGES = 10_000


def answered_listing(index: Index, repo: RepoId, commit: str) -> Snapshot | None:
    """The listing of ``commit`` that stored answers make up, or ``None``."""
    names = [commit, *sorted(r for r, c in index.revisions_of(repo).items() if c == commit)]
    info = next((i for i in (_info(index, repo, name, commit) for name in names) if i), None)
    if info is None:
        return None
    for name in names:
        items = _whole_tree(index, RepoApi(repo, "tree", Revision(name), RepoPath("")))
        if items is not None:
            tree = json.dumps(items, separators=(",", ":")).encode()
            return Snapshot(commit, info.body, tree, info.fetched_at)
    return None


def _info(index: Index, repo: RepoId, name: str, commit: str) -> ApiAnswer | None:
    """The stored repo info at revision ``name``, if it describes ``commit``."""
    answer = index.get_answer(answer_key(RepoApi(repo, "revision", Revision(name)), [], None))
    if answer is None or answer.status != 200:
        return None
    return answer if payloads.commit_of_info(_json(answer.body)) == commit else None


def _whole_tree(index: Index, route: RepoApi) -> list | None:
    """Every item of the stored recursive tree, page after page; ``None`` if one is missing."""
    query, items = normal_query("tree", _WHOLE_TREE), []
    for _ in range(MAX_PAGES):
        answer = index.get_answer(answer_key(route, query, None))
        page = _json(answer.body) if answer is not None and answer.status == 200 else None
        if not isinstance(page, list):
            return None
        items.extend(page)
        if not answer.link_next:
            return items
        query = normal_query("tree", parse_qsl(urlsplit(answer.link_next).query))
    return None


def _json(body: bytes):
    try:
        return json.loads(body)
    except ValueError:
        return None
