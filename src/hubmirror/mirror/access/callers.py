"""Who is asking: the caller's address, mirror identity, and the token sent upstream.

Every request to a repo is turned into a ``Caller`` once, by ``Mirror.identify``;
policy (which repos it may read), the upstream token to forward and the audit log
all read from it. The raw token is kept only to forward it; logs and the index see
its fingerprint.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol

from hubmirror.types import RepoId


def token_fingerprint(token: str | None) -> str:
    """A short, non-reversible name for a token; the token itself is never stored."""
    if not token:
        return "anonymous"
    # surrogateescape: a header of undecodable bytes is fingerprinted, not a crash
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class Caller:
    address: str  # the client's IP address as the server saw it
    presented: str | None = field(repr=False)  # the Authorization value the caller sent
    upstream_auth: str | None = field(repr=False)  # forwarded upstream: theirs, or the org's
    identity: str | None = None  # the mirror token's name, when one was presented
    repos: tuple[str, ...] = ()  # repo globs that mirror token may read; () = any
    expires_at: float | None = None  # when that mirror token stops working; None = never
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fingerprint", token_fingerprint(self.presented))

    @property
    def who(self) -> str:
        """How audit lines and pending requests name the caller."""
        if self.identity:
            return self.identity
        return f"token:{self.fingerprint}" if self.presented else self.address


class Identities(Protocol):
    """Who a request comes from, and whether their mirror token may read a repo."""

    def identify(self, address: str, authorization: str | None) -> Caller: ...

    def check(self, caller: Caller, repo: RepoId) -> None: ...


class PassThrough:
    """No mirror identities: every caller's own token goes upstream unchanged."""

    def identify(self, address: str, authorization: str | None) -> Caller:
        return Caller(address, authorization, authorization)

    def check(self, caller: Caller, repo: RepoId) -> None:
        """Without mirror tokens, no caller is limited to some repos."""
