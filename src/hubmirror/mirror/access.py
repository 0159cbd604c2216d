"""Who may be served what from the cache.

A public repo's cached answers go to anyone. A gated or private repo's cached
answers go only to a caller whose token upstream accepted for that repo within
``access_ttl`` seconds; everyone else is sent upstream with their own token and
gets upstream's own answer. Decisions are per repo, never per blob, so a blob
shared by digest with a public repo cannot open a gated repo's path.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable

from hubmirror.errors import HubRefusal, UpstreamUnavailable
from hubmirror.hub import payloads
from hubmirror.index.queries import Index
from hubmirror.types import RepoId

PUBLIC = "public"
RESTRICTED = "restricted"


def token_fingerprint(auth: str | None) -> str:
    """A short, non-reversible name for a token; the token itself is never stored."""
    if not auth:
        return "anonymous"
    return hashlib.sha256(auth.encode()).hexdigest()[:24]


class AccessPolicy:
    def __init__(
        self,
        index: Index,
        visibility_ttl: float,
        access_ttl: float,
        clock: Callable[[], float],
    ) -> None:
        self.index = index
        self.visibility_ttl = visibility_ttl
        self.access_ttl = access_ttl
        self.clock = clock
        self._confirmed: dict[tuple[str, str], float] = {}

    async def visibility(self, repo: RepoId, fetch_info: Callable[[], Awaitable[bytes]]) -> str:
        """``public`` or ``restricted``, re-checked anonymously after the metadata TTL."""
        known = self.index.get_visibility(repo)
        if known and self.clock() - known[1] < self.visibility_ttl:
            return known[0]
        try:
            visibility = payloads.visibility_of_info(_json(await fetch_info()))
        except HubRefusal:
            visibility = RESTRICTED
        except UpstreamUnavailable:
            return known[0] if known else RESTRICTED
        self.index.put_visibility(repo, visibility, self.clock())
        return visibility

    def may_use_cache(self, repo: RepoId, visibility: str, auth: str | None) -> bool:
        if visibility == PUBLIC:
            return True
        until = self._confirmed.get((token_fingerprint(auth), repo.key))
        return until is not None and self.clock() < until

    def confirm(self, repo: RepoId, auth: str | None) -> None:
        """Upstream just served this caller a file of ``repo``: remember it for a while."""
        self._confirmed[(token_fingerprint(auth), repo.key)] = self.clock() + self.access_ttl


def _json(body: bytes):
    try:
        return json.loads(body)
    except ValueError:
        return None
