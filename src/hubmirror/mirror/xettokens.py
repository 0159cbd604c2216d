"""The mirror's own Xet read tokens: which repo a Xet client may read, until when.

A Xet client shows its token to the mirror's CAS routes, which see only Xet
hashes; the token carries the repo the mirror admitted the caller to (after the
same access decision as a file download), so a hash is served only when that
repo has the blob. Signed with the mirror's Xet secret (``index.xet.secret()``,
shared by every node).

The token also carries what the mirror would send upstream for its holder (the
caller's Hugging Face token, or the organization's), encrypted with a key derived
from the same secret (AES-GCM): a client whose listing named a file the mirror
has since let go asks only the CAS for it, and the mirror fetches the file again
with that credential, as it would for the client's own download. Only the mirror
can read it; the audit log names the holder by identity and fingerprint.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hubmirror.mirror.callers import Caller
from hubmirror.types import RepoId, RepoType

TOKEN_TTL = 3600  # seconds; clients refresh proactively (30-60 s before expiry)
_NONCE = 12


@dataclass(frozen=True, slots=True)
class ReadToken:
    """What a valid token says: the repo, and who it was issued to."""

    repo: RepoId
    identity: str | None = None  # the caller's mirror identity, if it had one
    fingerprint: str = "-"  # the fingerprint of the token the caller presented
    upstream_auth: str | None = field(default=None, repr=False)  # what fills send upstream


def issue_token(
    secret: str, repo: RepoId, now: float, ttl: int = TOKEN_TTL, holder: Caller | None = None
) -> tuple[str, int]:
    """A token for ``repo`` and its expiry (unix seconds); ``holder`` is the caller it
    is issued to, named in the audit records of the downloads it allows."""
    expires = int(now) + ttl
    claims = {"t": repo.repo_type.value, "r": repo.name, "e": expires}
    if holder is not None:
        claims |= {"i": holder.identity, "f": holder.fingerprint}
        if holder.upstream_auth:
            claims["a"] = _seal(secret, repo, holder.upstream_auth)
    body = _b64(json.dumps(claims).encode())
    return f"{body}.{_mac(secret, body)}", expires


def read_token(secret: str, token: str, now: float) -> ReadToken | None:
    """What a valid, unexpired token says, else ``None``."""
    body, _, mac = token.partition(".")
    if not body or not hmac.compare_digest(_mac(secret, body), mac):
        return None
    try:
        claims = json.loads(_unb64(body))
        repo = RepoId(RepoType(claims["t"]), claims["r"])
        expires = int(claims["e"])
        auth = _open(secret, repo, claims["a"]) if "a" in claims else None
        read = ReadToken(repo, claims.get("i"), str(claims.get("f", "-")), auth)
    except (ValueError, KeyError, TypeError, AttributeError, InvalidTag):
        return None
    return read if now < expires else None


def _seal(secret: str, repo: RepoId, auth: str) -> str:
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(_auth_key(secret)).encrypt(nonce, auth.encode(), _aad(repo))
    return _b64(nonce + sealed)


def _open(secret: str, repo: RepoId, sealed: str) -> str:
    raw = _unb64(sealed)
    return AESGCM(_auth_key(secret)).decrypt(raw[:_NONCE], raw[_NONCE:], _aad(repo)).decode()


def _auth_key(secret: str) -> bytes:
    """A key of its own for the credential, derived from the Xet secret (not the MAC key)."""
    return hashlib.sha256(b"hubmirror xet-token upstream auth\n" + secret.encode()).digest()


def _aad(repo: RepoId) -> bytes:
    return f"{repo.repo_type.value}/{repo.name}".encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), b"xet-token\n" + body.encode(), hashlib.sha256).hexdigest()
