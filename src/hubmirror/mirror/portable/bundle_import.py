"""``hubmirror import``: verify a whole bundle, then make it visible at once.

Order, and why:

1. the manifest's checksum, before anything else is believed;
2. every blob copied into a staging folder under ``DATA/tmp``, hashed while it is
   copied and checked against the manifest's sha256 (and git sha1) and size;
3. only when everything checked out: the blobs renamed into the store, then every
   index row written in one transaction.

Until step 3's transaction commits, the index knows nothing of the bundle, so the
mirror serves nothing of it: an import that fails or is killed (even mid-rename)
leaves at most verified, unreferenced blobs in the store and a staging folder that
the next start sweeps. A blob the store already holds is not copied again, and
repos whose rows are already there are not rewritten: importing twice changes nothing.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hubmirror.errors import IntegrityError
from hubmirror.index.queries import Index, RepoRecord, StoredBlob
from hubmirror.mirror.portable.bundle_manifest import Manifest, read_manifest
from hubmirror.progress import Progress, human_bytes
from hubmirror.storage.blobs import BlobStore
from hubmirror.storage.bundlefiles import (
    MANIFEST,
    BundleError,
    BundleReader,
    IncomingBlob,
    blob_name,
    copy_verified,
    open_bundle,
)
from hubmirror.storage.locks import FileLock
from hubmirror.storage.writer import Expected


@dataclass(frozen=True, slots=True)
class ImportSummary:
    source: Path
    repos: int
    repos_updated: int
    files: int
    blobs_new: int
    blobs_present: int
    bytes_new: int

    def __str__(self) -> str:
        return (
            f"imported {self.source}: {self.repos} repo(s) ({self.repos_updated} updated, "
            f"{self.repos - self.repos_updated} already up to date), {self.files} file(s), "
            f"{self.blobs_new} new blob(s) ({human_bytes(self.bytes_new)}), "
            f"{self.blobs_present} already stored"
        )


def import_bundle(
    index: Index, store: BlobStore, source: Path, progress: Progress
) -> ImportSummary:
    """Import a bundle directory or tar; ``BundleError`` (nothing imported) on any problem."""
    with open_bundle(source) as reader:
        manifest = read_manifest(reader.manifest, reader.checksum)
        with open_staging(store, progress) as staging:
            staged = stage_blobs(reader, manifest, staging)
            updated = publish(index, store, manifest, staged)
    new = [b for b in manifest.blobs if staged[b.sha256] is not None]
    return ImportSummary(
        source,
        repos=len(manifest.repos),
        repos_updated=updated,
        files=manifest.file_count,
        blobs_new=len(new),
        blobs_present=len(manifest.blobs) - len(new),
        bytes_new=sum(b.size for b in new),
    )


@dataclass(frozen=True, slots=True)
class Staging:
    """Where incoming blobs wait, verified, until the whole bundle has checked out."""

    folder: Path
    store: BlobStore
    progress: Progress

    def stage(self, incoming: IncomingBlob, blob: StoredBlob) -> Path | None:
        """Copy and verify one blob; ``None`` when the store already holds it."""
        if self.store.size_of(blob.sha256) == blob.size:
            self.progress.advance(blob.size)  # verified when it was stored: not copied again
            return None
        temp = self.folder / blob.sha256
        expected = Expected(blob.size, blob.sha256, blob.git_sha1 or None)
        try:
            copy_verified(incoming, temp, expected, self.progress.advance)
        except IntegrityError as exc:
            raise BundleError(f"{incoming.name}: {exc.message}") from None
        except OSError as exc:
            raise BundleError(f"{incoming.name}: cannot stage it ({exc.strerror or exc})") from None
        return temp


@contextlib.contextmanager
def open_staging(store: BlobStore, progress: Progress) -> Iterator[Staging]:
    """``tmp/import-<id>.staging``, locked by ``tmp/import-<id>.lock`` while we live.

    The lock tells the start-up sweep of another process (a server starting now) to
    leave the folder alone; once we are dead, the sweep removes it.
    """
    name = f"import-{secrets.token_hex(8)}"
    lock = FileLock.try_acquire(store.tmp / f"{name}.lock")
    if lock is None:  # a random name nobody else uses: cannot happen in practice
        raise BundleError(f"{store.tmp}: cannot lock a staging folder")
    folder = store.tmp / f"{name}.staging"
    try:
        folder.mkdir()
        yield Staging(folder, store, progress)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        lock.release()


def stage_blobs(
    reader: BundleReader, manifest: Manifest, staging: Staging
) -> dict[str, Path | None]:
    """Copy and verify every blob of the bundle: digest -> staged file (``None``: stored)."""
    wanted = {b.sha256: b for b in manifest.blobs}
    staging.progress.add_total(manifest.total_bytes, len(wanted))
    staged: dict[str, Path | None] = {}
    for incoming in reader.blobs():
        blob = wanted.get(incoming.digest)
        if blob is None:
            raise BundleError(f"{incoming.name}: not listed in {MANIFEST}")
        if incoming.digest in staged:
            raise BundleError(f"{incoming.name}: appears twice in the bundle")
        if incoming.size != blob.size:
            raise BundleError(
                f"{incoming.name}: {incoming.size} bytes, but {MANIFEST} says {blob.size}"
            )
        staged[incoming.digest] = staging.stage(incoming, blob)
        staging.progress.file_done()
    absent = [digest for digest in wanted if digest not in staged]
    if absent:
        more = f" (and {len(absent) - 1} more)" if len(absent) > 1 else ""
        raise BundleError(
            f"{blob_name(absent[0])}: missing from the bundle{more};"
            " the bundle is incomplete or its tar file was cut short"
        )
    return staged


def publish(
    index: Index, store: BlobStore, manifest: Manifest, staged: dict[str, Path | None]
) -> int:
    """Blobs into the store, then all new rows in one transaction; the number of repos updated.

    Rows already there are left as they are, timestamps included: a second import of
    the same bundle changes nothing.
    """
    for digest, temp in staged.items():
        if temp is not None:
            store.commit(temp, digest)
    changed = [c for c in manifest.repos if not already_holds(index.record_of(c.repo), c.record)]
    unknown = [b for b in manifest.blobs if not _indexed(index, b)]
    now = time.time()
    with index.atomic():
        for blob in unknown:
            index.put_blob(blob, now)
        for carried in changed:
            index.put_record(carried.repo, carried.record, now)
    return len(changed)


def _indexed(index: Index, blob: StoredBlob) -> bool:
    """Whether the index already records this blob."""
    return index.blob_by_id(blob.sha256) is not None


def already_holds(current: RepoRecord, incoming: RepoRecord) -> bool:
    """Whether the index already has every row ``incoming`` would write (timestamps aside)."""
    snapshots = {(s.commit, s.info, s.tree) for s in current.snapshots}
    answers = {k: (a.status, a.body, a.link_next) for k, a in current.answers.items()}
    visibility = current.visibility[0] if current.visibility else None
    return (
        (incoming.visibility is None or incoming.visibility[0] == visibility)
        and incoming.revisions.items() <= current.revisions.items()
        and all((s.commit, s.info, s.tree) in snapshots for s in incoming.snapshots)
        and all(set(es) <= set(current.entries.get(c, ())) for c, es in incoming.entries.items())
        and all(set(ps) <= set(current.missing.get(c, ())) for c, ps in incoming.missing.items())
        and all(
            answers.get(key) == (a.status, a.body, a.link_next)
            for key, a in incoming.answers.items()
        )
    )
