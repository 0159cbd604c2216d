"""The files of a commit, as the tree listing gives them, and which of them a run wants.

Pure functions. Every path is validated (``RepoPath``) before it names anything on disk,
so a listing with ``../`` in it cannot write outside the cache or the local folder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hubmirror.hub.payloads import entry_from_tree_item
from hubmirror.hub.specs import FileFilter
from hubmirror.storage.hfcache import tree_file_info
from hubmirror.types import FileEntry, RepoPath


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """One listed file: what to fetch and check (``entry``) and its git id in the tree."""

    entry: FileEntry
    oid: str

    @property
    def path(self) -> str:
        return self.entry.path


def files_of_page(items: Any) -> list[RemoteFile]:
    """The files of one listing page (folders skipped)."""
    if not isinstance(items, list):
        raise ValueError("a tree listing page is not a JSON list")
    files = []
    for item in items:
        entry = entry_from_tree_item(item)
        if entry is not None:
            RepoPath(entry.path)  # raises InvalidInput for "..", "/x", control characters
            files.append(RemoteFile(entry, item["oid"]))
    return files


def select(files: Iterable[RemoteFile], wanted: FileFilter) -> list[RemoteFile]:
    return sorted((f for f in files if wanted.matches(f.path)), key=lambda f: f.path)


def is_everything(wanted: FileFilter) -> bool:
    """No ``--include``/``--exclude``: the download is the whole snapshot."""
    return not wanted.include and not wanted.exclude


def tree_files(files: Iterable[RemoteFile]) -> dict[str, dict]:
    """The ``files`` of ``trees/<commit>.json``: tells huggingface_hub the snapshot is whole."""
    return {f.path: tree_file_info(f.entry, f.oid) for f in files}
