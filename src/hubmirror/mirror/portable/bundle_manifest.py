"""A bundle's manifest: the index rows of the repos it carries and the list of its blobs.

The manifest is JSON (``format: hubmirror-bundle``, ``version: 1``). Every byte
string the index keeps (stored API answers, snapshot info and tree) travels
base64-encoded, so the importing mirror answers with exactly the bytes the
exporting one did. ``manifest.sha256`` beside it holds the manifest's digest: a
truncated or edited manifest is refused before anything else is read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from hubmirror.errors import InvalidInput
from hubmirror.index.queries import ApiAnswer, RepoRecord, Snapshot, StoredBlob
from hubmirror.mirror.answers.api import canonical_answer_key
from hubmirror.storage.bundlefiles import CHECKSUM, MANIFEST, BundleError
from hubmirror.types import (
    FileEntry,
    RepoId,
    RepoPath,
    RepoType,
    Revision,
    check_commit,
    is_digest,
)

FORMAT = "hubmirror-bundle"
VERSION = 1


@dataclass(frozen=True, slots=True)
class CarriedRepo:
    repo: RepoId
    record: RepoRecord


@dataclass(frozen=True, slots=True)
class Manifest:
    created_at: float
    selection: tuple[str, ...]  # the REPO@REV arguments of the export
    repos: tuple[CarriedRepo, ...]
    blobs: tuple[StoredBlob, ...]  # sorted by sha256, each once

    @property
    def total_bytes(self) -> int:
        return sum(b.size for b in self.blobs)

    @property
    def file_count(self) -> int:
        return sum(len(es) for r in self.repos for es in r.record.entries.values())


# encoding ---------------------------------------------------------------------
def encode_manifest(manifest: Manifest) -> bytes:
    body = {
        "format": FORMAT,
        "version": VERSION,
        "created_at": manifest.created_at,
        "selection": list(manifest.selection),
        "repos": [_encode_repo(r) for r in manifest.repos],
        "blobs": [
            {"sha256": b.sha256, "git_sha1": b.git_sha1, "size": b.size} for b in manifest.blobs
        ],
    }
    return json.dumps(body, indent=1, sort_keys=True).encode()


def _encode_repo(carried: CarriedRepo) -> dict:
    record = carried.record
    return {
        "repo_type": carried.repo.repo_type.value,
        "repo_id": carried.repo.name,
        "visibility": record.visibility[0] if record.visibility else None,
        "revisions": record.revisions,
        "snapshots": [
            {
                "commit": s.commit,
                "info": _b64(s.info),
                "tree": _b64(s.tree),
                "fetched_at": s.fetched_at,
            }
            for s in record.snapshots
        ],
        "entries": {c: [_encode_entry(e) for e in es] for c, es in record.entries.items()},
        "missing": record.missing,
        "answers": {
            key: {
                "status": a.status,
                "body": _b64(a.body),
                "link_next": a.link_next,
                "fetched_at": a.fetched_at,
            }
            for key, a in record.answers.items()
        },
    }


def _encode_entry(entry: FileEntry) -> dict:
    return {
        "path": entry.path,
        "size": entry.size,
        "etag": entry.etag,
        "lfs": entry.lfs,
        "sha256": entry.sha256,
    }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# decoding ---------------------------------------------------------------------
def read_manifest(body: bytes, checksum: str) -> Manifest:
    """The manifest, once its digest matches ``manifest.sha256`` and its content is sound."""
    expected = checksum.split(maxsplit=1)[0] if checksum.strip() else ""
    actual = hashlib.sha256(body).hexdigest()
    if not is_digest(expected):
        raise BundleError(f"{CHECKSUM}: does not hold a sha256 digest")
    if actual != expected:
        raise BundleError(
            f"{MANIFEST}: sha256 {actual} does not match {CHECKSUM} ({expected}):"
            " the manifest was truncated or edited"
        )
    try:
        return _decode(json.loads(body))
    except (KeyError, TypeError, ValueError, AttributeError, InvalidInput) as exc:
        raise BundleError(f"{MANIFEST}: not a manifest this hubmirror can read ({exc})") from None


def _decode(data: dict[str, Any]) -> Manifest:
    if data.get("format") != FORMAT:
        raise ValueError(f"format is {data.get('format')!r}, not {FORMAT!r}")
    if data.get("version") != VERSION:
        raise ValueError(f"version {data.get('version')!r}; this hubmirror reads version {VERSION}")
    blobs = tuple(_decode_blob(b) for b in data["blobs"])
    if len({b.sha256 for b in blobs}) != len(blobs):
        raise ValueError("a blob is listed twice")
    return Manifest(
        created_at=float(data["created_at"]),
        selection=tuple(str(s) for s in data["selection"]),
        repos=tuple(_decode_repo(r) for r in data["repos"]),
        blobs=blobs,
    )


def _decode_blob(item: dict[str, Any]) -> StoredBlob:
    sha256, git_sha1, size = item["sha256"], item["git_sha1"], item["size"]
    if not is_digest(sha256) or not isinstance(git_sha1, str):
        raise ValueError(f"bad blob digest {sha256!r}")
    if not isinstance(size, int) or size < 0:
        raise ValueError(f"bad size of blob {sha256}")
    return StoredBlob(sha256, git_sha1, size)


def _decode_repo(item: dict[str, Any]) -> CarriedRepo:
    repo = RepoId(RepoType(item["repo_type"]), item["repo_id"])
    visibility = item["visibility"]
    record = RepoRecord(
        visibility=(str(visibility), 0.0) if visibility else None,
        revisions={Revision(r).value: check_commit(c) for r, c in item["revisions"].items()},
        snapshots=[_decode_snapshot(s) for s in item["snapshots"]],
        entries={
            check_commit(c): [_decode_entry(e) for e in es] for c, es in item["entries"].items()
        },
        missing={
            check_commit(c): [RepoPath(p).value for p in ps] for c, ps in item["missing"].items()
        },
        answers={
            canonical_answer_key(str(k), repo): _decode_answer(a)
            for k, a in item["answers"].items()
        },
    )
    return CarriedRepo(repo, record)


def _decode_snapshot(item: dict[str, Any]) -> Snapshot:
    return Snapshot(
        check_commit(item["commit"]),
        _unb64(item["info"]),
        _unb64(item["tree"]),
        float(item["fetched_at"]),
    )


def _decode_entry(item: dict[str, Any]) -> FileEntry:
    sha256 = item["sha256"]
    if sha256 is not None and not is_digest(sha256):
        raise ValueError(f"bad sha256 of {item['path']!r}")
    return FileEntry(
        RepoPath(item["path"]).value,
        int(item["size"]),
        str(item["etag"]),
        bool(item["lfs"]),
        sha256,
    )


def _decode_answer(item: dict[str, Any]) -> ApiAnswer:
    link = item["link_next"]
    return ApiAnswer(
        int(item["status"]),
        _unb64(item["body"]),
        None if link is None else str(link),
        float(item["fetched_at"]),
    )


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"bad base64 ({exc})") from None
