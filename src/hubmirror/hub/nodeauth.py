"""Signatures on node-to-node requests: only nodes that share the cluster secret read fills.

A node asks another for the bytes of a running fill; the answer is a blob of any
repo, gated and private ones included, so the request must prove it comes from a
node of the same cluster. The secret itself never travels: each request carries
an HMAC over method, path, node and time, accepted for ``WINDOW`` seconds, so a
captured request cannot be replayed later or for another blob.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

X_NODE = "X-Hubmirror-Node"
X_NODE_TIME = "X-Hubmirror-Time"
X_NODE_SIGNATURE = "X-Hubmirror-Signature"
WINDOW = 60.0  # seconds a signature stays valid; node clocks must agree this well


def _mac(secret: str, method: str, path: str, node: str, stamp: str) -> str:
    message = "\n".join((method.upper(), path, node, stamp)).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, node: str, method: str, path: str, now: float) -> dict[str, str]:
    """The headers that authenticate one request from ``node``."""
    stamp = str(int(now))
    return {
        X_NODE: node,
        X_NODE_TIME: stamp,
        X_NODE_SIGNATURE: _mac(secret, method, path, node, stamp),
    }


def verify(
    secret: str, headers: Mapping[str, str], method: str, path: str, now: float
) -> str | None:
    """The signing node's id when the headers prove the secret, else ``None``."""
    node, stamp = headers.get(X_NODE, ""), headers.get(X_NODE_TIME, "")
    signature = headers.get(X_NODE_SIGNATURE, "")
    if not (node and stamp.isascii() and stamp.isdigit() and len(stamp) <= 12 and signature):
        return None
    if abs(now - int(stamp)) > WINDOW:
        return None
    expected = _mac(secret, method, path, node, stamp)
    return node if hmac.compare_digest(expected, signature) else None
