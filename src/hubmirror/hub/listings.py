"""Tree and paths-info answers computed from a commit's complete recursive listing.

A recursive tree at a commit lists every file and folder with its Hub metadata;
any narrower listing the clients ask for (one folder, non-recursive, a few
paths) is a filter over it. The mirror uses this when no upstream can be asked.
"""

from __future__ import annotations

from typing import Any

Item = dict[str, Any]
_TRUE = ("1", "true", "True", "yes")


def is_recursive(query: dict[str, str]) -> bool:
    return query.get("recursive", "false") in _TRUE


def wants_expanded(query: dict[str, str]) -> bool:
    """``expand=true`` adds last-commit and security data a listing does not hold."""
    return query.get("expand", "false") in _TRUE


def tree_items(items: list[Item], folder: str, recursive: bool) -> list[Item] | None:
    """The items below ``folder`` ("" = root), or ``None`` when it is not a folder."""
    if folder and not any(i.get("path") == folder and i.get("type") == "directory" for i in items):
        return None
    prefix = f"{folder}/" if folder else ""
    below = [i for i in items if str(i.get("path", "")).startswith(prefix)]
    if recursive:
        return below
    return [i for i in below if "/" not in i["path"][len(prefix) :]]


def paths_info_items(items: list[Item], paths: list[str]) -> list[Item]:
    """The items for the asked paths, in listing order; unknown paths are left out."""
    wanted = set(paths)
    return [i for i in items if i.get("path") in wanted]


def has_file(items: list[Item], path: str) -> bool:
    return any(i.get("path") == path and i.get("type") == "file" for i in items)
