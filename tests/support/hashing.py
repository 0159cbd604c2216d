"""The SHA-256 digests tests compare bytes by: of bytes, of a file, of every file in a tree.

Free of hubmirror imports, so the fake hub may use it too.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``: what the Hub calls a file's sha256 and LFS oid."""
    return hashlib.sha256(data).hexdigest()


def sha256_of(path: Path | str) -> str:
    """Hex SHA-256 of the file at ``path`` (symlinks followed, as clients' snapshots use them)."""
    return sha256_hex(Path(path).read_bytes())
