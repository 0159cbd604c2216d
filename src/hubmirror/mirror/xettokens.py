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

from hubmirror.types import RepoId, RepoType

TOKEN_TTL = 3600  # seconds; clients refresh proactively (30-60 s before expiry)


def issue_token(secret: str, repo: RepoId, now: float, ttl: int = TOKEN_TTL) -> tuple[str, int]:
    """A token for ``repo`` and its expiry (unix seconds)."""
    expires = int(now) + ttl
    payload = json.dumps({"t": repo.repo_type.value, "r": repo.name, "e": expires})
    body = base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()
    return f"{body}.{_mac(secret, body)}", expires


def read_token(secret: str, token: str, now: float) -> RepoId | None:
    """The repo a valid, unexpired token names, else ``None``."""
    body, _, mac = token.partition(".")
    if not body or not hmac.compare_digest(_mac(secret, body), mac):
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        repo = RepoId(RepoType(claims["t"]), claims["r"])
        expires = int(claims["e"])
    except (ValueError, KeyError, TypeError):
        return None
    return repo if now < expires else None


def _mac(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), b"xet-token\n" + body.encode(), hashlib.sha256).hexdigest()
