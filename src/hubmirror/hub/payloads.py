"""Hub JSON answers <-> types, and the rewrites the mirror applies to them.

Pure functions: they take parsed JSON and return new values, so the API layer
can cache the rewritten body once and serve it many times.
"""

from __future__ import annotations

from typing import Any

from hubmirror.types import FileEntry, is_digest

_XET_KEYS = frozenset({"xetHash", "xet_hash"})


def strip_xet(value: Any) -> Any:
    """Remove ``xetHash`` everywhere: clients that see it skip the mirror."""
    if isinstance(value, dict):
        return {k: strip_xet(v) for k, v in value.items() if k not in _XET_KEYS}
    if isinstance(value, list):
        return [strip_xet(v) for v in value]
    return value


def entry_from_tree_item(item: Any) -> FileEntry | None:
    """A ``FileEntry`` from one tree/paths-info item; ``None`` for folders or odd items."""
    if not isinstance(item, dict) or item.get("type") != "file":
        return None
    path, size, oid = item.get("path"), item.get("size"), item.get("oid")
    if not isinstance(path, str) or not isinstance(size, int) or not isinstance(oid, str):
        return None
    lfs = item.get("lfs")
    if isinstance(lfs, dict) and is_digest(str(lfs.get("oid", ""))):
        sha256 = lfs["oid"]
        return FileEntry(
            path=path, size=int(lfs.get("size", size)), etag=sha256, lfs=True, sha256=sha256
        )
    return FileEntry(path=path, size=size, etag=oid, lfs=False)


def entries_from_listing(items: Any) -> list[FileEntry]:
    if not isinstance(items, list):
        return []
    return [e for e in (entry_from_tree_item(i) for i in items) if e is not None]


def commit_of_info(info: Any) -> str | None:
    """The ``sha`` of a repo-info answer, if it is a real commit sha."""
    if isinstance(info, dict) and isinstance(info.get("sha"), str) and len(info["sha"]) == 40:
        return info["sha"]
    return None


PUBLIC, RESTRICTED, UNKNOWN = "public", "restricted", "unknown"


def visibility_of_info(info: Any) -> str:
    """What a repo-info answer says about access: ``public``, ``restricted`` or ``unknown``.

    ``public`` only for a repo card (a non-empty string ``id``) that says so with the
    Hub's own types: ``private`` is ``false`` and ``gated`` is ``false``. A card with
    ``private: true`` or a gate is ``restricted``. Anything else (an error object, a
    trimmed card, other types) is ``unknown``: a 200 that proves nothing must not open
    a private repo's cached files to anonymous callers.
    """
    if not isinstance(info, dict) or not isinstance(info.get("id"), str) or not info["id"]:
        return UNKNOWN
    private, gated = info.get("private"), info.get("gated")
    if private is True or gated is True or gated in ("auto", "manual"):
        return RESTRICTED
    if private is False and gated is False:
        return PUBLIC
    return UNKNOWN
