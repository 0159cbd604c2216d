"""The Hub's ``/api/whoami-v2`` answer, for an identity the mirror itself knows.

huggingface_hub reads ``name`` and ``auth.accessToken`` (``role``, ``displayName``: the
name ``hf auth login`` stores the token under) when logging in, ``orgs`` in ``hf auth
whoami``, ``type``, ``fullname`` and ``avatarUrl`` elsewhere; every key the Hub sends for a
user is present, so no client meets a missing one. What only a mirror token has (the
repos it may read, its expiry) is under ``mirrorToken``, a key the Hub never sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any


def mirror_token_account(
    name: str, repos: Sequence[str], expires_at: float | None
) -> dict[str, Any]:
    """What ``whoami`` says of the mirror token ``name``: a read-only user of that name."""
    expiration = _iso(expires_at) if expires_at is not None else None
    access_token: dict[str, Any] = {"displayName": name, "role": "read"}
    if expiration:
        access_token["expiration"] = expiration
    scope = ", ".join(repos) if repos else "any repo"
    return {
        "type": "user",
        "id": f"hubmirror-token:{name}",
        "name": name,
        "fullname": f"{name} (mirror token: {scope}; expires {expiration or 'never'})",
        "email": None,
        "emailVerified": False,
        "isPro": False,
        "canPay": False,
        "periodEnd": None,
        "avatarUrl": "",
        "orgs": [],
        "auth": {"type": "access_token", "accessToken": access_token},
        "mirrorToken": {"name": name, "repos": list(repos), "expiresAt": expiration},
    }


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
