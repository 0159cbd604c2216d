"""Mirror identities: ``hm_`` tokens the operators hand out, so users need no Hub account.

A caller presenting ``Authorization: Bearer hm_...`` is known by that token's name
and may read the repos its globs name; upstream sees the organisation's token
(``upstream_token``), or no token at all, never the mirror token. Any other token is
a Hugging Face token and goes upstream as it came, unless ``require_token`` says
that only mirror-token callers are served.

Only a token's sha256 is stored: tokens are 32 random bytes, so a plain hash cannot
be reversed or guessed. A token's record is kept in memory for ``RECHECK`` seconds,
so a warm request costs one dict lookup, and a revoke made by the command in
another process takes effect within seconds.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hubmirror.errors import Forbidden, InvalidCredentials, InvalidInput
from hubmirror.hub.repoglobs import matches, parse_repo_globs
from hubmirror.index.queries import Index, MirrorToken
from hubmirror.mirror.access.callers import Caller
from hubmirror.types import RepoId

TOKEN_PREFIX = "hm_"
RECHECK = 5.0  # seconds a token's record is trusted before the index is read again
KNOWN_LIMIT = 10_000  # tokens (good or bad) remembered; then the memory starts over
# The Hub's exact words for a refused token: huggingface_hub then reports "invalid
# credentials" instead of turning the 401 into RepositoryNotFound.
INVALID_CREDENTIALS = "Invalid credentials in Authorization header"
TOKEN_REQUIRED = (
    "This mirror requires a mirror token. Ask its operators for one (they create it with "
    "'hubmirror token create NAME'), then set HF_TOKEN=hm_... or run "
    "'hf auth login --token hm_...' with HF_ENDPOINT set to this mirror."
)


def new_token() -> str:
    """A fresh mirror token: the prefix tells it from Hugging Face tokens at a glance."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Grant:
    """What a valid mirror token stands for: a name, the repos it may read, its end."""

    name: str
    repos: tuple[str, ...]
    expires_at: float | None = None


class MirrorIdentities:
    """``identify`` callers by their mirror token; ``check`` a repo against its globs."""

    def __init__(
        self,
        index: Index,
        *,
        require_token: bool = False,
        upstream_token: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.index = index
        self.require_token = require_token
        self._org_auth = f"Bearer {upstream_token}" if upstream_token else None
        self.clock = clock
        self._known: dict[str, tuple[Grant | None, float]] = {}

    def identify(self, address: str, authorization: str | None) -> Caller:
        token = _bearer(authorization)
        if token is None or not token.startswith(TOKEN_PREFIX):
            if self.require_token:
                raise InvalidCredentials(TOKEN_REQUIRED)
            return Caller(address, authorization, authorization)
        grant = self._grant(token)
        return Caller(
            address, authorization, self._org_auth, grant.name, grant.repos, grant.expires_at
        )

    def check(self, caller: Caller, repo: RepoId) -> None:
        """Raise ``Forbidden`` unless the caller's mirror token may read ``repo``."""
        if caller.repos and not matches(repo, caller.repos):
            raise Forbidden(
                f"The mirror token '{caller.identity}' may not read {repo.repo_type.value} "
                f"{repo.name}: it is limited to {', '.join(caller.repos)}",
                authenticated=True,
            )

    def _grant(self, token: str) -> Grant:
        now = self.clock()
        known = self._known.get(token)
        if known is None or now >= known[1]:
            known = self._load(token, now)
        if known[0] is None:
            raise InvalidCredentials(INVALID_CREDENTIALS)
        return known[0]

    def _load(self, token: str, now: float) -> tuple[Grant | None, float]:
        record = self.index.mirror_token(token_hash(token))
        valid = record is not None and _is_active(record, now)
        until = now + RECHECK
        if valid and record.expires_at is not None:
            until = min(until, record.expires_at)
        if len(self._known) >= KNOWN_LIMIT:
            self._known.clear()
        grant = Grant(record.name, record.repos, record.expires_at) if valid else None
        known = (grant, until)
        self._known[token] = known
        if valid:
            self.index.mirror_token_used(record.name, now)
        return known


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return None


def _is_active(record: MirrorToken, now: float) -> bool:
    return record.revoked_at is None and (record.expires_at is None or now < record.expires_at)


# managing tokens (the ``hubmirror token`` command) ---------------------------------
def create_token(
    index: Index, name: str, repos: Iterable[str], expires_in: float | None, now: float
) -> str:
    """Record a new token and return it: the only time it exists outside the caller's hands."""
    if not name.strip() or any(c.isspace() for c in name):
        raise InvalidInput(f"token name '{name}': give a non-empty name without spaces")
    globs = tuple(str(g) for g in parse_repo_globs(repos))
    token = new_token()
    expires_at = now + expires_in if expires_in is not None else None
    record = MirrorToken(name, token_hash(token), globs, now, expires_at)
    if not index.put_mirror_token(record):
        raise InvalidInput(f"a token named '{name}' exists already (revoked ones too)")
    return token


def revoke_token(index: Index, name: str, now: float) -> None:
    if not index.revoke_mirror_token(name, now):
        raise InvalidInput(f"no active token named '{name}' (see 'hubmirror token list')")


def token_state(record: MirrorToken, now: float) -> str:
    """``active``, ``revoked`` or ``expired``, as ``token list`` shows it."""
    if record.revoked_at is not None:
        return "revoked"
    return "active" if _is_active(record, now) else "expired"
