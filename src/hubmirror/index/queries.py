"""Typed queries over the index: every SQL statement of the mirror lives here.

Functions take and return ``hubmirror.types`` values, never rows, so the mirror
layer reads like the Hub's vocabulary (revision → commit → entry → blob).
"""

from __future__ import annotations

from dataclasses import dataclass

from hubmirror.index.database import Database
from hubmirror.types import FileEntry, RepoId


@dataclass(frozen=True, slots=True)
class KnownCommit:
    commit: str
    fetched_at: float


@dataclass(frozen=True, slots=True)
class StoredBlob:
    sha256: str
    git_sha1: str
    size: int


@dataclass(frozen=True, slots=True)
class ApiAnswer:
    status: int
    body: bytes
    link_next: str | None
    fetched_at: float


class Index:
    def __init__(self, db: Database) -> None:
        self.db = db

    # revisions -------------------------------------------------------------
    def get_commit(self, repo: RepoId, revision: str) -> KnownCommit | None:
        row = self.db.execute(
            "SELECT commit_sha, fetched_at FROM revisions"
            " WHERE repo_type=? AND repo_id=? AND revision=?",
            (repo.repo_type.value, repo.name, revision),
        ).fetchone()
        return KnownCommit(*row) if row else None

    def put_commit(self, repo: RepoId, revision: str, commit: str, now: float) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO revisions VALUES (?, ?, ?, ?, ?)",
            (repo.repo_type.value, repo.name, revision, commit, now),
        )

    # entries ---------------------------------------------------------------
    def get_entry(self, repo: RepoId, commit: str, path: str) -> FileEntry | None:
        row = self.db.execute(
            "SELECT path, size, etag, lfs, sha256 FROM entries"
            " WHERE repo_type=? AND repo_id=? AND commit_sha=? AND path=?",
            (repo.repo_type.value, repo.name, commit, path),
        ).fetchone()
        if not row:
            return None
        return FileEntry(path=row[0], size=row[1], etag=row[2], lfs=bool(row[3]), sha256=row[4])

    def put_entries(self, repo: RepoId, commit: str, entries: list[FileEntry]) -> None:
        rows = [
            (repo.repo_type.value, repo.name, commit, e.path, e.size, e.etag, int(e.lfs), e.sha256)
            for e in entries
        ]
        self.db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def is_missing(self, repo: RepoId, commit: str, path: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM missing_entries"
            " WHERE repo_type=? AND repo_id=? AND commit_sha=? AND path=?",
            (repo.repo_type.value, repo.name, commit, path),
        ).fetchone()
        return row is not None

    def put_missing(self, repo: RepoId, commit: str, path: str, now: float) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO missing_entries VALUES (?, ?, ?, ?, ?)",
            (repo.repo_type.value, repo.name, commit, path, now),
        )

    # blobs -----------------------------------------------------------------
    def blob_for(self, entry: FileEntry) -> StoredBlob | None:
        """The stored blob holding ``entry``'s bytes: by sha256 for LFS, by git sha1 otherwise."""
        if entry.sha256:
            sql, key = "SELECT sha256, git_sha1, size FROM blobs WHERE sha256=?", entry.sha256
        else:
            sql, key = "SELECT sha256, git_sha1, size FROM blobs WHERE git_sha1=?", entry.etag
        row = self.db.execute(sql, (key,)).fetchone()
        return StoredBlob(*row) if row else None

    def put_blob(self, blob: StoredBlob, now: float) -> None:
        self.db.execute(
            "INSERT INTO blobs VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(sha256) DO UPDATE SET last_access=excluded.last_access",
            (blob.sha256, blob.git_sha1, blob.size, now, now),
        )

    def touch_blobs(self, touched: dict[str, float]) -> None:
        self.db.executemany(
            "UPDATE blobs SET last_access=? WHERE sha256=?",
            [(when, sha256) for sha256, when in touched.items()],
        )

    def forget_blob(self, sha256: str) -> None:
        self.db.execute("DELETE FROM blobs WHERE sha256=?", (sha256,))

    # API answers -----------------------------------------------------------
    def get_answer(self, key: str) -> ApiAnswer | None:
        row = self.db.execute(
            "SELECT status, body, link_next, fetched_at FROM api_answers WHERE key=?", (key,)
        ).fetchone()
        return ApiAnswer(*row) if row else None

    def put_answer(self, key: str, repo: RepoId, answer: ApiAnswer) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO api_answers VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                repo.repo_type.value,
                repo.name,
                answer.status,
                answer.body,
                answer.link_next,
                answer.fetched_at,
            ),
        )

    # repo visibility -------------------------------------------------------
    def get_visibility(self, repo: RepoId) -> tuple[str, float] | None:
        row = self.db.execute(
            "SELECT visibility, checked_at FROM repos WHERE repo_type=? AND repo_id=?",
            (repo.repo_type.value, repo.name),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def put_visibility(self, repo: RepoId, visibility: str, now: float) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO repos VALUES (?, ?, ?, ?)",
            (repo.repo_type.value, repo.name, visibility, now),
        )
