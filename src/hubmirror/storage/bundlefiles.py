"""A bundle's container: a directory or an uncompressed tar holding the same tree.

::

    manifest.json            what the bundle carries (the mirror layer writes and reads it)
    manifest.sha256          "<sha256>  manifest.json", as ``sha256sum`` writes it
    blobs/sha256/<digest>    each blob once, named by its sha256

This module knows files, digests and sizes only. A tar starts with the two
manifest files, so an importer can check the manifest before it reads a single
blob, and reads members one after another: a tar is streamed, never extracted
whole. A directory gets its manifest last, so an interrupted export leaves a
directory without one, which no import accepts.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from hubmirror.progress import Progress
from hubmirror.storage.hfcache import place_file
from hubmirror.storage.writer import BlobWriter, Expected, Verified
from hubmirror.types import is_digest

MANIFEST = "manifest.json"
CHECKSUM = "manifest.sha256"
BLOBS = "blobs/sha256"
CHUNK = 1024 * 1024
MAX_MANIFEST = 1024 * 1024 * 1024  # a manifest past 1 GiB is not one we wrote

OnBytes = Callable[[int], None]


class BundleError(Exception):
    """A bundle that cannot be used as it is; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class OutgoingBlob:
    digest: str
    source: Path  # the blob in the store
    size: int


@dataclass(frozen=True, slots=True)
class IncomingBlob:
    """One blob file of a bundle; ``open`` is valid until the reader moves on."""

    name: str  # as in the container, for messages
    digest: str
    size: int
    open: Callable[[], contextlib.AbstractContextManager[BinaryIO]]


def blob_name(digest: str) -> str:
    return f"{BLOBS}/{digest}"


def checksum_text(manifest: bytes) -> str:
    return f"{hashlib.sha256(manifest).hexdigest()}  {MANIFEST}\n"


def is_tar_target(target: Path) -> bool:
    return target.suffix == ".tar"


# writing ----------------------------------------------------------------------
def write_dir(target: Path, manifest: bytes, blobs: list[OutgoingBlob], progress: Progress) -> None:
    """Blobs first (hard links to the store when on its filesystem), the manifest last."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BundleError(f"{target}: exists and is not an empty directory")
    for blob in blobs:
        placed = target / blob_name(blob.digest)
        if not place_file(blob.source, placed):  # copied: make the copy durable too
            with placed.open("rb") as handle:
                os.fsync(handle.fileno())
        progress.advance(blob.size)
        progress.file_done()
    _write_file(target / MANIFEST, manifest)
    _write_file(target / CHECKSUM, checksum_text(manifest).encode())


def write_tar(target: Path, manifest: bytes, blobs: list[OutgoingBlob], progress: Progress) -> None:
    """Stream an uncompressed tar into ``target.partial``, renamed once complete.

    Model weights don't compress; a plain tar costs no CPU and can be read as a stream.
    """
    if target.exists():
        raise BundleError(f"{target}: already exists")
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open("wb") as raw:
            with tarfile.open(
                fileobj=raw, mode="w", format=tarfile.PAX_FORMAT, copybufsize=CHUNK
            ) as tar:
                _add_bytes(tar, MANIFEST, manifest)
                _add_bytes(tar, CHECKSUM, checksum_text(manifest).encode())
                for blob in blobs:
                    _add_blob(tar, blob, progress)
            _make_durable(raw)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _add_blob(tar: tarfile.TarFile, blob: OutgoingBlob, progress: Progress) -> None:
    info = _file_info(blob_name(blob.digest), blob.size)
    with blob.source.open("rb") as source:
        tar.addfile(info, _Counting(source, progress.advance))
    progress.file_done()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    tar.addfile(_file_info(name, len(data)), io.BytesIO(data))


def _file_info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o644, 0
    return info


class _Counting:
    """A file reader that reports the bytes read, for progress."""

    def __init__(self, source: BinaryIO, on_bytes: OnBytes) -> None:
        self._source, self._on_bytes = source, on_bytes

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self._on_bytes(len(data))
        return data


def _write_file(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with temp.open("wb") as handle:
        handle.write(data)
        _make_durable(handle)
    os.replace(temp, path)


def _make_durable(handle: BinaryIO) -> None:
    """Flush and fsync before the rename, so a crash cannot publish an empty file."""
    handle.flush()
    os.fsync(handle.fileno())


# reading ----------------------------------------------------------------------
class BundleReader:
    """The manifest (bytes and checksum line) up front, then the blob files in order."""

    manifest: bytes
    checksum: str

    def blobs(self) -> Iterator[IncomingBlob]:
        raise NotImplementedError


@contextlib.contextmanager
def open_bundle(source: Path) -> Iterator[BundleReader]:
    """A reader for a bundle directory or ``.tar`` file."""
    if source.is_dir():
        yield DirReader(source)
        return
    if not source.is_file():
        raise BundleError(f"{source}: no such bundle directory or tar file")
    with source.open("rb") as raw:
        try:
            with tarfile.open(fileobj=raw, mode="r|", copybufsize=CHUNK) as tar:
                yield TarReader(source, tar)
        except tarfile.TarError as exc:
            raise BundleError(f"{source}: not a readable tar file ({exc})") from None


class DirReader(BundleReader):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.manifest = _read_small(root / MANIFEST)
        self.checksum = _read_small(root / CHECKSUM).decode(errors="replace")

    def blobs(self) -> Iterator[IncomingBlob]:
        folder = self.root / BLOBS
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            name = f"{BLOBS}/{path.name}"
            if not is_digest(path.name) or not path.is_file():
                raise BundleError(f"{name}: not a blob file (blobs are named by their sha256)")
            yield IncomingBlob(name, path.name, path.stat().st_size, lambda p=path: p.open("rb"))


def _read_small(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_MANIFEST:
            raise BundleError(f"{path.name}: too large for a manifest")
        return path.read_bytes()
    except FileNotFoundError:
        raise BundleError(
            f"{path.name}: missing (not a bundle, or its export was interrupted)"
        ) from None


class TarReader(BundleReader):
    def __init__(self, path: Path, tar: tarfile.TarFile) -> None:
        self.path, self.tar = path, tar
        found: dict[str, bytes] = {}
        while len(found) < 2:
            member = self._next()
            if member is None or member.name not in (MANIFEST, CHECKSUM) or not member.isfile():
                what = "ends" if member is None else f"has {member.name!r}"
                raise BundleError(
                    f"{path}: {what} where {MANIFEST} and {CHECKSUM} must come first"
                    " (not a hubmirror bundle, or truncated)"
                )
            if member.size > MAX_MANIFEST:
                raise BundleError(f"{path}: {member.name} is too large for a manifest")
            found[member.name] = self._read_all(member)
        self.manifest = found[MANIFEST]
        self.checksum = found[CHECKSUM].decode(errors="replace")

    def blobs(self) -> Iterator[IncomingBlob]:
        while (member := self._next()) is not None:
            if member.isdir() and member.name in ("blobs", BLOBS):
                continue
            digest = member.name.removeprefix(BLOBS + "/")
            if not member.isfile() or not member.name.startswith(BLOBS + "/"):
                raise BundleError(f"{self.path}: unexpected member {member.name!r}")
            if not is_digest(digest):
                raise BundleError(f"{member.name}: not a blob file (blobs are named by sha256)")
            yield IncomingBlob(member.name, digest, member.size, lambda m=member: self._open(m))

    def _next(self) -> tarfile.TarInfo | None:
        try:
            member = self.tar.next()
        except (tarfile.TarError, EOFError) as exc:
            raise BundleError(f"{self.path}: truncated or damaged tar ({exc})") from None
        if member is not None:
            member.name = member.name.removeprefix("./")
        return member

    def _read_all(self, member: tarfile.TarInfo) -> bytes:
        with self._open(member) as stream:
            data = stream.read()
        if len(data) != member.size:
            raise BundleError(f"{member.name}: truncated ({len(data)} of {member.size} bytes)")
        return data

    @contextlib.contextmanager
    def _open(self, member: tarfile.TarInfo) -> Iterator[BinaryIO]:
        stream = self.tar.extractfile(member)
        assert stream is not None  # regular files only
        try:
            yield stream
        except (tarfile.TarError, EOFError) as exc:
            raise BundleError(f"{member.name}: truncated ({exc})") from None


# staging ----------------------------------------------------------------------
def copy_verified(
    blob: IncomingBlob, temp: Path, expected: Expected, on_bytes: OnBytes
) -> Verified:
    """Copy a bundle's blob to ``temp``, hashing as it goes; raise unless it is as expected.

    The hashes are fed right behind the writes, while the bytes are still in the page
    cache, so each blob is read from the bundle once.
    """
    writer = BlobWriter(temp, expected)
    try:
        with blob.open() as stream:
            offset = _copy(stream, writer, on_bytes)
        if offset != expected.size:
            raise BundleError(f"{blob.name}: truncated ({offset} of {expected.size} bytes)")
        return writer.finish()
    except BaseException:
        writer.discard()
        raise


def _copy(stream: BinaryIO, writer: BlobWriter, on_bytes: OnBytes) -> int:
    offset = 0
    while chunk := stream.read(CHUNK):
        writer.write_at(offset, chunk)
        offset += len(chunk)
        writer.hash_until(offset)
        on_bytes(len(chunk))
    return offset
