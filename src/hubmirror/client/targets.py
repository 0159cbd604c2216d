"""Where downloaded files land: the huggingface_hub cache (default) or a plain folder.

Both follow huggingface_hub's own layout, so its functions find the files afterwards
without asking any server. A target says which files are already there, where a file is
downloaded to (an ``.incomplete`` name), and publishes a verified file by rename.

Cache layout, as ``hf_hub_download`` leaves it: ``blobs/<etag>``, relative symlinks
``snapshots/<commit>/<path>``, ``refs/<revision>``, and ``trees/<commit>.json`` when the
whole snapshot was downloaded (what lets ``snapshot_download`` work with ``HF_HUB_OFFLINE=1``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from hubmirror.client.listing import RemoteFile, tree_files
from hubmirror.storage.hfcache import CacheWriter
from hubmirror.types import RepoId


class Target(Protocol):
    def key(self, remote: RemoteFile) -> str:
        """Files with one key are downloaded once (the cache stores a blob once)."""

    def reuse(self, group: list[RemoteFile]) -> bool:
        """True (and the group is in place) when nothing needs to be downloaded."""

    def partial_path(self, remote: RemoteFile) -> Path: ...

    def publish(self, group: list[RemoteFile], verified: Path) -> None: ...

    def finish(self, files: list[RemoteFile], whole: bool) -> Path:
        """Record the download (refs, tree); the path to show the user."""


class CacheTarget:
    """One repo in a huggingface_hub cache (``HF_HUB_CACHE``)."""

    def __init__(self, root: Path, repo: RepoId, revision: str, commit: str) -> None:
        self.writer = CacheWriter(root, repo)
        self.revision = revision
        self.commit = commit

    def key(self, remote: RemoteFile) -> str:
        return remote.entry.etag

    def reuse(self, group: list[RemoteFile]) -> bool:
        blob = self.writer.blob_path(group[0].entry.etag)
        if not blob.is_file() or blob.stat().st_size != group[0].entry.size:
            return False
        self._link(group)
        return True

    def partial_path(self, remote: RemoteFile) -> Path:
        blob = self.writer.blob_path(remote.entry.etag)
        return blob.with_name(blob.name + ".incomplete")

    def publish(self, group: list[RemoteFile], verified: Path) -> None:
        os.replace(verified, self.writer.blob_path(group[0].entry.etag))
        self._link(group)

    def finish(self, files: list[RemoteFile], whole: bool) -> Path:
        if self.revision != self.commit:
            self.writer.ref(self.revision, self.commit)
        if whole:
            self.writer.tree(self.commit, tree_files(files))
        snapshot = self.writer.folder / "snapshots" / self.commit
        snapshot.mkdir(parents=True, exist_ok=True)
        return snapshot

    def _link(self, group: list[RemoteFile]) -> None:
        for remote in group:
            self.writer.link(self.commit, remote.path, remote.entry.etag)
