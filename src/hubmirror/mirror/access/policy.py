"""Who may be served what from the cache.

A public repo's cached answers go to anyone. A gated or private repo's cached
answers go only to a caller whose token upstream accepted for that repo within
``access_ttl`` seconds; everyone else is sent upstream with their own token and
gets upstream's own answer. Decisions are per repo, never per blob, so a blob
shared by digest with a public repo cannot open a gated repo's path.

A repo is public only when upstream's repo card says so (``payloads.visibility_of_info``);
an answer that proves nothing makes it ``unknown``, which is treated exactly like
gated or private, online, in an outage and once stored in the index.

Anyone can name any repo, so what is remembered per repo is bounded: the maps in
memory forget the least recently used repos past ``KEPT``, and a repo upstream
refuses to describe anonymously (private, or no such repo) gets no index row —
it is restricted either way, which is also what an outage assumes of a repo
never seen.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Protocol

from hubmirror.errors import HubRefusal, UpstreamUnavailable
from hubmirror.hub import payloads
from hubmirror.hub.payloads import PUBLIC, RESTRICTED, UNKNOWN
from hubmirror.index.queries import Index
from hubmirror.mirror.access.callers import token_fingerprint
from hubmirror.mirror.lru import LRU
from hubmirror.types import RepoId

CONFIRMED_TOKENS, DENY = "confirmed-tokens", "deny"
KEPT = 100_000  # repos (and token-repo pairs) remembered in memory


class UpstreamState(Protocol):
    """Whether upstream is to be asked at all (offline mode)."""

    @property
    def offline(self) -> bool: ...


class AccessPolicy:
    def __init__(
        self,
        index: Index,
        visibility_ttl: float,
        access_ttl: float,
        clock: Callable[[], float],
        *,
        offline_access: str = CONFIRMED_TOKENS,
        upstream: UpstreamState | None = None,
        kept: int = KEPT,
    ) -> None:
        """``offline_access``: ``confirmed-tokens`` or ``deny`` (restricted content while
        upstream is down or offline); ``upstream``: tells whether offline mode is on."""
        self.index = index
        self.visibility_ttl = visibility_ttl
        self.access_ttl = access_ttl
        self.clock = clock
        self._confirmed: LRU[tuple[str, str], float] = LRU(kept)
        self._visibility: LRU[str, tuple[str, float]] = LRU(kept)
        self.offline_access = offline_access
        self.upstream = upstream

    def known_visibility(self, repo: RepoId) -> str | None:
        """The visibility if it was checked within the TTL, without any I/O but the index.

        Another worker or node may have checked it again since memory's answer expired:
        then the index has the newer answer, and this process need not ask upstream.
        """
        known = self._visibility.get(repo.key)
        if known is None or self.clock() - known[1] >= self.visibility_ttl:
            stored = self.index.get_visibility(repo)
            if stored is not None and (known is None or stored[1] > known[1]):
                known = stored
                self._visibility.put(repo.key, known)
        if known and self.clock() - known[1] < self.visibility_ttl:
            return known[0]
        return None

    def last_visibility(self, repo: RepoId) -> str | None:
        """The last visibility checked, however old (what an outage falls back to)."""
        self.known_visibility(repo)  # loads it from the index into memory
        known = self._visibility.get(repo.key)
        return known[0] if known else None

    async def visibility(self, repo: RepoId, fetch_info: Callable[[], Awaitable[bytes]]) -> str:
        """``public``, ``restricted`` or ``unknown``, re-checked anonymously after the TTL.

        A refusal means gated, private or missing. In an outage the last answer stands
        (never upgraded: an ``unknown`` stays ``unknown``), else the repo is ``unknown``.
        """
        fresh = self.known_visibility(repo)
        if fresh is not None:
            return fresh
        known = self._visibility.get(repo.key)
        try:
            visibility = payloads.visibility_of_info(_json(await fetch_info()))
        except HubRefusal:  # private, or no such repo: no row, unless one says otherwise
            visibility = RESTRICTED if self.index.get_visibility(repo) else None
        except UpstreamUnavailable:
            return known[0] if known else UNKNOWN
        now = self.clock()
        if visibility is not None:
            self.index.put_visibility(repo, visibility, now)
        self._visibility.put(repo.key, (visibility or RESTRICTED, now))
        return visibility or RESTRICTED

    def _offline(self) -> bool:
        return self.upstream is not None and self.upstream.offline

    def may_use_cache(self, repo: RepoId, visibility: str, auth: str | None) -> bool:
        """Public: anyone without a token, or with one upstream accepted lately.

        A token upstream would refuse (mistyped, revoked) gets upstream's 401 even for
        public files, exactly as without the mirror.
        """
        if visibility == PUBLIC:
            return not auth or self._fresh(token_fingerprint(auth), "")
        if self.offline_access == DENY and self._offline():
            return False
        return self._fresh(token_fingerprint(auth), repo.key)

    def trusted_in_outage(
        self, repo: RepoId, visibility: str, auth: str | None, trusted: bool
    ) -> bool:
        """May this caller get cached content while no upstream can confirm anything?

        Public content: as always. Gated and private content: with ``offline_access =
        confirmed-tokens``, to tokens upstream confirmed for this repo before (also
        before a restart); with ``deny``, to nobody.
        """
        if visibility == PUBLIC:
            return trusted
        if self.offline_access == DENY or not auth:
            return False
        return trusted or self.index.access.has_grant(token_fingerprint(auth), repo)

    def confirm(self, repo: RepoId, auth: str | None) -> None:
        """Upstream just served this caller a file of ``repo``: remember it for a while.

        For gated and private repos the grant is also kept in the index: it is what
        an outage falls back to (``trusted_in_outage``).
        """
        fingerprint = token_fingerprint(auth)
        until = self.clock() + self.access_ttl
        self._confirmed.put((fingerprint, repo.key), until)
        self._confirmed.put((fingerprint, ""), until)
        if auth and self.last_visibility(repo) != PUBLIC:
            self.index.access.put_grant(fingerprint, repo, self.clock())

    def token_accepted(self, auth: str | None) -> None:
        """Upstream answered a request made with this token: it is a valid token."""
        if auth:
            self._confirmed.put((token_fingerprint(auth), ""), self.clock() + self.access_ttl)

    def _fresh(self, fingerprint: str, repo_key: str) -> bool:
        until = self._confirmed.get((fingerprint, repo_key))
        return until is not None and self.clock() < until


def _json(body: bytes):
    try:
        return json.loads(body)
    except ValueError:
        return None
