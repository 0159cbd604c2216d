"""Check a downloaded file against the hash the Hub lists for it.

LFS files are named by the sha256 of their content; regular files by their git blob id,
``sha1(b"blob <size>\\0" + content)``. Both come from the tree listing, which the client got
before any byte, so a mirror (or a CDN) cannot make a wrong file look right.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from hubmirror.client.listing import RemoteFile
from hubmirror.errors import IntegrityError

CHUNK = 1024 * 1024


def digest_of(path: Path, remote: RemoteFile) -> str:
    """The file's sha256 (LFS) or git blob sha1 (regular file), computed from disk."""
    size = path.stat().st_size
    if remote.entry.lfs:
        digest = hashlib.sha256()
    else:
        digest = hashlib.sha1(b"blob %d\0" % size, usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_file(path: Path, remote: RemoteFile, source: str) -> None:
    """Raise ``IntegrityError`` unless ``path`` has the listed size and hash."""
    entry = remote.entry
    size = path.stat().st_size
    if size != entry.size:
        raise IntegrityError(
            f"refusing corrupt file {entry.path} from {source}: "
            f"{size} bytes, the listing says {entry.size}"
        )
    got = digest_of(path, remote)
    if got != entry.etag:
        kind = "sha256" if entry.lfs else "git blob sha1"
        raise IntegrityError(
            f"refusing corrupt file {entry.path} from {source}: "
            f"its {kind} is {got}, the listing says {entry.etag}"
        )
