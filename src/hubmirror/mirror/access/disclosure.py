"""Which cached repos a dashboard visitor may see named.

The dashboard tells a visitor no more than the API would. A public repo's name,
commits and files are shown to anyone the API serves. A gated or private repo's, or
one whose visibility upstream never told, are shown only to the admin, or to a visitor
whose token upstream confirmed for that very repo within ``access_ttl``: the grants in
the index, so every worker and node decides alike. A visitor the API refuses outright
(``require_token`` without a mirror token, a revoked or unknown mirror token) sees no
repo at all, and a mirror token limited to some repos sees those only. Totals (blobs,
bytes, hit ratio) count every repo without naming one.

Browsers send no ``Authorization`` header: in a browser a visitor is the admin (the
session cookie) or anonymous; ``curl -H "Authorization: Bearer ..."`` shows a token's view.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hubmirror.errors import Forbidden, InvalidCredentials
from hubmirror.index.access import AccessRecords
from hubmirror.mirror.access.callers import Caller, Identities, token_fingerprint
from hubmirror.mirror.access.policy import PUBLIC, AccessPolicy
from hubmirror.types import RepoId


@dataclass(frozen=True)
class Viewer:
    """One visitor of one page, decided once: who they are to the API, what upstream confirmed."""

    admin: bool = False
    caller: Caller | None = None  # None: the API refuses this visitor every repo
    confirmed: frozenset[RepoId] = frozenset()  # restricted repos upstream confirmed lately


ADMIN = Viewer(admin=True)
NOBODY = Viewer()


class Disclosure:
    def __init__(self, identities: Identities, access: AccessPolicy, grants: AccessRecords) -> None:
        self.identities = identities
        self.access = access
        self.grants = grants

    def viewer(self, address: str, authorization: str | None) -> Viewer:
        """The visitor sending ``authorization``, as the API would identify them."""
        try:
            caller = self.identities.identify(address, authorization)
        except InvalidCredentials:
            return NOBODY
        auth = caller.upstream_auth
        if not auth:
            return Viewer(caller=caller)
        since = self.access.clock() - self.access.access_ttl
        granted = self.grants.granted_repos(token_fingerprint(auth), since)
        return Viewer(caller=caller, confirmed=frozenset(granted))

    def may_see(self, viewer: Viewer, repo: RepoId) -> bool:
        if viewer.admin:
            return True
        if viewer.caller is None:
            return False
        try:
            self.identities.check(viewer.caller, repo)
        except Forbidden:
            return False
        # "restricted", or never told (None): only to a token upstream confirmed for it
        return repo in viewer.confirmed or self.access.last_visibility(repo) == PUBLIC

    def seen(self, viewer: Viewer, repos: Iterable[RepoId]) -> list[RepoId]:
        return [repo for repo in repos if self.may_see(viewer, repo)]
