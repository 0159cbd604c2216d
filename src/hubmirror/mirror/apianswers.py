"""How stored JSON API answers are keyed, kept and replayed.

Pure helpers of ``Mirror.api``: which upstream path a route asks, how long its
answer stays fresh (forever for tree and paths-info at a commit sha), and how a
remembered 404 is raised again rather than served as a body.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from hubmirror.errors import EntryNotFound
from hubmirror.hub.routes import RepoApi, api_path, encode_path, encode_revision
from hubmirror.index.queries import ApiAnswer
from hubmirror.types import Revision

FOREVER = float("inf")
IMMUTABLE_AT_COMMIT = ("tree", "paths-info")


def grouped_form(form: list[tuple[str, str]] | None) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in form or []:
        grouped.setdefault(key, []).append(value)
    return grouped


def missing_answer(exc: EntryNotFound, now: float) -> ApiAnswer:
    body = json.dumps({"error": exc.message, "commit": exc.commit}).encode()
    return ApiAnswer(404, body, None, now)


def replay(answer: ApiAnswer) -> ApiAnswer:
    """A stored answer as the client gets it; a stored 404 is raised again as EntryNotFound."""
    if answer.status == 404:
        data = json.loads(answer.body)
        raise EntryNotFound(data["error"], commit=data.get("commit"))
    return answer


def upstream_api_path(route: RepoApi) -> str:
    if route.action == "info":
        return api_path(route.repo)
    parts = [route.action]
    if route.revision is not None:
        parts.append(encode_revision(route.revision))
    if route.path is not None and route.path.value:
        parts.append(encode_path(route.path))
    return api_path(route.repo, *parts)


def ttl_of(route: RepoApi, metadata_ttl: float) -> float:
    revision: Revision | None = route.revision
    if route.action in IMMUTABLE_AT_COMMIT and revision is not None and revision.is_commit:
        return FOREVER
    return metadata_ttl


def relative_link(link: str | None) -> str | None:
    """Keep only path and query of an upstream next link; the server adds its own origin."""
    if not link:
        return None
    parts = urlsplit(link)
    return parts.path + (("?" + parts.query) if parts.query else "")
