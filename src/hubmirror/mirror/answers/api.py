"""JSON API answers: asked upstream once, rewritten for clients, kept and replayed.

``ApiAnswers.api`` answers from the index when the caller may have a fresh answer,
else asks upstream and stores what it says (a 404 too), learning commits and file
entries on the way. The pure helpers below say which upstream path a route asks,
how long its answer stays fresh (forever for tree and paths-info at a commit sha),
and how a remembered 404 is raised again rather than served as a body.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urlencode, urlsplit

from hubmirror.errors import EntryNotFound, UpstreamUnavailable
from hubmirror.hub import payloads
from hubmirror.hub.apiquery import normal_form, normal_query
from hubmirror.hub.routes import RepoApi, api_path, encode_path, encode_revision
from hubmirror.hub.specs import DEFAULT_REVISION
from hubmirror.index.queries import ApiAnswer, Index
from hubmirror.mirror.access.callers import token_fingerprint
from hubmirror.mirror.access.policy import AccessPolicy
from hubmirror.mirror.answers import offline
from hubmirror.mirror.answers.bounds import RowBounds
from hubmirror.mirror.answers.files import FileAnswers
from hubmirror.mirror.answers.metadata import Metadata
from hubmirror.mirror.answers.revisions import Revisions
from hubmirror.mirror.answers.snapshots import Snapshots
from hubmirror.types import RepoId, Revision

FOREVER = float("inf")
IMMUTABLE_AT_COMMIT = ("tree", "paths-info")


class ApiAnswers:
    """The JSON API routes the mirror serves, from its cache when allowed and fresh."""

    def __init__(
        self,
        *,
        index: Index,
        revisions: Revisions,
        snapshots: Snapshots,
        access: AccessPolicy,
        metadata: Metadata,
        files: FileAnswers,
        metadata_ttl: float,
        clock: Callable[[], float],
        bounds: RowBounds,
    ) -> None:
        self.index = index
        self.bounds = bounds  # stored answers are kept to a number of rows
        self.revisions = revisions
        self.snapshots = snapshots
        self.access = access
        self.metadata = metadata
        self.files = files  # entries a listing names are file answers too
        self.metadata_ttl = metadata_ttl
        self.clock = clock

    async def api(
        self,
        route: RepoApi,
        query: list[tuple[str, str]],
        form: list[tuple[str, str]] | None,
        auth: str | None,
        *,
        refresh: bool = False,
    ) -> ApiAnswer:
        """A JSON API answer, rewritten for clients, from the cache when allowed and fresh.

        Only the parameters real clients send reach the key and upstream, normalised
        (``hub.apiquery``): made-up ones cannot add rows or upstream requests.
        ``refresh`` asks upstream even when a fresh answer is stored (``sync`` must
        see a branch that moved a minute ago), and fails rather than answer from the cache
        when upstream cannot be asked (a sync must not report "unchanged" it never checked).
        """
        with offline.naming(lambda: _what(route)):
            return await self._api(route, query, form, auth, refresh)

    async def _api(self, route: RepoApi, query, form, auth: str | None, refresh: bool):
        query = normal_query(route.action, query)
        form = None if form is None else normal_form(form)
        upstream = upstream_api_path(route) + (("?" + urlencode(query)) if query else "")
        key = answer_key(route, query, form)
        visibility = await self.metadata.visibility(route.repo)
        trusted = self.access.may_use_cache(route.repo, visibility, auth)
        cached = self.index.get_answer(key)
        fresh = cached and self.clock() - cached.fetched_at < self._ttl_of(route)
        if trusted and fresh and not refresh:
            return replay(cached)
        flight = self.metadata.ask(
            f"api {key} {token_fingerprint(auth)}",
            lambda: self._refresh_answer(route, key, upstream, form, auth),
            None if refresh else lambda: self._answered(route, key, visibility, auth),
        )
        in_outage = self.access.trusted_in_outage(route.repo, visibility, auth, trusted)
        snapshot = self._snapshot_commit(route) if in_outage and not cached else None
        try:
            fallback = in_outage and bool(cached or snapshot)
            return await self.metadata.within_deadline(flight, has_fallback=fallback)
        except UpstreamUnavailable:
            if refresh:  # the caller wants upstream's word (sync, approve), not our memory
                raise
            if in_outage and cached:
                return replay(cached)
            form_fields = grouped_form(form)
            answer = snapshot and self.snapshots.answer(route, snapshot, dict(query), form_fields)
            if answer:
                return answer
            raise

    def _answered(
        self, route: RepoApi, key: str, visibility: str, auth: str | None
    ) -> ApiAnswer | None:
        """The fresh answer another process asked upstream and stored, if this caller may
        have it (a stored 404 raises ``EntryNotFound``)."""
        if not self.access.may_use_cache(route.repo, visibility, auth):
            return None
        cached = self.index.get_answer(key)
        if cached and self.clock() - cached.fetched_at < self._ttl_of(route):
            return replay(cached)
        return None

    def _snapshot_commit(self, route: RepoApi) -> str | None:
        """The commit of a complete snapshot that could answer ``route`` in an outage."""
        revision = route.revision or Revision(DEFAULT_REVISION)
        commit = self.revisions.last_known_commit(route.repo, revision)
        return commit if commit and self.snapshots.has(route.repo, commit) else None

    async def _refresh_answer(
        self, route: RepoApi, key: str, upstream: str, form, auth: str | None
    ) -> ApiAnswer:
        try:
            fresh = await self.metadata.call(lambda c: c.get_json(upstream, auth, form))
        except EntryNotFound as exc:  # a missing folder is an answer too: keep it
            if self.bounds.keeps_miss(route.path.value if route.path else ""):
                self.index.put_answer(key, route.repo, missing_answer(exc, self.clock()))
                self.bounds.wrote("missing_answers")
            raise
        self.access.token_accepted(auth)
        answer = self._digest(route, fresh.status, fresh.body, fresh.link_next)
        self.index.put_answer(key, route.repo, answer)
        self.bounds.wrote("api_answers")
        return answer

    def _digest(self, route: RepoApi, status: int, body: bytes, link: str | None) -> ApiAnswer:
        """Strip Xet, learn commits and entries, and keep the next link relative."""
        try:
            data = json.loads(body)
        except ValueError:
            return ApiAnswer(status, body, relative_link(link), self.clock())
        data = payloads.strip_xet(data)
        self._learn(route, data)
        encoded = json.dumps(data, separators=(",", ":")).encode()
        return ApiAnswer(status, encoded, relative_link(link), self.clock())

    def _learn(self, route: RepoApi, data) -> None:
        if route.action == "revision" and route.revision:
            commit = payloads.commit_of_info(data)
            if commit:
                self.revisions.remember(route.repo, route.revision, commit)
        if self._at_commit(route):
            entries = payloads.entries_from_listing(data)
            if entries:
                self.files.remember_entries(route.repo, route.revision.value, entries)

    def _at_commit(self, route: RepoApi) -> bool:
        """A listing at a commit upstream named: it never changes."""
        revision: Revision | None = route.revision
        return (
            route.action in IMMUTABLE_AT_COMMIT
            and revision is not None
            and self.revisions.is_commit(route.repo, revision)
        )

    def _ttl_of(self, route: RepoApi) -> float:
        return FOREVER if self._at_commit(route) else self.metadata_ttl


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


def answer_key(
    route: RepoApi, query: list[tuple[str, str]], form: list[tuple[str, str]] | None
) -> str:
    """Where an answer is kept: the upstream path and query (and form) of the repo's
    canonical name, so every spelling of the repo finds the one answer."""
    canonical = replace(route, repo=RepoId(route.repo.repo_type, route.repo.canonical))
    path = upstream_api_path(canonical) + (("?" + urlencode(query)) if query else "")
    return path + ("" if form is None else "|" + urlencode(sorted(form)))


def canonical_answer_key(key: str, repo: RepoId) -> str:
    """A stored answer's ``key`` as ``answer_key`` writes it now: a key naming ``repo`` in
    another spelling (a bundle from an earlier release) takes the canonical name."""
    spelled, canonical = api_path(repo), api_path(RepoId(repo.repo_type, repo.canonical))
    rest = key[len(spelled) :]
    if key[: len(spelled)].lower() == canonical and rest[:1] in ("", "/", "?", "|"):
        return canonical + rest
    return key


def relative_link(link: str | None) -> str | None:
    """Keep only path and query of an upstream next link; the server adds its own origin."""
    if not link:
        return None
    parts = urlsplit(link)
    return parts.path + (("?" + parts.query) if parts.query else "")


def _what(route: RepoApi) -> str:
    """The API answer an offline mirror lacks, as its user would name it."""
    kind = _KINDS.get(route.action, f"the {route.action}")
    what = f"{kind} of {route.repo}"
    if route.revision:
        what += f" at {route.revision}"
    return what + (f" ({route.path.value})" if route.path and route.path.value else "")


_KINDS = {
    "info": "the repo info",
    "revision": "the repo info",
    "tree": "the file list",
    "paths-info": "the file details",
}
