"""Signed, expiring CDN links, like the presigned URLs the Hub redirects LFS files to.

A mirror must follow the Location it is given and never build CDN URLs itself; a signature
that does not match, or a link used after it expired, gets a 403 from the CDN.
"""

import hashlib
import hmac


def signature(key: bytes, sha256: str, expires: int) -> str:
    return hmac.new(key, f"{sha256}:{expires}".encode(), hashlib.sha256).hexdigest()


def signed_query(key: bytes, sha256: str, expires: int) -> str:
    return f"expires={expires}&signature={signature(key, sha256, expires)}"


def link_problem(key: bytes, sha256: str, expires: str, sig: str, now: float) -> str | None:
    """Why a CDN link is refused, or None when it is valid."""
    if not expires.isdigit():
        return "Missing or malformed expires"
    if not hmac.compare_digest(signature(key, sha256, int(expires)), sig):
        return "Signature does not match"
    if int(expires) < now:
        return "Request has expired"
    return None
