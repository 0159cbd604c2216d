"""Xet hashes of stored blobs, and the secret that signs the mirror's Xet tokens and URLs.

A Xet client asks by Xet hash only; these queries lead from it to the blob, and
from a token's repo to whether that repo has the blob at all.
"""

from __future__ import annotations

from typing import NamedTuple

from hubmirror.index.database import SqlDatabase, upsert_sql
from hubmirror.index.leases import cluster_secret
from hubmirror.index.records import StoredBlob
from hubmirror.types import RepoId

_ANNOUNCE = upsert_sql(
    "xet_announced", ("xet_hash", "sha256", "size", "announced_at"), ("xet_hash",)
)
_OFFER = upsert_sql("xet_offered", ("xet_hash", "sha256", "size", "offered_at"), ("xet_hash",))


class Announced(NamedTuple):
    """Upstream's Xet hash of a blob being filled, and the blob's size."""

    xet_hash: str
    size: int


class XetRecords:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def put(self, sha256: str, xet_hash: str, now: float) -> None:
        self.db.execute(
            "INSERT INTO xet_hashes (sha256, xet_hash, computed_at) VALUES (?, ?, ?)"
            " ON CONFLICT (sha256) DO UPDATE SET xet_hash=excluded.xet_hash,"
            " computed_at=excluded.computed_at",
            (sha256, xet_hash, now),
        )

    def xet_hash_of(self, sha256: str) -> str | None:
        row = self.db.execute(
            "SELECT xet_hash FROM xet_hashes WHERE sha256=?", (sha256,)
        ).fetchone()
        return row[0] if row else None

    def sha256_of(self, xet_hash: str) -> str | None:
        """The sha256 of the bytes this mirror verified to have ``xet_hash``, stored or not."""
        row = self.db.execute(
            "SELECT sha256 FROM xet_hashes WHERE xet_hash=? LIMIT 1", (xet_hash,)
        ).fetchone()
        return row[0] if row else None

    def blob_of(self, xet_hash: str) -> StoredBlob | None:
        """The stored blob whose bytes have this Xet hash."""
        row = self.db.execute(
            "SELECT b.sha256, b.git_sha1, b.size FROM xet_hashes x"
            " JOIN blobs b ON b.sha256 = x.sha256 WHERE x.xet_hash=?",
            (xet_hash,),
        ).fetchone()
        return StoredBlob(*row) if row else None

    def announce(self, xet_hash: str, sha256: str, size: int, now: float) -> None:
        """A fill of blob ``sha256`` checks upstream's ``xet_hash`` now (cold files)."""
        self.db.execute(_ANNOUNCE, (xet_hash, sha256, size, now))

    def withdraw(self, xet_hash: str, sha256: str) -> None:
        """The fill that checked ``xet_hash`` ended (stored, failed or stopped)."""
        self.db.execute(
            "DELETE FROM xet_announced WHERE xet_hash=? AND sha256=?", (xet_hash, sha256)
        )

    def announced_blob(self, xet_hash: str) -> StoredBlob | None:
        """The blob a running fill (in any process or node) checks ``xet_hash`` for."""
        row = self.db.execute(
            "SELECT sha256, size FROM xet_announced WHERE xet_hash=?", (xet_hash,)
        ).fetchone()
        return StoredBlob(row[0], "", row[1]) if row else None

    def announced_for(self, sha256: str) -> Announced | None:
        """The Xet hash a running fill of blob ``sha256`` checks, if any."""
        row = self.db.execute(
            "SELECT xet_hash, size FROM xet_announced WHERE sha256=? ORDER BY announced_at DESC",
            (sha256,),
        ).fetchone()
        return Announced(*row) if row else None

    def offer(self, xet_hash: str, sha256: str, size: int, now: float) -> None:
        """A HEAD passed on upstream's ``xet_hash`` of blob ``sha256``, not stored yet."""
        self.db.execute(_OFFER, (xet_hash, sha256, size, now))

    def offered_blob(self, xet_hash: str) -> StoredBlob | None:
        """The blob upstream announced ``xet_hash`` for, as a HEAD passed it on."""
        row = self.db.execute(
            "SELECT sha256, size FROM xet_offered WHERE xet_hash=?", (xet_hash,)
        ).fetchone()
        return StoredBlob(row[0], "", row[1]) if row else None

    def offered_for(self, sha256: str) -> str | None:
        """The Xet hash a HEAD passed on for blob ``sha256``, if any."""
        row = self.db.execute(
            "SELECT xet_hash FROM xet_offered WHERE sha256=? ORDER BY offered_at DESC",
            (sha256,),
        ).fetchone()
        return row[0] if row else None

    def withdraw_offer(self, sha256: str) -> None:
        """Upstream's hash of blob ``sha256`` proved wrong: no reconstruction may use it."""
        self.db.execute("DELETE FROM xet_offered WHERE sha256=?", (sha256,))

    def unhashed_lfs_blobs(self) -> list[StoredBlob]:
        """Stored blobs of LFS files that have no Xet hash yet (after an import or a sync)."""
        rows = self.db.execute(
            "SELECT DISTINCT b.sha256, b.git_sha1, b.size FROM blobs b"
            " JOIN entries e ON e.sha256 = b.sha256 AND e.lfs = 1"
            " LEFT JOIN xet_hashes x ON x.sha256 = b.sha256"
            " WHERE x.sha256 IS NULL AND b.size > 0 ORDER BY b.sha256"
        ).fetchall()
        return [StoredBlob(*row) for row in rows]

    def file_with_blob(self, repo: RepoId, blob: StoredBlob) -> tuple[str, str] | None:
        """A (commit, path) of ``repo`` whose file has these bytes, if any commit known has."""
        row = self.db.execute(
            "SELECT commit_sha, path FROM entries WHERE repo_type=? AND repo_id=?"
            " AND (sha256=? OR (lfs=0 AND etag=?)) LIMIT 1",
            (repo.repo_type.value, repo.canonical, blob.sha256, blob.git_sha1),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def secret(self) -> str:
        """Signs the mirror's Xet tokens and xorb URLs; shared by every node of a cluster."""
        return cluster_secret(self.db, "xet_secret")
