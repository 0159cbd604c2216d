"""``--local-dir DIR``: plain files at ``DIR/<path>``, as ``hf download --local-dir`` leaves them.

huggingface_hub 2.4 keeps, for every file, ``DIR/.cache/huggingface/download/<path>.metadata``
with three lines: the commit, the etag and the time it was written. A file whose metadata
is at least as new as the file itself is trusted: ``hf_hub_download(local_dir=DIR)`` at that
commit then returns it without a request, and at a branch it only compares the etag. So
the metadata is written right after the file is in place.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from hubmirror.client.listing import RemoteFile, tree_files
from hubmirror.storage.hfcache import CacheWriter

CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by hubmirror download.\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)


class LocalDirTarget:
    def __init__(self, root: Path, commit: str) -> None:
        self.root = root
        self.commit = commit
        self.meta_root = root / ".cache" / "huggingface"

    def key(self, remote: RemoteFile) -> str:
        return remote.path

    def reuse(self, group: list[RemoteFile]) -> bool:
        """The file is there, unchanged since it was written, with this etag."""
        remote = group[0]
        recorded = self._read_metadata(remote.path)
        target = self.root / remote.path
        try:
            stat = target.stat()
        except OSError:
            return False
        fresh = recorded is not None and stat.st_mtime - 1 <= recorded[2]
        if not fresh or recorded[1] != remote.entry.etag or stat.st_size != remote.entry.size:
            return False
        if recorded[0] != self.commit:
            self._write_metadata(remote)
        return True

    def partial_path(self, remote: RemoteFile) -> Path:
        return self.meta_root / "download" / f"{remote.path}.incomplete"

    def publish(self, group: list[RemoteFile], verified: Path) -> None:
        remote = group[0]
        target = self.root / remote.path
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(verified, target)
        self._write_metadata(remote)

    def finish(self, files: list[RemoteFile], whole: bool) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        if whole:
            _LocalDirTrees(self.meta_root).tree(self.commit, tree_files(files))
        return self.root

    def _metadata_path(self, path: str) -> Path:
        return self.meta_root / "download" / f"{path}.metadata"

    def _read_metadata(self, path: str) -> tuple[str, str, float] | None:
        with contextlib.suppress(OSError, ValueError):
            commit, etag, stamp = self._metadata_path(path).read_text().splitlines()[:3]
            return commit.strip(), etag.strip(), float(stamp)
        return None

    def _write_metadata(self, remote: RemoteFile) -> None:
        self._mark_folder()
        metadata = self._metadata_path(remote.path)
        metadata.parent.mkdir(parents=True, exist_ok=True)
        temp = metadata.with_name(metadata.name + ".tmp")
        temp.write_text(f"{self.commit}\n{remote.entry.etag}\n{time.time()}\n")
        os.replace(temp, metadata)

    def _mark_folder(self) -> None:
        """``.gitignore`` and ``CACHEDIR.TAG``, as huggingface_hub puts them there."""
        self.meta_root.mkdir(parents=True, exist_ok=True)
        for name, text in ((".gitignore", "*"), ("CACHEDIR.TAG", CACHEDIR_TAG)):
            if not (self.meta_root / name).exists():
                (self.meta_root / name).write_text(text)


class _LocalDirTrees(CacheWriter):
    """``trees/<commit>.json`` under ``DIR/.cache/huggingface``, where huggingface_hub keeps
    the listing of a local-dir download (same format as in the cache)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
