"""The mirror's own Xet read tokens: which repo a Xet client may read, and who holds it.

A Xet client shows its token to the mirror's CAS routes, which see only Xet
hashes; the token carries the repo the mirror admitted the caller to, so a hash is
served only when that repo has the blob. Signed with the mirror's Xet secret
(``index.xet.secret()``, shared by every node).

The token also carries what its holder presented (their Hugging Face token, or
their mirror token), encrypted with a key derived from the same secret (AES-GCM):
every CAS request decides access again as ``/resolve/`` would at that moment (a
revoked mirror token, a repo denied since, a gated repo upstream no longer lets the
holder read), and a fill the CAS starts sends upstream what a download by the
holder would. Only the mirror can read it; the audit log names the holder by
identity and fingerprint. Tokens live minutes: clients refresh them through the
token route, which decides again too.
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

from hubmirror.mirror.access.callers import Caller
from hubmirror.types import RepoId, RepoType

TOKEN_TTL = 300  # seconds; hf_xet refreshes 30 s before expiry through the token route
_NONCE = 12


@dataclass(frozen=True, slots=True)
class ReadToken:
    """What a valid token says: the repo, and who it was issued to."""

    repo: RepoId
    identity: str | None = None  # the caller's mirror identity, if it had one
    fingerprint: str = "-"  # the fingerprint of the token the caller presented
    presented: str | None = field(default=None, repr=False)  # the holder's Authorization
    revision: str | None = None  # the revision it was asked for, for the audit


def issue_token(
    secret: str,
    repo: RepoId,
    now: float,
    ttl: int | None = None,
    holder: Caller | None = None,
    revision: str | None = None,
) -> tuple[str, int]:
    """A token for ``repo`` and its expiry (unix seconds, ``TOKEN_TTL`` from ``now`` by
    default); ``holder`` is the caller it is issued to: the CAS decides access for them at
    every request, and names them in the audit records of the downloads it allows."""
    expires = int(now) + (TOKEN_TTL if ttl is None else ttl)
    claims = {"t": repo.repo_type.value, "r": repo.name, "e": expires}
    if revision is not None:
        claims["v"] = revision
    if holder is not None:
        claims |= {"i": holder.identity, "f": holder.fingerprint}
        if holder.presented:
            claims["p"] = _seal(secret, repo, holder.presented)
    body = _b64(json.dumps(claims).encode())
    return f"{body}.{_mac(secret, body)}", expires


def read_token(secret: str, token: str, now: float) -> ReadToken | None:
    """What a valid, unexpired token says, else ``None``."""
    body, _, mac = token.partition(".")
    if not body or not hmac.compare_digest(_mac(secret, body), mac):
        return None
    return read_claims(secret, body, now)


def claims_of(token: str) -> str:
    """A token's claims without its signature: what a signed xorb URL carries to name the
    holder (the URL's own signature vouches for it), which is no token to present."""
    return token.partition(".")[0]


def read_claims(secret: str, body: str, now: float | None) -> ReadToken | None:
    """What a token's claims say, signature checked by the caller; ``now=None``: however
    old (a signed xorb URL has its own expiry)."""
    try:
        claims = json.loads(_unb64(body))
        if "a" in claims:  # an older token without its holder's credential: ask again
            return None
        repo = RepoId(RepoType(claims["t"]), claims["r"])
        expires = int(claims["e"])
        presented = _open(secret, repo, claims["p"]) if "p" in claims else None
        revision = claims.get("v")
        identity, fingerprint = claims.get("i"), str(claims.get("f", "-"))
        read = ReadToken(repo, identity, fingerprint, presented, revision)
    except (ValueError, KeyError, TypeError, AttributeError, InvalidTag):
        return None
    return read if now is None or now < expires else None


def _seal(secret: str, repo: RepoId, auth: str) -> str:
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(_auth_key(secret)).encrypt(nonce, auth.encode(), _aad(repo))
    return _b64(nonce + sealed)


def _open(secret: str, repo: RepoId, sealed: str) -> str:
    raw = _unb64(sealed)
    return AESGCM(_auth_key(secret)).decrypt(raw[:_NONCE], raw[_NONCE:], _aad(repo)).decode()


def _auth_key(secret: str) -> bytes:
    """A key of its own for the holder's credential, derived from the Xet secret (not the MAC's)."""
    return hashlib.sha256(b"hubmirror xet-token upstream auth\n" + secret.encode()).digest()


def _aad(repo: RepoId) -> bytes:
    return f"{repo.repo_type.value}/{repo.name}".encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), b"xet-token\n" + body.encode(), hashlib.sha256).hexdigest()
