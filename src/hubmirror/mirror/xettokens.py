"""The mirror's own Xet read tokens: which repo a Xet client may read, until when.

A Xet client shows its token to the mirror's CAS routes, which see only Xet
hashes; the token carries the repo the mirror admitted the caller to (after the
same access decision as a file download), so a hash is served only when that
repo has the blob. Signed with the mirror's Xet secret (``index.xet.secret()``,
shared by every node), never the caller's Hugging Face token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from hubmirror.mirror.callers import Caller
from hubmirror.types import RepoId, RepoType

TOKEN_TTL = 3600  # seconds; clients refresh proactively (30-60 s before expiry)


@dataclass(frozen=True, slots=True)
class ReadToken:
    """What a valid token says: the repo, and who it was issued to (for the audit log)."""

    repo: RepoId
    identity: str | None = None  # the caller's mirror identity, if it had one
    fingerprint: str = "-"  # the fingerprint of the token the caller presented


def issue_token(
    secret: str, repo: RepoId, now: float, ttl: int = TOKEN_TTL, holder: Caller | None = None
) -> tuple[str, int]:
    """A token for ``repo`` and its expiry (unix seconds); ``holder`` is the caller it
    is issued to, named in the audit records of the downloads it allows."""
    expires = int(now) + ttl
    claims = {"t": repo.repo_type.value, "r": repo.name, "e": expires}
    if holder is not None:
        claims |= {"i": holder.identity, "f": holder.fingerprint}
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{body}.{_mac(secret, body)}", expires


def read_token(secret: str, token: str, now: float) -> ReadToken | None:
    """What a valid, unexpired token says, else ``None``."""
    body, _, mac = token.partition(".")
    if not body or not hmac.compare_digest(_mac(secret, body), mac):
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        repo = RepoId(RepoType(claims["t"]), claims["r"])
        expires = int(claims["e"])
        read = ReadToken(repo, claims.get("i"), str(claims.get("f", "-")))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return read if now < expires else None


def _mac(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), b"xet-token\n" + body.encode(), hashlib.sha256).hexdigest()
